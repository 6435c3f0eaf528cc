"""A DynamoDB lease in the DR region: conditional put, heartbeat renewal while running, release at the end.

Table schema: partition key `lock_id` (String). Items: lock_id, run_id, holder, pid, since (ISO),
expires_at (Number, epoch seconds; enable TTL on it if you like: the condition, not TTL, decides).
A lease whose `expires_at` has passed is free: a crashed run blocks others for at most one lease.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from dr.clock import SYSTEM_CLOCK, Clock, iso, parse_iso
from dr.engine.lock.base import LockInfo, held_error

log = logging.getLogger(__name__)
CONDITION_FAILED = "ConditionalCheckFailedException"


class DynamoDbLease:
    def __init__(self, client: Any, table: str, key: str, *, lease_seconds: float = 60.0,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        self.client = client
        self.table = table
        self.key = key
        self.lease_seconds = lease_seconds
        self.clock = clock
        self.location = f"dynamodb://{table}/{key}"
        self.lost = False
        """Set when a renewal found the lease taken over (someone used --break-lock)."""
        self._me: LockInfo | None = None
        self._expires: datetime | None = None
        self._on_lost: Callable[[], None] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self, me: LockInfo, *, break_lock: bool = False) -> LockInfo | None:
        now = self.clock.now()
        item = self._item(me, now)
        try:
            self.client.put_item(
                TableName=self.table, Item=item,
                ConditionExpression="attribute_not_exists(lock_id) OR expires_at < :now",
                ExpressionAttributeValues={":now": {"N": _epoch(now)}})
            broken = None
        except Exception as err:
            if _code(err) != CONDITION_FAILED:
                raise
            holder = self.holder()
            if not break_lock and not _own_dead_run(holder, me):
                raise held_error(holder, self.key, self.location) from None
            self._take_over(item, holder)
            broken = holder
        self._me = me
        self._expires = now + timedelta(seconds=self.lease_seconds)
        self._start_heartbeat()
        return broken

    def _take_over(self, item: dict[str, Any], holder: LockInfo | None) -> None:
        """Replace exactly the holder we saw; if it changed meanwhile, whoever has it now wins."""
        if holder is None:
            condition, values = "attribute_not_exists(lock_id)", None
        else:
            condition = "run_id = :rid AND pid = :pid"
            values = {":rid": {"S": holder.run_id}, ":pid": {"N": str(holder.pid)}}
        try:
            self.client.put_item(TableName=self.table, Item=item, ConditionExpression=condition,
                                 **({"ExpressionAttributeValues": values} if values else {}))
        except Exception as err:
            if _code(err) != CONDITION_FAILED:
                raise
            raise held_error(self.holder(), self.key, self.location) from None

    def on_lost(self, callback: Callable[[], None]) -> None:
        self._on_lost = callback

    def _lost(self, why: str) -> bool:
        log.error("lease %s lost: %s; this run stops starting steps", self.location, why)
        self.lost = True
        if self._on_lost is not None:
            self._on_lost()
        return False

    def _item(self, me: LockInfo, now: datetime) -> dict[str, Any]:
        expires = now + timedelta(seconds=self.lease_seconds)
        return {"lock_id": {"S": self.key}, "run_id": {"S": me.run_id}, "holder": {"S": me.holder},
                "pid": {"N": str(me.pid)}, "since": {"S": iso(me.since)}, "expires_at": {"N": _epoch(expires)}}

    def renew(self) -> bool:
        """Push the expiry one lease ahead; False (and `lost`) when the lease is no longer ours."""
        if self._me is None:
            return False
        expires = self.clock.now() + timedelta(seconds=self.lease_seconds)
        try:
            self.client.update_item(
                TableName=self.table, Key={"lock_id": {"S": self.key}},
                UpdateExpression="SET expires_at = :exp", ConditionExpression="run_id = :me",
                ExpressionAttributeValues={":exp": {"N": _epoch(expires)}, ":me": {"S": self._me.run_id}})
        except Exception as err:
            if _code(err) == CONDITION_FAILED:
                return self._lost("another run took it over (--break-lock)")
            if self._expires is not None and self.clock.now() >= self._expires:
                return self._lost(f"it expired while renewals failed ({err})")
            log.warning("lease renewal of %s failed (will retry): %s", self.location, err)
            return True
        self._expires = expires
        return True

    def _start_heartbeat(self) -> None:
        self._stop.clear()
        interval = max(self.lease_seconds / 3.0, 0.05)

        def beat() -> None:
            while not self._stop.wait(interval):
                if not self.renew():
                    return

        self._thread = threading.Thread(target=beat, name="drctl-lease-heartbeat", daemon=True)
        self._thread.start()

    def holder(self) -> LockInfo | None:
        item = self.client.get_item(TableName=self.table, Key={"lock_id": {"S": self.key}},
                                    ConsistentRead=True).get("Item")
        if not item:
            return None
        return LockInfo(key=self.key, run_id=item["run_id"]["S"], holder=item["holder"]["S"],
                        pid=int(item["pid"]["N"]), since=parse_iso(item["since"]["S"]),
                        expires_at=datetime.fromtimestamp(float(item["expires_at"]["N"]), tz=UTC))

    def live_holder(self) -> LockInfo | None:
        """The holder while its lease has not expired (a dead run's lease expires: DynamoDB's TTL may keep the
        item for days, so the expiry, not the item, says whether anyone holds it)."""
        info = self.holder()
        if info is None or info.expires_at is None or info.expires_at <= self.clock.now():
            return None
        return info

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._me is None:
            return
        try:
            self.client.delete_item(TableName=self.table, Key={"lock_id": {"S": self.key}},
                                    ConditionExpression="run_id = :me",
                                    ExpressionAttributeValues={":me": {"S": self._me.run_id}})
        except Exception as err:
            if _code(err) != CONDITION_FAILED:
                raise
        self._me = None


def _own_dead_run(holder: LockInfo | None, me: LockInfo) -> bool:
    """The lease belongs to this very run, taken by a process of this host that no longer exists: a
    `drctl resume` right after a crash need not wait for the lease to expire."""
    if holder is None or holder.run_id != me.run_id or holder.holder != me.holder or holder.pid == me.pid:
        return False
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _epoch(ts: datetime) -> str:
    return f"{ts.timestamp():.3f}"


def _code(err: BaseException) -> str:
    from dr.aws.errors import error_code

    return error_code(err)
