"""The lock contract and the holder record both backends store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from dr.clock import iso, parse_iso
from dr.errors import LockHeld


def lock_key(source: str, target: str) -> str:
    """The pair, order-free: a failover prod->qa and a failback qa->prod must not run at the same time."""
    first, second = sorted((source, target))
    return f"{first}--{second}"


@dataclass(frozen=True)
class LockInfo:
    """Who holds (or wants) the lock."""

    key: str
    run_id: str
    holder: str
    """user@host"""
    pid: int
    since: datetime
    expires_at: datetime | None = None

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"key": self.key, "run_id": self.run_id, "holder": self.holder,
                                "pid": self.pid, "since": iso(self.since)}
        if self.expires_at is not None:
            data["expires_at"] = iso(self.expires_at)
        return data

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> LockInfo:
        expires = data.get("expires_at")
        return cls(key=str(data.get("key", "")), run_id=str(data.get("run_id", "?")),
                   holder=str(data.get("holder", "?")), pid=int(data.get("pid", 0)),
                   since=parse_iso(str(data["since"])) if data.get("since") else datetime.fromtimestamp(0),
                   expires_at=parse_iso(expires) if isinstance(expires, str) else None)

    def describe(self) -> str:
        text = f"run {self.run_id} by {self.holder} (pid {self.pid}) since {iso(self.since)}"
        return text + (f", lease until {iso(self.expires_at)}" if self.expires_at else "")


def held_error(info: LockInfo | None, key: str, where: str) -> LockHeld:
    who = info.describe() if info else "another run (holder record unreadable)"
    return LockHeld(f"the {key} pair is locked by {who} ({where}). Wait for it to finish, or if that run is "
                    "dead, re-run with --break-lock")


class RunLock(Protocol):
    """Mutual exclusion for one environment pair."""

    location: str

    def acquire(self, me: LockInfo, *, break_lock: bool = False) -> LockInfo | None:
        """Take the lock, or raise LockHeld naming the holder. With `break_lock`, take it from the current
        holder and return that holder (None when the lock was free)."""
        ...

    def holder(self) -> LockInfo | None: ...

    def live_holder(self) -> LockInfo | None:
        """The holder while the lock is live (a kernel flock held, a lease not expired), None when it is free:
        whether a run is alive, judged by the lock's state, never by a pid (the run may be on another host)."""
        ...

    def on_lost(self, callback: Callable[[], None]) -> None:
        """Call `callback` (from any thread) if the lock is lost while held: the run then stops starting steps."""
        ...

    def release(self) -> None: ...
