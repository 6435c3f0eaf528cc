"""The executor: ordering, parallel groups on a virtual clock, failure policies, observers, interrupts."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from dr.clock import FakeClock
from dr.engine.events import Event, EventKind, RunStatus
from dr.engine.runbook import Parallel
from dr.engine.step import FailurePolicy, PreconditionFailed, RunContext, StepNotApplicable
from tests.fake_runbooks import Calls, FakeStep, Harness, ListRunbook, VirtualClock


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {s["name"]: s["status"] for s in report["steps"]}


class TestOrdering:
    def test_phases_run_in_order_each_step_is_done_check_act_verify(self, tmp_path: Path) -> None:
        """Steps run phase by phase, each through is_done, check, act, verify in that order."""
        calls = Calls()
        steps = [FakeStep(n, calls) for n in ("one", "two", "three")]
        outcome = Harness(tmp_path, FakeClock()).run(ListRunbook(list(steps)))
        assert outcome.status is RunStatus.SUCCEEDED
        assert outcome.exit_code == 0
        assert calls.entries == [(n, m) for n in ("one", "two", "three") for m in ("is_done", "check", "act", "verify")]
        assert [s["name"] for s in outcome.report["steps"]] == ["one", "two", "three"]

    def test_step_already_in_desired_state_is_not_acted_on(self, tmp_path: Path) -> None:
        """is_done true: the step ends already-done and act is never called; all done -> run already-done."""
        calls = Calls()
        outcome = Harness(tmp_path, FakeClock()).run(ListRunbook([FakeStep("a", calls, done=True)]))
        assert statuses(outcome.report) == {"a": "already-done"}
        assert calls.of("act") == []
        assert outcome.status is RunStatus.ALREADY_DONE
        assert outcome.exit_code == 0

    def test_failed_precondition_before_any_change_refuses_with_exit_3(self, tmp_path: Path) -> None:
        """A PreconditionFailed before anything changed: status refused, exit 3, later steps skipped."""
        calls = Calls()
        gate = FakeStep("gate", calls, mutating=False, check_error=PreconditionFailed("lag 900s > RPO 300s"))
        outcome = Harness(tmp_path, FakeClock()).run(ListRunbook([gate, FakeStep("promote", calls)]))
        assert outcome.status is RunStatus.REFUSED
        assert outcome.exit_code == 3
        assert statuses(outcome.report) == {"gate": "failed", "promote": "skipped"}
        assert "lag 900s > RPO 300s" in outcome.report["steps"][0]["detail"]
        assert calls.of("act") == []

    def test_step_that_does_not_apply_is_skipped_without_failing_the_run(self, tmp_path: Path) -> None:
        """StepNotApplicable from check: the step ends skipped with the reason; the run still succeeds."""
        calls = Calls()
        extra = FakeStep("extra", calls, check_error=StepNotApplicable("eu-central-1 unreachable"))
        outcome = Harness(tmp_path, FakeClock()).run(ListRunbook([FakeStep("a", calls), extra]))
        assert outcome.status is RunStatus.SUCCEEDED
        assert outcome.exit_code == 0
        assert statuses(outcome.report) == {"a": "succeeded", "extra": "skipped"}
        assert outcome.report["steps"][1]["detail"] == "eu-central-1 unreachable"
        assert ("extra", "act") not in calls.entries

    def test_rerun_with_a_not_applicable_step_is_still_already_done(self, tmp_path: Path) -> None:
        """Skipped steps neither make nor spoil already-done."""
        calls = Calls()
        extra = FakeStep("extra", calls, check_error=StepNotApplicable("region down"))
        outcome = Harness(tmp_path, FakeClock()).run(ListRunbook([FakeStep("a", calls, done=True), extra]))
        assert outcome.status is RunStatus.ALREADY_DONE

    def test_failure_after_a_change_fails_the_run_with_exit_1(self, tmp_path: Path) -> None:
        """A refusal after a mutation is a failed run (exit 1): something was already changed."""
        calls = Calls()
        late_gate = FakeStep("late", calls, mutating=False, check_error=PreconditionFailed("not ready"))
        outcome = Harness(tmp_path, FakeClock()).run(ListRunbook([FakeStep("a", calls), late_gate]))
        assert outcome.status is RunStatus.FAILED
        assert outcome.exit_code == 1
        assert "resume" in outcome.report["next_action"]

    def test_non_critical_step_failure_lets_the_run_continue(self, tmp_path: Path) -> None:
        """Policy continue: the failure is reported and the following steps still run."""
        calls = Calls()
        soft = FakeStep("soft", calls, policy=FailurePolicy.CONTINUE, act_errors=[_client_error("AccessDenied")])
        outcome = Harness(tmp_path, FakeClock()).run(ListRunbook([soft, FakeStep("b", calls)]))
        assert statuses(outcome.report) == {"soft": "failed", "b": "succeeded"}
        assert outcome.status is RunStatus.SUCCEEDED


class TestParallel:
    def test_group_members_overlap_in_time(self, tmp_path: Path) -> None:
        """Four 10 s members of a group take 10 s of fake time together, not 40 s."""
        clock, calls = VirtualClock(parties=4), Calls()
        group = Parallel("g", [FakeStep(f"s{i}", calls, sleep=10) for i in range(4)])
        outcome = Harness(tmp_path, clock).run(ListRunbook([group]))
        assert outcome.status is RunStatus.SUCCEEDED
        assert clock.monotonic() == pytest.approx(10.0)
        assert all(span == (0.0, 10.0) for span in calls.spans.values())

    def test_concurrency_bound_limits_overlap(self, tmp_path: Path) -> None:
        """max_concurrency 2: four 10 s members take two rounds, 20 s."""
        clock, calls = VirtualClock(parties=2), Calls()
        group = Parallel("g", [FakeStep(f"s{i}", calls, sleep=10) for i in range(4)], max_concurrency=2)
        Harness(tmp_path, clock).run(ListRunbook([group]))
        assert clock.monotonic() == pytest.approx(20.0)

    def test_api_family_limit_serialises_its_members(self, tmp_path: Path) -> None:
        """Members of a family limited to 1 never overlap, while another family runs beside them."""
        clock, calls = VirtualClock(parties=2), Calls()
        group = Parallel("g", [FakeStep("r1", calls, sleep=10, family="route53"),
                               FakeStep("r2", calls, sleep=10, family="route53"),
                               FakeStep("rds", calls, sleep=10, family="rds")], family_limits={"route53": 1})
        Harness(tmp_path, clock).run(ListRunbook([group]))
        r1, r2 = sorted([calls.spans["r1"], calls.spans["r2"]])
        assert r1[1] <= r2[0]
        assert calls.spans["rds"][0] == 0.0

    def test_a_member_waiting_for_aws_gives_its_family_slot_back(self, tmp_path: Path) -> None:
        """Family limited to 1: `zone` acts for 1 s then waits 10 s to verify; `check` does not queue behind
        that wait, it acts while `zone` polls (a hosted zone waiting for INSYNC must not hold back the
        health-check updates)."""
        clock, calls = VirtualClock(parties=2), Calls()
        group = Parallel("g", [FakeStep("zone", calls, sleep=1, verify_after=10, family="route53"),
                               FakeStep("check", calls, sleep=1, family="route53")], family_limits={"route53": 1})
        outcome = Harness(tmp_path, clock).run(ListRunbook([group]))
        assert outcome.status is RunStatus.SUCCEEDED
        zone, check = calls.spans["zone"], calls.spans["check"]
        assert zone[1] <= check[0] < zone[1] + 10

    def test_a_read_only_member_stops_waiting_when_another_fails(self, tmp_path: Path) -> None:
        """A confirm-like read-only member polling for 100 s stops once a mutating member fails: it is skipped,
        naming the failure, and the group does not wait out its budget. A mutating member waiting to verify
        runs to its end."""
        clock, calls = VirtualClock(parties=3), Calls()
        group = Parallel("g", [
            FakeStep("confirm", calls, mutating=False, verify_after=100, budget=120),
            FakeStep("promote", calls, sleep=1, verify_after=5),
            FakeStep("dns", calls, sleep=2, act_errors=[PreconditionFailed("no PRIMARY record set")]),
        ])
        outcome = Harness(tmp_path, clock).run(ListRunbook([group]))
        steps = {s["name"]: s for s in outcome.report["steps"]}
        assert outcome.status is RunStatus.FAILED
        assert steps["dns"]["status"] == "failed"
        assert steps["confirm"]["status"] == "skipped"
        assert "stopped waiting: dns failed" in steps["confirm"]["detail"]
        assert steps["promote"]["status"] == "succeeded"
        assert clock.monotonic() < 20

    def test_members_that_fit_the_slots_all_start_even_if_one_fails_at_once(
            self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Every promotion at once: a member refused in `check` instantly must not keep the others from starting
        (the dispatcher is made to see the failure before its next dispatch, the worst scheduling)."""
        from dr.engine.executor import Executor

        calls = Calls()
        failed = threading.Event()
        original = Executor._not_starting

        def late_dispatcher(self: Executor) -> str | None:
            failed.wait(timeout=5)
            return original(self)

        monkeypatch.setattr(Executor, "_not_starting", late_dispatcher)

        class Refused(FakeStep):
            def check(self, ctx: RunContext) -> None:
                failed.set()
                raise PreconditionFailed("orders-db-euw1 is backing-up")

        group = Parallel("promote", [Refused("orders", calls), FakeStep("customers", calls),
                                     FakeStep("ledger", calls)], max_concurrency=3)
        outcome = Harness(tmp_path, FakeClock()).run(ListRunbook([group]))
        assert statuses(outcome.report) == {"orders": "failed", "customers": "succeeded", "ledger": "succeeded"}
        assert outcome.status is RunStatus.FAILED  # others changed things: not a refusal

    def test_failing_member_lets_running_ones_finish_and_starts_no_new_ones(self, tmp_path: Path) -> None:
        """Abort in a group: the running member finishes, unstarted members and later phases are skipped."""
        clock, calls = VirtualClock(parties=1), Calls()
        bad_finished = threading.Event()

        class WatchBad:
            def notify(self, event: Event) -> None:
                if event.kind is EventKind.STEP_FINISHED and event.step == "bad":
                    bad_finished.set()

        running_started = threading.Event()

        class Running(FakeStep):
            """In flight before `bad` fails and still running when it has failed (the engine records the
            abort before telling observers, so nothing queued can start in between)."""

            def act(self, ctx: RunContext) -> str | None:
                running_started.set()
                assert bad_finished.wait(timeout=10)
                return super().act(ctx)

        class Bad(FakeStep):
            def act(self, ctx: RunContext) -> str | None:
                assert running_started.wait(timeout=10)
                return super().act(ctx)

        bad = Bad("bad", calls, act_errors=[_client_error("AccessDenied")])
        group = Parallel("g", [bad, Running("running", calls, sleep=5), FakeStep("queued", calls),
                               FakeStep("queued2", calls)], max_concurrency=2)
        harness = Harness(tmp_path, clock, observers=[WatchBad()])
        outcome = harness.run(ListRunbook([group, FakeStep("after", calls)]))
        assert statuses(outcome.report) == {"bad": "failed", "running": "succeeded", "queued": "skipped",
                                            "queued2": "skipped", "after": "skipped"}
        assert outcome.status is RunStatus.FAILED
        assert outcome.exit_code == 1


class _Raising:
    def notify(self, event: Event) -> None:
        raise RuntimeError("progress display broke")


class _Collect:
    def __init__(self) -> None:
        self.kinds: list[EventKind] = []

    def notify(self, event: Event) -> None:
        self.kinds.append(event.kind)


class TestObservers:
    def test_raising_observer_does_not_change_the_outcome(self, tmp_path: Path) -> None:
        """An observer that raises on every event: same status, same steps, later observers still called."""
        collect = _Collect()
        calls = Calls()
        harness = Harness(tmp_path, FakeClock(), observers=[_Raising(), collect])
        outcome = harness.run(ListRunbook([FakeStep("a", calls), FakeStep("b", calls)]))
        assert outcome.status is RunStatus.SUCCEEDED
        assert statuses(outcome.report) == {"a": "succeeded", "b": "succeeded"}
        assert collect.kinds[0] is EventKind.RUN_STARTED
        assert collect.kinds[-1] is EventKind.RUN_FINISHED
        assert collect.kinds.count(EventKind.STEP_FINISHED) == 2


class TestInterrupts:
    def test_interrupt_stops_new_steps_and_resume_finishes_the_run(self, tmp_path: Path) -> None:
        """A stop request mid-run: status interrupted (exit 130); resume runs only what was left."""
        calls = Calls()
        harness = Harness(tmp_path, FakeClock())

        def interrupt(ctx: RunContext) -> None:
            harness.stop.set()

        steps = [FakeStep("a", calls, on_act=interrupt), FakeStep("b", calls)]
        outcome = harness.run(ListRunbook(steps))
        assert outcome.status is RunStatus.INTERRUPTED
        assert outcome.exit_code == 130
        assert statuses(outcome.report) == {"a": "succeeded", "b": "skipped"}
        from dr.engine.session import load_history

        history = load_history(harness.session(ListRunbook(steps)).services.backend, "run-1")
        harness.stop.clear()
        resumed = harness.session(ListRunbook(steps)).resume(history)
        assert resumed.status is RunStatus.SUCCEEDED
        assert statuses(resumed.report) == {"a": "succeeded", "b": "succeeded"}
        assert calls.of("act") == ["a", "b"]


class TestReport:
    def test_report_has_the_contract_fields_and_rpo_from_facts(self, tmp_path: Path) -> None:
        """The JSON report carries every documented field; the RPO window is the largest recorded fact."""
        calls = Calls()

        def facts(ctx: RunContext) -> None:
            ctx.set_fact("rpo.data_loss_window_seconds.orders", 12.0)
            ctx.set_fact("rpo.data_loss_window_seconds.payments", 400.0)

        outcome = Harness(tmp_path, FakeClock()).run(ListRunbook([FakeStep("a", calls, on_act=facts)]))
        report = outcome.report
        assert set(report) >= {"run_id", "runbook", "source", "target", "mode", "status", "started_at",
                               "finished_at", "clock_started_at", "duration_seconds", "rto", "rpo", "steps"}
        assert report["rpo"]["data_loss_window_seconds"] == 400.0
        assert report["rpo"]["met"] is False
        assert report["rto"] == {"target_seconds": 900.0, "elapsed_seconds": 0.0, "met": True,
                                 "measured": "from the clock start to the end of the run", "note": None}
        step = report["steps"][0]
        assert set(step) == {"name", "resource", "status", "outcome", "started_at", "duration_seconds",
                             "budget_seconds", "attempts", "detail"}
        assert step["attempts"] == 1
        assert step["budget_seconds"] == 60.0


def _client_error(code: str, status: int = 400) -> Exception:
    from botocore.exceptions import ClientError

    error: Exception = ClientError({"Error": {"Code": code, "Message": f"injected {code}"},
                                    "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")
    return error


class _Reversible(FakeStep):
    def compensate(self, ctx: RunContext) -> None:
        self.calls.add(self.name, "compensate")


class TestCompensation:
    def test_opted_in_runbook_rolls_back_succeeded_steps_newest_first(self, tmp_path: Path) -> None:
        """compensate_on_failure: after a failure, this run's succeeded mutations are undone in reverse."""
        calls = Calls()

        class Reversible(ListRunbook):
            compensate_on_failure = True

        steps = [_Reversible("a", calls), _Reversible("b", calls),
                 _Reversible("c", calls, act_errors=[_client_error("AccessDenied")])]
        outcome = Harness(tmp_path, FakeClock()).run(Reversible(steps))
        assert outcome.status is RunStatus.FAILED
        assert calls.of("compensate") == ["b", "a"]
        assert outcome.report["steps"][0]["detail"].endswith("compensated")

    def test_runbooks_do_not_roll_back_by_default(self, tmp_path: Path) -> None:
        """Without opting in, a failure leaves completed steps as they are (resume finishes the job)."""
        calls = Calls()
        steps = [_Reversible("a", calls), _Reversible("b", calls, act_errors=[_client_error("AccessDenied")])]
        Harness(tmp_path, FakeClock()).run(ListRunbook(steps))
        assert calls.of("compensate") == []
