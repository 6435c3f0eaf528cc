"""Run events and their observers: the journal, the report builder, progress and metrics listen here.

Every event is also one journal line (`to_record`). Observers are called in subscription order; one that
raises is logged and skipped, because a progress or metrics failure must never break a failover.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from dr.clock import iso, parse_iso

log = logging.getLogger(__name__)


class EventKind(StrEnum):
    RUN_STARTED = "run-started"
    """The journal header: runbook, source, target, options, topology path and hash, clock start."""
    RUN_RESUMED = "run-resumed"
    RUN_FINISHED = "run-finished"
    STEP_STARTED = "step-started"
    STEP_INTENT = "step-intent"
    """Recorded durably before each call of a mutating step's `act`."""
    STEP_OUTCOME = "step-outcome"
    """After that call: `status` is "ok" or "error"."""
    STEP_RETRIED = "step-retried"
    STEP_FINISHED = "step-finished"
    """`status` is a StepStatus: succeeded, failed, skipped, already-done or planned."""
    STEP_COMPENSATING = "step-compensating"
    """Before a step's `compensate` (rollback runbooks only); STEP_COMPENSATED carries ok/error after."""
    STEP_COMPENSATED = "step-compensated"
    FACT = "fact"
    LOCK_BROKEN = "lock-broken"


class RunStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUSED = "refused"
    INTERRUPTED = "interrupted"
    ALREADY_DONE = "already-done"
    RUNNING = "running"
    """Only in `drctl runs list`: the journal has no end (running, or its process died)."""


@dataclass(frozen=True)
class Event:
    """One thing that happened in a run. Fields not meaningful for a kind keep their defaults."""

    kind: EventKind
    at: datetime
    step: str | None = None
    resource: str = ""
    status: str = ""
    attempt: int = 0
    budget: float | None = None
    duration: float | None = None
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"type": str(self.kind), "at": iso(self.at)}
        for name in ("step", "resource", "status", "attempt", "budget", "duration", "detail"):
            value = getattr(self, name)
            if value not in (None, "", 0):
                record[name] = value
        if self.data:
            record["data"] = self.data
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Event:
        return cls(
            kind=EventKind(record["type"]), at=parse_iso(record["at"]), step=record.get("step"),
            resource=record.get("resource", ""), status=record.get("status", ""),
            attempt=int(record.get("attempt", 0)), budget=record.get("budget"),
            duration=record.get("duration"), detail=record.get("detail", ""), data=record.get("data", {}),
        )


class Observer(Protocol):
    """Anything that wants to hear about a run. Must not assume it is called from the main thread."""

    def notify(self, event: Event) -> None: ...


class EventBus:
    """Fans events out to observers; isolates their failures from the run."""

    def __init__(self) -> None:
        self._observers: list[Observer] = []
        self._lock = threading.Lock()

    def subscribe(self, observer: Observer) -> None:
        self._observers.append(observer)

    def publish(self, event: Event) -> None:
        with self._lock:
            for observer in list(self._observers):
                try:
                    observer.notify(event)
                except Exception:
                    log.warning("observer %s failed on %s; the run goes on", type(observer).__name__,
                                event.kind, exc_info=True)


class EventSink(Protocol):
    """The durable side of events (the journal): a failure here must stop the run, so it is not isolated."""

    def record(self, event: Event) -> None: ...


class Recorder:
    """Emits events: first durably to the journal (errors propagate), then to the observers (isolated)."""

    def __init__(self, journal: EventSink | None, bus: EventBus, now: Any) -> None:
        self.journal = journal
        self.bus = bus
        self._now = now

    def emit(self, kind: EventKind, *, durable: bool = True, **fields: Any) -> Event:
        event = Event(kind, self._now(), **fields)
        if durable and self.journal is not None:
            self.journal.record(event)
        self.bus.publish(event)
        return event
