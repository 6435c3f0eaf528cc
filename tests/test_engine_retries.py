"""Budgets, retries and their classification; verification polling. All on a fake clock."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError

from dr.clock import FakeClock
from dr.engine.events import RunStatus
from dr.engine.session import RunOutcome
from tests.fake_runbooks import Calls, FakeStep, Harness, ListRunbook


def client_error(code: str, status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"injected {code}"},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "ChangeResourceRecordSets")


RETRYABLE = {
    "Throttling": client_error("Throttling"),
    "ThrottlingException": client_error("ThrottlingException"),
    "RequestLimitExceeded": client_error("RequestLimitExceeded"),
    "PriorRequestNotComplete": client_error("PriorRequestNotComplete"),
    "500": client_error("InternalError", 500),
    "503": client_error("ServiceUnavailable", 503),
    "connect-timeout": ConnectTimeoutError(endpoint_url="https://rds.eu-west-1.amazonaws.com"),
    "read-timeout": ReadTimeoutError(endpoint_url="https://rds.eu-west-1.amazonaws.com"),
}
FATAL = {
    "AccessDenied": client_error("AccessDenied", 403),
    "ValidationError": client_error("ValidationError"),
    "InvalidParameterValue": client_error("InvalidParameterValue"),
    "DBInstanceNotFound": client_error("DBInstanceNotFound", 404),
    "NoSuchHostedZone": client_error("NoSuchHostedZone", 404),
}


def run_one(tmp_path: Path, step: FakeStep, clock: FakeClock | None = None) -> RunOutcome:
    return Harness(tmp_path, clock or FakeClock()).run(ListRunbook([step]))


class TestClassification:
    @pytest.mark.parametrize("error", RETRYABLE.values(), ids=RETRYABLE.keys())
    def test_retryable_error_is_retried_and_the_step_succeeds(self, tmp_path: Path, error: Exception) -> None:
        """Throttling, 5xx and timeouts: the act is called again and the step succeeds on attempt 2."""
        calls = Calls()
        outcome = run_one(tmp_path, FakeStep("s", calls, act_errors=[error]))
        step = outcome.report["steps"][0]
        assert (step["status"], step["attempts"]) == ("succeeded", 2)
        assert calls.of("act") == ["s", "s"]

    @pytest.mark.parametrize("error", FATAL.values(), ids=FATAL.keys())
    def test_fatal_error_fails_the_step_without_retry(self, tmp_path: Path, error: Exception) -> None:
        """Access, validation and not-found errors: one attempt, step failed, reason named."""
        calls = Calls()
        outcome = run_one(tmp_path, FakeStep("s", calls, act_errors=[error]))
        step = outcome.report["steps"][0]
        assert (step["status"], step["attempts"]) == ("failed", 1)
        assert "non-retryable" in step["detail"]
        assert outcome.status is RunStatus.FAILED


class TestBudgets:
    def test_budget_exhaustion_stops_retries_with_a_clear_reason(self, tmp_path: Path) -> None:
        """Endless throttling on a 3 s budget: retries stop before the attempt limit, the detail says why."""
        clock, calls = FakeClock(), Calls()
        step = FakeStep("s", calls, budget=3.0, max_attempts=50, act_errors=[client_error("Throttling")] * 50)
        outcome = run_one(tmp_path, step, clock)
        report_step = outcome.report["steps"][0]
        assert report_step["status"] == "failed"
        assert "budget of 3s spent" in report_step["detail"]
        assert "Throttling" in report_step["detail"]
        assert 1 < report_step["attempts"] < 50
        assert clock.monotonic() <= 3.0

    def test_attempt_limit_stops_retries_before_the_budget(self, tmp_path: Path) -> None:
        """A long budget and 3 attempts: exactly 3 calls, the detail names the attempt limit."""
        calls = Calls()
        step = FakeStep("s", calls, budget=600.0, max_attempts=3, act_errors=[client_error("Throttling")] * 5)
        outcome = run_one(tmp_path, step)
        assert calls.of("act") == ["s"] * 3
        assert "attempt limit 3" in outcome.report["steps"][0]["detail"]

    def test_retried_mutation_is_not_repeated_once_it_took_effect(self, tmp_path: Path) -> None:
        """A call that timed out but took effect: the retry re-checks is_done and does not act again."""
        calls = Calls()
        step = FakeStep("s", calls, act_errors=[ReadTimeoutError(endpoint_url="https://x")])

        original = step.is_done
        step.is_done = lambda ctx: bool(calls.of("act")) or original(ctx)  # type: ignore[method-assign]
        step.verify = lambda ctx: True  # type: ignore[method-assign]
        outcome = run_one(tmp_path, step)
        assert calls.of("act") == ["s"]
        assert outcome.report["steps"][0]["status"] == "succeeded"


class TestVerification:
    def test_completion_is_seen_within_two_seconds(self, tmp_path: Path) -> None:
        """verify turns true 7 s after the act: polling with backoff (cap 2 s) notices it within 2 s."""
        clock, calls = FakeClock(), Calls()
        outcome = run_one(tmp_path, FakeStep("s", calls, verify_after=7.0), clock)
        assert outcome.report["steps"][0]["status"] == "succeeded"
        assert 7.0 <= clock.monotonic() <= 9.0
        assert len(calls.of("verify")) >= 4

    def test_never_verified_step_fails_when_its_budget_is_spent(self, tmp_path: Path) -> None:
        """verify never true: the step fails at its budget, saying it was not verified."""
        clock, calls = FakeClock(), Calls()
        outcome = run_one(tmp_path, FakeStep("s", calls, verify_after=1e9, budget=30.0), clock)
        step = outcome.report["steps"][0]
        assert step["status"] == "failed"
        assert "not verified within its budget of 30s" in step["detail"]
        assert clock.monotonic() == pytest.approx(30.0)
