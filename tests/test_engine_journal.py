"""The journal: one durable JSON line per event, intent before outcome, replay and resume after a crash."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dr.clock import FakeClock
from dr.engine.events import RunStatus
from dr.engine.journal.local import LocalBackend
from dr.engine.session import check_topology_unchanged, load_history
from dr.engine.step import RunContext, Step
from dr.errors import ConfigError
from tests.fake_runbooks import Calls, FakeStep, Harness, ListRunbook


def journal_lines(state: Path, run_id: str = "run-1") -> list[dict[str, Any]]:
    return [json.loads(line) for line in (state / "runs" / f"{run_id}.jsonl").read_text().splitlines()]


def crash_after(state: Path, predicate: Any, run_id: str = "run-1") -> None:
    """Cut the journal right after the first line matching `predicate`: what a SIGKILL there leaves."""
    path = state / "runs" / f"{run_id}.jsonl"
    lines = path.read_text().splitlines()
    cut = next(i for i, line in enumerate(lines) if predicate(json.loads(line)))
    path.write_text("\n".join(lines[: cut + 1]) + "\n")


def is_intent_of(step: str) -> Any:
    return lambda r: r["type"] == "step-intent" and r.get("step") == step


class TestJournalFormat:
    def test_every_event_is_one_json_line_with_increasing_seq(self, tmp_path: Path) -> None:
        """Header first, run-finished last, seq 1..n without gaps."""
        Harness(tmp_path, FakeClock()).run(ListRunbook([FakeStep("a", Calls())]))
        records = journal_lines(tmp_path)
        assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
        assert records[0]["type"] == "run-started"
        assert records[0]["data"]["runbook"] == "fake"
        assert records[-1]["type"] == "run-finished"
        assert records[-1]["status"] == "succeeded"

    def test_intent_is_recorded_before_the_mutation_and_outcome_after(self, tmp_path: Path) -> None:
        """For a mutating step: started, intent, outcome ok, finished, in that order."""
        Harness(tmp_path, FakeClock()).run(ListRunbook([FakeStep("a", Calls())]))
        kinds = [r["type"] for r in journal_lines(tmp_path) if r.get("step") == "a"]
        assert kinds == ["step-started", "step-intent", "step-outcome", "step-finished"]

    def test_read_only_steps_record_no_intent(self, tmp_path: Path) -> None:
        """A non-mutating step is not journaled as a mutation."""
        Harness(tmp_path, FakeClock()).run(ListRunbook([FakeStep("check", Calls(), mutating=False)]))
        assert "step-intent" not in [r["type"] for r in journal_lines(tmp_path)]

    def test_torn_last_line_is_ignored_on_replay(self, tmp_path: Path) -> None:
        """A crash mid-write leaves half a line: replay ignores it and keeps the rest."""
        Harness(tmp_path, FakeClock()).run(ListRunbook([FakeStep("a", Calls())]))
        path = tmp_path / "runs" / "run-1.jsonl"
        path.write_text(path.read_text() + '{"seq": 99, "type": "step-sta')
        history = load_history(LocalBackend(tmp_path), "run-1")
        assert history.status is RunStatus.SUCCEEDED

    def test_appending_after_a_torn_line_keeps_the_journal_readable(self, tmp_path: Path) -> None:
        """Resume appends after a torn tail: the half line is dropped, every later event is readable."""
        calls = Calls()
        steps = [FakeStep("a", calls), FakeStep("b", calls)]
        harness = Harness(tmp_path, FakeClock())
        harness.run(ListRunbook(steps))
        crash_after(tmp_path, is_intent_of("b"))
        path = tmp_path / "runs" / "run-1.jsonl"
        path.write_text(path.read_text() + '{"seq": 99, "type": "step-outc')
        harness.session(ListRunbook(steps)).resume(load_history(LocalBackend(tmp_path), "run-1"))
        history = load_history(LocalBackend(tmp_path), "run-1")
        assert history.status is RunStatus.SUCCEEDED
        assert '"seq": 99' not in path.read_text()


class _FailingBackend(LocalBackend):
    """A local journal whose store breaks after `ok` events (disk full, bucket gone)."""

    def __init__(self, directory: Path, ok: int) -> None:
        super().__init__(directory)
        self.ok = ok

    def append(self, run_id: str, seq: int, line: str) -> None:
        if seq > self.ok:
            raise OSError(28, "No space left on device")
        super().append(run_id, seq, line)


class TestJournalFailure:
    def test_unwritable_journal_stops_the_run_before_the_mutation(self, tmp_path: Path) -> None:
        """The intent cannot be written: act is never called, JournalError says what to do, lock released."""
        from dr.engine.journal.base import JournalError
        from dr.engine.lock.local import LocalLock

        calls = Calls()
        harness = Harness(tmp_path, FakeClock())
        session = harness.session(ListRunbook([FakeStep("a", calls)]), backend=_FailingBackend(tmp_path, ok=2))
        with pytest.raises(JournalError, match="No space left on device") as err:
            session.start()
        assert "drctl resume run-1" in str(err.value)
        assert calls.of("act") == []
        assert LocalLock(tmp_path, "prod--qa").acquire(_lock_info()) is None


def _lock_info() -> Any:
    from datetime import UTC, datetime

    from dr.engine.lock.base import LockInfo

    return LockInfo(key="prod--qa", run_id="next", holder="bob@host", pid=1, since=datetime(2026, 1, 1, tzinfo=UTC))


class TestResumeAfterCrash:
    def test_crash_after_the_mutation_is_not_repeated_on_resume(self, tmp_path: Path) -> None:
        """Intent journaled, mutation done, outcome lost: resume asks is_done and does not act again."""
        calls = Calls()
        steps = [FakeStep("a", calls), FakeStep("b", calls), FakeStep("c", calls)]
        harness = Harness(tmp_path, FakeClock())
        harness.run(ListRunbook(steps))
        crash_after(tmp_path, is_intent_of("b"))
        steps[1].done = True  # the world shows b's mutation
        history = load_history(LocalBackend(tmp_path), "run-1")
        assert history.pending == {"b"}
        assert history.status is RunStatus.RUNNING
        outcome = harness.session(ListRunbook(steps)).resume(history)
        assert outcome.status is RunStatus.SUCCEEDED
        assert calls.of("act") == ["a", "b", "c", "c"]  # first run acted a, b, c; resume only c
        b = next(s for s in outcome.report["steps"] if s["name"] == "b")
        assert b["status"] == "succeeded"
        assert "interrupted run" in b["detail"]

    def test_crash_before_the_mutation_acts_once_on_resume(self, tmp_path: Path) -> None:
        """Intent journaled but the mutation never happened (is_done false): resume performs it."""
        calls = Calls()
        steps = [FakeStep("a", calls), FakeStep("b", calls)]
        harness = Harness(tmp_path, FakeClock())
        harness.run(ListRunbook(steps))
        crash_after(tmp_path, is_intent_of("b"))
        before = len(calls.of("act"))
        outcome = harness.session(ListRunbook(steps)).resume(load_history(LocalBackend(tmp_path), "run-1"))
        assert outcome.status is RunStatus.SUCCEEDED
        assert calls.of("act")[before:] == ["b"]

    def test_in_flight_mutation_of_a_step_without_is_done_is_not_guessed(self, tmp_path: Path) -> None:
        """A step that cannot tell whether it is done is not repeated blindly: it fails asking for a check."""

        class Blind(Step):
            name = "blind"
            acted = 0

            def act(self, ctx: RunContext) -> str | None:
                Blind.acted += 1
                return None

        harness = Harness(tmp_path, FakeClock())
        harness.run(ListRunbook([Blind()]))
        crash_after(tmp_path, is_intent_of("blind"))
        outcome = harness.session(ListRunbook([Blind()])).resume(load_history(LocalBackend(tmp_path), "run-1"))
        assert Blind.acted == 1
        assert outcome.status is RunStatus.FAILED
        assert "by hand" in outcome.report["steps"][0]["detail"]

    def test_facts_are_restored_on_resume(self, tmp_path: Path) -> None:
        """A fact set before the crash is in ctx.facts when the resumed steps run."""
        seen: list[object] = []
        calls = Calls()

        def remember(ctx: RunContext) -> None:
            ctx.set_fact("inverted_health_checks", ["hc-1"])

        def use(ctx: RunContext) -> None:
            seen.append(ctx.facts.get("inverted_health_checks"))

        steps = [FakeStep("a", calls, on_act=remember), FakeStep("b", calls, on_act=use)]
        harness = Harness(tmp_path, FakeClock())
        harness.run(ListRunbook(steps))
        crash_after(tmp_path, is_intent_of("b"))
        harness.session(ListRunbook(steps)).resume(load_history(LocalBackend(tmp_path), "run-1"))
        assert seen == [["hc-1"], ["hc-1"]]

    def test_resume_refuses_a_changed_topology(self, tmp_path: Path) -> None:
        """The topology file changed since the run began: ConfigError (exit 2) saying so."""
        harness = Harness(tmp_path, FakeClock())
        harness.run(ListRunbook([FakeStep("a", Calls())]))
        header = load_history(LocalBackend(tmp_path), "run-1").header
        changed = tmp_path / "dr.yaml"
        changed.write_text(Path(header.topology_path).read_text() + "\n# edited\n")
        with pytest.raises(ConfigError, match="changed since run run-1 began") as err:
            check_topology_unchanged(header, changed)
        assert err.value.exit_code == 2
        check_topology_unchanged(header, Path(header.topology_path))
