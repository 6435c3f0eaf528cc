"""The run lock: local file lock and DynamoDB lease (moto); a second run is refused naming the holder."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dr.clock import FakeClock
from dr.engine.events import RunStatus
from dr.engine.lock.base import LockInfo, lock_key
from dr.engine.lock.local import LocalLock
from dr.engine.session import load_history
from dr.errors import LockHeld
from tests.fake_runbooks import Calls, FakeStep, Harness, ListRunbook

SINCE = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)


def info(run_id: str, pid: int = 100) -> LockInfo:
    return LockInfo(key="prod--qa", run_id=run_id, holder="alice@bastion", pid=pid, since=SINCE)


class TestLockKey:
    def test_failover_and_failback_of_one_pair_share_a_lock(self) -> None:
        """prod->qa and qa->prod contend for the same lock."""
        assert lock_key("prod", "qa") == lock_key("qa", "prod") == "prod--qa"


class TestLocalLock:
    def test_second_holder_is_refused_naming_holder_run_and_since(self, tmp_path: Path) -> None:
        """While one lock is held, another acquire raises LockHeld (exit 3) with who, which run, since when."""
        first = LocalLock(tmp_path, "prod--qa")
        first.acquire(info("run-1"))
        with pytest.raises(LockHeld) as err:
            LocalLock(tmp_path, "prod--qa").acquire(info("run-2", pid=200))
        message = str(err.value)
        assert err.value.exit_code == 3
        assert "run-1" in message
        assert "alice@bastion" in message
        assert "pid 100" in message
        assert "2026-01-01T03:00:00.000Z" in message
        assert "--break-lock" in message

    def test_released_lock_can_be_taken_again(self, tmp_path: Path) -> None:
        """After release, the next run acquires without breaking anything."""
        first = LocalLock(tmp_path, "prod--qa")
        first.acquire(info("run-1"))
        first.release()
        assert LocalLock(tmp_path, "prod--qa").acquire(info("run-2")) is None

    def test_break_lock_takes_over_and_reports_the_previous_holder(self, tmp_path: Path) -> None:
        """--break-lock: the new run holds the lock and learns whose lock it broke."""
        first = LocalLock(tmp_path, "prod--qa")
        first.acquire(info("run-1"))
        second = LocalLock(tmp_path, "prod--qa")
        broken = second.acquire(info("run-2"), break_lock=True)
        assert broken is not None
        assert broken.run_id == "run-1"
        holder = LocalLock(tmp_path, "prod--qa").holder()
        assert holder is not None
        assert holder.run_id == "run-2"
        with pytest.raises(LockHeld, match="run-2"):
            LocalLock(tmp_path, "prod--qa").acquire(info("run-3"))

    def test_a_run_refused_by_the_lock_touches_nothing(self, tmp_path: Path) -> None:
        """A run against a held pair raises LockHeld before any step or journal line."""
        other = LocalLock(tmp_path, "prod--qa")
        other.acquire(info("other"))
        calls = Calls()
        with pytest.raises(LockHeld):
            Harness(tmp_path, FakeClock()).run(ListRunbook([FakeStep("a", calls)]))
        assert calls.entries == []
        assert not (tmp_path / "runs" / "run-1.jsonl").exists()


def make_table(name: str = "drctl-locks") -> Any:
    import boto3

    client = boto3.client("dynamodb", region_name="eu-west-1")
    client.create_table(TableName=name, KeySchema=[{"AttributeName": "lock_id", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "lock_id", "AttributeType": "S"}],
                        BillingMode="PAY_PER_REQUEST")
    return client


@pytest.mark.usefixtures("aws")
class TestDynamoDbLease:
    def lease(self, client: Any, clock: FakeClock) -> Any:
        from dr.engine.lock.dynamodb import DynamoDbLease

        return DynamoDbLease(client, "drctl-locks", "prod--qa", lease_seconds=60, clock=clock)

    def test_second_run_is_refused_while_the_lease_is_live(self) -> None:
        """A live lease: LockHeld names holder, run id, since and the lease expiry."""
        client, clock = make_table(), FakeClock(SINCE)
        first = self.lease(client, clock)
        first.acquire(info("run-1"))
        try:
            with pytest.raises(LockHeld, match=r"run-1 by alice@bastion \(pid 100\) since 2026-01-01T03:00"):
                self.lease(client, clock).acquire(info("run-2"))
        finally:
            first.release()

    def test_expired_lease_is_free_for_the_next_run(self) -> None:
        """A crashed holder stops renewing: after one lease period the pair is free."""
        client, clock = make_table(), FakeClock(SINCE)
        crashed = self.lease(client, clock)
        crashed.acquire(info("run-1"))
        crashed._stop.set()  # the process died: no more heartbeats
        clock.advance(61)
        nxt = self.lease(client, clock)
        assert nxt.acquire(info("run-2")) is None
        holder = nxt.holder()
        assert holder is not None
        assert holder.run_id == "run-2"
        nxt.release()

    def test_heartbeat_renewal_keeps_the_lease_and_detects_a_takeover(self) -> None:
        """renew pushes expiry ahead; after another run broke the lock, renew reports the loss."""
        client, clock = make_table(), FakeClock(SINCE)
        first = self.lease(client, clock)
        first.acquire(info("run-1"))
        stopped: list[bool] = []
        first.on_lost(lambda: stopped.append(True))
        clock.advance(50)
        assert first.renew() is True
        clock.advance(50)
        with pytest.raises(LockHeld):
            self.lease(client, clock).acquire(info("run-2"))
        breaker = self.lease(client, clock)
        assert breaker.acquire(info("run-2"), break_lock=True).run_id == "run-1"
        assert first.renew() is False
        assert first.lost
        first.release()  # must not delete the breaker's lease
        holder = breaker.holder()
        assert holder is not None
        assert holder.run_id == "run-2"
        breaker.release()
        assert breaker.holder() is None

    def test_break_lock_is_journaled(self, tmp_path: Path) -> None:
        """A run with --break-lock records whose lock it broke in its journal."""
        client, clock = make_table(), FakeClock(SINCE)
        stale = self.lease(client, clock)
        stale.acquire(info("stale-run"))
        stale._stop.set()  # its process died: no heartbeat outlives the test (it would call AWS after the mock)
        session = Harness(tmp_path, clock).session(ListRunbook([FakeStep("a", Calls())]),
                                                   lock=self.lease(client, clock))
        outcome = session.start(break_lock=True)
        assert outcome.status is RunStatus.SUCCEEDED
        events = load_history(session.services.backend, "run-1").events
        broken = [e for e in events if e.kind == "lock-broken"]
        assert len(broken) == 1
        assert broken[0].data["run_id"] == "stale-run"
        assert self.lease(client, clock).holder() is None

    def test_unreachable_lock_table_refuses_the_run_touching_nothing(self, tmp_path: Path) -> None:
        """The lock table is missing (or access denied): exit 3, no step called, no journal written."""
        from dr.engine.session import StateUnavailable

        client, clock = make_table("other-table"), FakeClock(SINCE)
        calls = Calls()
        session = Harness(tmp_path, clock).session(ListRunbook([FakeStep("a", calls)]),
                                                   lock=self.lease(client, clock))
        with pytest.raises(StateUnavailable, match="cannot take the run lock dynamodb://drctl-locks") as err:
            session.start()
        assert err.value.exit_code == 3
        assert calls.entries == []
        assert not (tmp_path / "runs").exists()

    def test_resume_of_the_same_run_takes_over_the_lease_of_its_dead_process(self) -> None:
        """The lease is held by this run id from a pid that is gone on this host: resume takes it at once."""
        import subprocess
        import sys

        client, clock = make_table(), FakeClock(SINCE)
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True)
        crashed = self.lease(client, clock)
        crashed.acquire(info("run-1", pid=int(dead.stdout)))
        crashed._stop.set()
        resumed = self.lease(client, clock)
        resumed.acquire(info("run-1", pid=os.getpid()))
        holder = resumed.holder()
        assert holder is not None
        assert holder.pid == os.getpid()
        with pytest.raises(LockHeld):
            self.lease(client, clock).acquire(info("run-2", pid=os.getpid()))
        resumed.release()
