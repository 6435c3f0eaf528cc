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
    mutating: bool = False
    """The step changes AWS (from its `step-finished` record)."""
    sent: bool = False
    """A mutating call of this step reached AWS or may have, by any attempt of the run: an `ok` outcome, or an
    intent whose outcome the journal never got (the process died or was stopped mid-call)."""


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
    accepted: set[str] = field(default_factory=set)
    """Steps with an `ok` outcome in any attempt, kept across their later ends (a Ctrl-C'd step that was
    called ends `skipped`, yet AWS has its call): a resume that finds them done reports them completed by
    this run, never `already-done`."""
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
        apply(history, event)
    return history


def apply(history: RunHistory, event: Event) -> None:
    """Fold one event into `history` (the report builder folds live events the same way)."""
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
            history.accepted.add(name)
    elif event.kind is EventKind.STEP_FINISHED:
        history.steps[name] = finished_record(event, sent=name in history.accepted or name in history.pending)
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


def finished_record(event: Event, *, sent: bool) -> StepRecord:
    """A step's report line from its `step-finished` event and what the journal says was sent to AWS."""
    return StepRecord(name=event.step or "", resource=event.resource, status=StepStatus(event.status),
                      started_at=_started(event) or event.at, duration=event.duration or 0.0,
                      budget=event.budget or 0.0, attempts=event.attempt, detail=event.detail,
                      mutating=bool(event.data.get("mutating", False)), sent=sent)


def _started(event: Event) -> datetime | None:
    from dr.clock import parse_iso

    raw = event.data.get("started_at")
    return parse_iso(raw) if isinstance(raw, str) else None
