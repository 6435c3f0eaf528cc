"""The run report tells the truth: each step's outcome from the journal of every attempt, RTO/RPO verdicts only
where they mean something, no stale "in flight" after a resume, interrupts that let a called step verify, and
the timeline of a move."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from dr.clock import FakeClock
from dr.engine.events import RunStatus
from dr.engine.journal.local import LocalBackend
from dr.engine.journal.replay import StepRecord
from dr.engine.outcome import Outcome, outcome_of
from dr.engine.report_text import render_text
from dr.engine.session import load_history
from dr.engine.step import PreconditionFailed, RunContext, StepStatus
from dr.engine.timeline import Milestones
from tests.fake_runbooks import Calls, FakeStep, Harness, ListRunbook
from tests.test_engine_journal import crash_after


def outcomes(report: dict[str, Any]) -> dict[str, str]:
    return {s["name"]: s["outcome"] for s in report["steps"]}


class TestOutcome:
    @pytest.mark.parametrize(("status", "mutating", "sent", "expected"), [
        (StepStatus.PLANNED, True, False, Outcome.PLANNED),
        (StepStatus.SUCCEEDED, True, True, Outcome.VERIFIED),
        (StepStatus.SUCCEEDED, False, False, Outcome.CHECKED),
        (StepStatus.ALREADY_DONE, True, False, Outcome.ALREADY_DONE),
        (StepStatus.ALREADY_DONE, True, True, Outcome.VERIFIED),
        (StepStatus.SKIPPED, True, True, Outcome.CALLED),
        (StepStatus.SKIPPED, True, False, Outcome.SKIPPED),
        (StepStatus.FAILED, True, True, Outcome.CALLED),
        (StepStatus.FAILED, True, False, Outcome.FAILED),
    ])
    def test_outcome_follows_status_and_what_was_sent(self, status: StepStatus, mutating: bool, sent: bool,
                                                       expected: Outcome) -> None:
        """A call sent to AWS is never reported as skipped, failed-without-effect or already-done."""
        record = StepRecord(name="s", status=status, mutating=mutating, sent=sent)
        assert outcome_of(record) is expected


class TestInterruptOutcomes:
    def test_first_interrupt_lets_a_called_step_finish_verifying(self, tmp_path: Path) -> None:
        """Ctrl-C after a promotion was called: it verifies within its budget (verified), nothing new starts."""
        calls = Calls()
        harness = Harness(tmp_path, FakeClock())
        steps = [FakeStep("promote", calls, verify_after=5.0, on_act=lambda ctx: harness.stop.set()),
                 FakeStep("dns", calls)]
        outcome = harness.run(ListRunbook(steps))
        assert outcome.status is RunStatus.INTERRUPTED
        assert outcomes(outcome.report) == {"promote": "verified", "dns": "skipped"}
        assert outcome.report["steps"][0]["status"] == "succeeded"
        assert calls.of("act") == ["promote"]

    def test_second_interrupt_leaves_the_step_called_and_resume_reports_it_verified(self, tmp_path: Path) -> None:
        """Ctrl-C twice mid-verify: `called` (not skipped); the resume that finds it done says verified, by the
        interrupted run, never already-done, and acts no more."""
        calls = Calls()
        harness = Harness(tmp_path, FakeClock())
        steps = [FakeStep("promote", calls, verify_after=5.0), FakeStep("dns", calls)]
        session = harness.session(ListRunbook(steps))

        def two_signals(ctx: RunContext) -> None:
            harness.stop.set()
            session.services.halt.set()

        steps[0].on_act = two_signals
        first = session.start()
        assert first.status is RunStatus.INTERRUPTED
        assert outcomes(first.report) == {"promote": "called", "dns": "skipped"}
        assert "called" in render_text(first.report).splitlines()[4]
        harness.stop.clear()
        steps[0].done = True
        resumed = harness.session(ListRunbook(steps)).resume(load_history(LocalBackend(tmp_path), "run-1"))
        assert resumed.status is RunStatus.SUCCEEDED
        promote = resumed.report["steps"][0]
        assert (promote["status"], promote["outcome"]) == ("succeeded", "verified")
        assert "interrupted run" in promote["detail"]
        assert calls.of("act") == ["promote", "dns"]


class TestVerdicts:
    def test_refused_run_has_no_rto_verdict(self, tmp_path: Path) -> None:
        """Refused at a gate before any change: RTO and RPO n/a (refused before any change), never MISSED."""
        gate = FakeStep("rpo-gate", Calls(), mutating=False, check_error=PreconditionFailed("lag 900s > RPO 300s"))
        outcome = Harness(tmp_path, FakeClock()).run(ListRunbook([gate, FakeStep("promote", Calls())]))
        assert outcome.status is RunStatus.REFUSED
        assert outcome.report["rto"]["met"] is None
        assert outcome.report["rto"]["note"] == "n/a (refused before any change)"
        text = render_text(outcome.report)
        assert "RTO n/a (refused before any change)" in text
        assert "MISSED" not in text

    def test_failed_run_that_changed_nothing_has_no_rto_verdict(self, tmp_path: Path) -> None:
        """A read-only step failed before any mutation: RTO and RPO n/a (failed before any change), never MISSED."""
        broken = FakeStep("prechecks", Calls(), mutating=False, check_error=RuntimeError("DescribeDBInstances: boom"))
        outcome = Harness(tmp_path, FakeClock()).run(ListRunbook([broken, FakeStep("promote", Calls())]))
        assert outcome.status is RunStatus.FAILED
        assert (outcome.report["rto"]["met"], outcome.report["rto"]["note"]) == (None, "n/a (failed before any change)")
        assert outcome.report["rpo"]["note"] == "n/a (failed before any change)"
        assert "MISSED" not in render_text(outcome.report)

    def test_already_done_run_does_not_call_its_window_unknown(self, tmp_path: Path) -> None:
        """Everything already in place: RTO and RPO say this run moved nothing, not "window unknown"."""
        outcome = Harness(tmp_path, FakeClock()).run(ListRunbook([FakeStep("promote", Calls(), done=True)]))
        assert outcome.status is RunStatus.ALREADY_DONE
        text = render_text(outcome.report)
        assert "RPO n/a (already done: this run moved nothing)" in text
        assert "unknown" not in text
        assert outcome.report["rpo"]["met"] is None
        assert outcomes(outcome.report) == {"promote": "already-done"}

    def test_succeeded_run_keeps_its_verdicts(self, tmp_path: Path) -> None:
        """A move that ran keeps a real RTO and RPO verdict (no note)."""
        def window(ctx: RunContext) -> None:
            ctx.set_fact("rpo.data_loss_window_seconds.orders", 2.0)

        outcome = Harness(tmp_path, FakeClock()).run(ListRunbook([FakeStep("promote", Calls(), on_act=window)]))
        assert (outcome.report["rto"]["met"], outcome.report["rto"]["note"]) == (True, None)
        assert (outcome.report["rpo"]["met"], outcome.report["rpo"]["note"]) == (True, None)


class TestResumeAfterCrash:
    def test_resumed_report_has_no_stale_in_flight_line(self, tmp_path: Path) -> None:
        """Killed mid-call, resumed to the end: SUCCEEDED, in_flight empty, the called step verified."""
        calls = Calls()
        steps = [FakeStep("a", calls), FakeStep("b", calls), FakeStep("c", calls)]
        harness = Harness(tmp_path, FakeClock())
        harness.run(ListRunbook(steps))
        crash_after(tmp_path, lambda r: r["type"] == "step-intent" and r.get("step") == "b")
        steps[1].done = True
        history = load_history(LocalBackend(tmp_path), "run-1")
        assert history.running == {"b"}
        outcome = harness.session(ListRunbook(steps)).resume(history)
        assert outcome.status is RunStatus.SUCCEEDED
        assert outcome.report["in_flight"] == []
        assert "in flight" not in render_text(outcome.report)
        assert outcomes(outcome.report) == {"a": "verified", "b": "verified", "c": "verified"}


class MilestoneRunbook(ListRunbook):
    def milestones(self, ctx: RunContext) -> Milestones | None:
        return Milestones(writers=["promote:a", "promote:b"], traffic=["dns:z"], healthy=["confirm"],
                          ttl_seconds=60)


class TestTimeline:
    def _run(self, tmp_path: Path, incident_minutes: float | None) -> dict[str, Any]:
        clock = FakeClock()
        calls = Calls()
        steps = [FakeStep("promote:a", calls, sleep=10), FakeStep("promote:b", calls, sleep=30),
                 FakeStep("dns:z", calls, sleep=5), FakeStep("confirm", calls, mutating=False, sleep=20)]
        harness = Harness(tmp_path, clock)
        session = harness.session(MilestoneRunbook(steps))
        if incident_minutes is not None:
            from dataclasses import replace

            session.header = replace(session.header, clock_started_at=session.header.started_at
                                     - timedelta(minutes=incident_minutes))
        return session.start().report

    def test_timeline_offsets_count_from_the_incident_start(self, tmp_path: Path) -> None:
        """With --incident-start: each milestone's time and offset from it, TTL added for clients."""
        timeline = self._run(tmp_path, incident_minutes=10)["timeline"]
        assert timeline["origin"] == "incident-start"
        offsets = {e["name"]: e["offset_seconds"] for e in timeline["events"]}
        assert offsets == {"incident-start": 0.0, "declared": 600.0, "writers-ready": 640.0,
                           "traffic-moved": 645.0, "clients-followed": 705.0, "target-healthy": 665.0}
        assert [e["name"] for e in timeline["events"]] == list(offsets)

    def test_timeline_without_incident_start_counts_from_the_declaration(self, tmp_path: Path) -> None:
        """No --incident-start: offsets from the command's start; the incident start says it was not given."""
        report = self._run(tmp_path, incident_minutes=None)
        events = {e["name"]: e for e in report["timeline"]["events"]}
        assert report["timeline"]["origin"] == "declared"
        assert events["incident-start"]["at"] is None
        assert events["writers-ready"]["offset_seconds"] == 40.0
        text = render_text(report)
        assert "timeline (offsets from the declaration):" in text
        assert "+40.0s  writers ready (last promotion verified)" in text

    def test_milestone_not_reached_when_its_step_did_not_finish(self, tmp_path: Path) -> None:
        """A failed DNS step: traffic moved and clients followed have no time and say why."""
        from botocore.exceptions import ClientError

        denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "ChangeResourceRecordSets")
        calls = Calls()
        steps = [FakeStep("promote:a", calls), FakeStep("promote:b", calls),
                 FakeStep("dns:z", calls, act_errors=[denied]), FakeStep("confirm", calls, mutating=False)]
        report = Harness(tmp_path, FakeClock()).run(MilestoneRunbook(steps)).report
        events = {e["name"]: e for e in report["timeline"]["events"]}
        assert events["writers-ready"]["at"] is not None
        assert (events["traffic-moved"]["at"], events["traffic-moved"]["detail"]) == (
            None, "not reached (dns:z: failed)")
        assert events["clients-followed"]["at"] is None
