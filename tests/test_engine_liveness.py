"""Dead runs: judged by the lock's state (flock, lease expiry), never by a pid; a half-moved pair refuses new runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest

from dr.clock import FakeClock
from dr.engine.events import RunStatus
from dr.engine.journal.liveness import HalfMoved, is_dead, judged_status
from dr.engine.journal.local import LocalBackend
from dr.engine.lock.base import LockInfo
from dr.engine.lock.dynamodb import DynamoDbLease
from dr.engine.lock.local import LocalLock
from dr.engine.session import load_history
from tests.fake_runbooks import Calls, FakeStep, Harness, ListRunbook
from tests.test_engine_journal import crash_after

NOW = datetime(2026, 1, 1, tzinfo=UTC)


class _Table:
    """A DynamoDB client that only answers get_item with one lock item."""

    def __init__(self, run_id: str, expires: datetime) -> None:
        self.item = {"lock_id": {"S": "prod--qa"}, "run_id": {"S": run_id}, "holder": {"S": "ops@other-host"},
                     "pid": {"N": "4242"}, "since": {"S": "2026-01-01T00:00:00Z"},
                     "expires_at": {"N": f"{expires.timestamp():.3f}"}}

    def get_item(self, **_: Any) -> dict[str, Any]:
        return {"Item": self.item}


def dead_run(tmp_path: Path, *, after: str = "step-outcome") -> Harness:
    """A run of two mutating steps whose journal ends after `after` of the first: what kill -9 leaves."""
    harness = Harness(tmp_path, FakeClock(NOW))
    harness.run(ListRunbook([FakeStep("a", Calls()), FakeStep("b", Calls())]))
    crash_after(tmp_path, lambda r: r["type"] == after and r.get("step") == "a")
    return harness


class TestJudgedStatus:
    @pytest.mark.parametrize(("expires_in", "status"), [(30, RunStatus.RUNNING), (-1, RunStatus.INTERRUPTED)])
    def test_a_lease_decides_for_a_run_on_another_host(self, tmp_path: Path, expires_in: int,
                                                        status: RunStatus) -> None:
        """DynamoDB lease of that run, from another host: alive while unexpired, dead once it expired."""
        dead_run(tmp_path)
        history = load_history(LocalBackend(tmp_path), "run-1")
        lease = DynamoDbLease(_Table("run-1", NOW + timedelta(seconds=expires_in)), "locks", "prod--qa",
                              clock=FakeClock(NOW))
        assert judged_status(history, lease) is status

    def test_a_free_flock_means_dead_a_held_one_alive(self, tmp_path: Path) -> None:
        """Local lock: the record of a killed holder stays, but its flock is free: interrupted; held: running."""
        dead_run(tmp_path)
        history = load_history(LocalBackend(tmp_path), "run-1")
        lock = LocalLock(tmp_path, "prod--qa")
        assert is_dead(history, lock)
        lock.acquire(LockInfo(key="prod--qa", run_id="run-1", holder="ops@h", pid=1, since=NOW))
        try:
            assert judged_status(history, LocalLock(tmp_path, "prod--qa")) is RunStatus.RUNNING
        finally:
            lock.release()

    def test_a_finished_run_is_never_called_dead(self, tmp_path: Path) -> None:
        """A journal with its end keeps its own status whatever the lock says."""
        Harness(tmp_path, FakeClock(NOW)).run(ListRunbook([FakeStep("a", Calls())]))
        history = load_history(LocalBackend(tmp_path), "run-1")
        assert judged_status(history, LocalLock(tmp_path, "prod--qa")) is RunStatus.SUCCEEDED


class NoWaitRunbook(ListRunbook):
    waits_for_dead_runs: ClassVar[bool] = False


class TestHalfMoved:
    def test_a_new_run_is_refused_naming_the_dead_run_and_resume(self, tmp_path: Path) -> None:
        """Dead run with a completed mutation: a new run on the pair raises HalfMoved (exit 3), acts on nothing."""
        harness = dead_run(tmp_path)
        calls = Calls()
        with pytest.raises(HalfMoved) as refused:
            harness.session(ListRunbook([FakeStep("x", calls)]), "run-2").start()
        assert refused.value.exit_code == 3
        assert "run run-1 (fake prod -> qa" in str(refused.value)
        assert "its journal shows changes (a)" in str(refused.value)
        assert "`drctl resume run-1`" in str(refused.value)
        assert calls.entries == []
        assert LocalBackend(tmp_path).read("run-2") is None

    def test_a_runbook_that_does_not_wait_runs_anyway(self, tmp_path: Path) -> None:
        """`drctl fence`'s kind (waits_for_dead_runs False) is not held back by a dead move."""
        harness = dead_run(tmp_path)
        outcome = harness.session(NoWaitRunbook([FakeStep("x", Calls())]), "run-2").start()
        assert outcome.status is RunStatus.SUCCEEDED

    def test_a_call_in_flight_when_the_run_died_blocks_too(self, tmp_path: Path) -> None:
        """Cut after an intent with no outcome: the call may have changed AWS, so the pair counts as half-moved."""
        harness = dead_run(tmp_path, after="step-intent")
        with pytest.raises(HalfMoved, match=r"shows changes \(a\)"):
            harness.session(ListRunbook([FakeStep("x", Calls())]), "run-2").start()

    def test_a_dead_run_that_sent_nothing_does_not_block(self, tmp_path: Path) -> None:
        """Cut after the first step started, before any intent: nothing changed; the new run goes ahead."""
        harness = dead_run(tmp_path, after="step-started")
        outcome = harness.session(ListRunbook([FakeStep("x", Calls())]), "run-2").start()
        assert outcome.status is RunStatus.SUCCEEDED
