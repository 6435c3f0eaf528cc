"""Replay a journal: where the run stands, which steps are settled, which mutation was in flight."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dr.engine.events import Event, EventKind, RunStatus
from dr.engine.journal.header import RunHeader
from dr.engine.step import StepStatus
from dr.errors import UsageError

SETTLED = frozenset({StepStatus.SUCCEEDED, StepStatus.ALREADY_DONE})
"""Step outcomes resume keeps; failed, skipped and planned steps run again."""


@dataclass
class StepRecord:
    """A step's line in the report."""

    name: str
    resource: str = ""
    status: StepStatus = StepStatus.SKIPPED
    started_at: datetime | None = None
    duration: float = 0.0
    budget: float = 0.0
    attempts: int = 0
    detail: str = ""


@dataclass
class RunHistory:
    header: RunHeader
    steps: dict[str, StepRecord] = field(default_factory=dict)
    """The last finished record of each step."""
    pending: set[str] = field(default_factory=set)
    """Steps whose last mutating call has an intent and no outcome: a crash hit between the two."""
    running: set[str] = field(default_factory=set)
    """Steps started and not finished (in flight when the journal ends)."""
    acted: set[str] = field(default_factory=set)
    """Steps whose mutation completed (outcome ok) but which never recorded their end: the crash came after."""
    facts: dict[str, Any] = field(default_factory=dict)
    status: RunStatus = RunStatus.RUNNING
    """The last `run-finished` status, RUNNING when the journal has none after the last (re)start."""
    finished_at: datetime | None = None
    mutated: bool = False
    """Some mutating call completed: a later refusal is no longer "nothing touched"."""
    events: list[Event] = field(default_factory=list)

    def settled(self, name: str) -> StepRecord | None:
        record = self.steps.get(name)
        return record if record is not None and record.status in SETTLED else None


def replay(events: list[Event]) -> RunHistory:
    if not events or events[0].kind is not EventKind.RUN_STARTED:
        raise UsageError("the journal does not start with a run-started header; it is damaged")
    history = RunHistory(header=RunHeader.from_data(events[0].data), events=events)
    for event in events[1:]:
        _apply(history, event)
    return history


def _apply(history: RunHistory, event: Event) -> None:
    name = event.step or ""
    if event.kind is EventKind.STEP_STARTED:
        history.running.add(name)
    elif event.kind is EventKind.STEP_INTENT:
        history.pending.add(name)
    elif event.kind is EventKind.STEP_OUTCOME:
        history.pending.discard(name)
        if event.status == "ok":
            history.mutated = True
            history.acted.add(name)
    elif event.kind is EventKind.STEP_FINISHED:
        history.steps[name] = StepRecord(
            name=name, resource=event.resource, status=StepStatus(event.status),
            started_at=_started(event), duration=event.duration or 0.0, budget=event.budget or 0.0,
            attempts=event.attempt, detail=event.detail)
        history.acted.discard(name)
        history.running.discard(name)
        if event.status != StepStatus.FAILED:
            history.pending.discard(name)
    elif event.kind is EventKind.FACT:
        history.facts[str(event.data["key"])] = event.data.get("value")
    elif event.kind is EventKind.RUN_FINISHED:
        history.status = RunStatus(event.status)
        history.finished_at = event.at
    elif event.kind is EventKind.RUN_RESUMED:
        history.running.clear()
        history.status = RunStatus.RUNNING
        history.finished_at = None


def _started(event: Event) -> datetime | None:
    from dr.clock import parse_iso

    raw = event.data.get("started_at")
    return parse_iso(raw) if isinstance(raw, str) else None
