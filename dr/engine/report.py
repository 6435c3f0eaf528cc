"""The run report (docs/reference.md), built by listening to step events; plus a text rendering for humans.

Extensions beyond the documented fields (additive): `journal` (where the journal is), `next_action` (what to do now),
`in_flight` (steps started and not finished when the journal ends: `drctl runs show` of a live or dead run), each
step's `outcome` (what happened to AWS: dr.engine.outcome), `rto.note`/`rpo.note` (why there is no verdict),
`timeline` (dr.engine.timeline), `rpo.per_database` (each database's data-loss window, from the
`rpo.data_loss_window_seconds.<db>` facts: see dr.engine.facts). Unknown values are null, never a made-up zero.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from dr.clock import iso
from dr.engine.events import Event, EventKind, RunStatus
from dr.engine.facts import advices, dns_answers, rpo_unknown, rpo_windows
from dr.engine.journal.header import RunHeader
from dr.engine.journal.replay import RunHistory, StepRecord, apply, replay
from dr.engine.outcome import outcome_of
from dr.engine.step import StepStatus
from dr.engine.timeline import Milestones, build_timeline


class ReportBuilder:
    """Observer: folds every event into a replay of the journal (all attempts of the run), in runbook order."""

    def __init__(self, header: RunHeader, order: list[str], *, journal: str = "",
                 rto_window: tuple[str, Sequence[str]] | None = None, milestones: Milestones | None = None) -> None:
        self.header = header
        self.rto_window = rto_window
        self.milestones = milestones
        self.order = order
        self.journal = journal
        self._history = RunHistory(header=header)
        self._lock = threading.Lock()

    @property
    def _steps(self) -> dict[str, StepRecord]:
        return self._history.steps

    @property
    def in_flight(self) -> set[str]:
        """Steps started and not finished: of a dead attempt until a later one ends them, or still running."""
        return self._history.running

    def seed(self, history: RunHistory) -> None:
        """Start from what an earlier part of the run already recorded (resume, `runs show`)."""
        with self._lock:
            self._history = replay(list(history.events)) if history.events else history

    def notify(self, event: Event) -> None:
        if event.kind is EventKind.STEP_COMPENSATED and event.step:
            self._compensated(event.step, event)
            return
        with self._lock:
            apply(self._history, event)

    def _compensated(self, name: str, event: Event) -> None:
        with self._lock:
            record = self._steps.get(name)
            if record is not None:
                note = "compensated" if event.status == "ok" else f"compensation FAILED: {event.detail}"
                record.detail = f"{record.detail}; {note}" if record.detail else note

    def build(self, status: RunStatus, finished_at: datetime, facts: dict[str, Any]) -> dict[str, Any]:
        h = self.header
        elapsed, measured = self._rto_elapsed(finished_at)
        windows = rpo_windows(facts)
        # one database's unknown window makes the run's unknown too: never report a made-up "met"
        window = max(windows.values()) if windows and not rpo_unknown(facts) else None
        with self._lock:
            steps = dict(self._steps)
            in_flight = sorted(self.in_flight)
            changed = self._history.mutated
        rto_note, rpo_note = verdict_notes(status, h.mode, changed, window, rpo_unknown(facts))
        succeeded = status in (RunStatus.SUCCEEDED, RunStatus.ALREADY_DONE)
        return {
            "run_id": h.run_id, "runbook": h.runbook, "source": h.source, "target": h.target, "mode": h.mode,
            "status": str(status), "started_at": iso(h.started_at), "finished_at": iso(finished_at),
            "clock_started_at": iso(h.clock_started_at),
            "duration_seconds": round((finished_at - h.started_at).total_seconds(), 3),
            "rto": {**self._rto(elapsed, measured, facts, met=None if rto_note else succeeded), "note": rto_note},
            "rpo": {"target_seconds": h.rpo_seconds, "data_loss_window_seconds": window,
                    "met": None if window is None or rpo_note else window <= h.rpo_seconds,
                    "per_database": windows, "note": rpo_note},
            "steps": [step_line(steps[name]) for name in self._names()],
            "timeline": build_timeline(h, steps, self.milestones),
            "journal": self.journal,
            "in_flight": in_flight,
            "next_action": "; ".join([next_action(status, h.run_id, self._first_failure()), *advices(facts)]),
            "advice": advices(facts),
        }

    def _rto(self, elapsed: float, measured: str, facts: dict[str, Any], *, met: bool | None) -> dict[str, Any]:
        """The RTO section. With DNS answers journaled (`dns.answered.*`): when the last answer changed and when
        clients have followed (that time + the record's TTL), both from the RTO's start; `met` is judged on the
        time clients have followed (traffic is back then), else on the elapsed time."""
        target = self.header.rto_seconds
        out: dict[str, Any] = {"target_seconds": target, "elapsed_seconds": round(elapsed, 3)}
        answers = dns_answers(facts)
        judged = elapsed
        if answers:
            start = self._rto_start()
            changed = max(at for at, _ in answers)
            followed = max(at + timedelta(seconds=ttl) for at, ttl in answers)
            out["answer_changed_seconds"] = round((changed - start).total_seconds(), 3)
            out["clients_followed_seconds"] = judged = round((followed - start).total_seconds(), 3)
        out["met"] = None if met is None else met and judged <= target
        out["measured"] = measured
        if answers:
            out["judged_on"] = "clients_followed_seconds"
        return out

    def _rto_start(self) -> datetime:
        """Where the RTO is counted from: the clock start, or the start of the RTO window's first step."""
        if self.rto_window is not None:
            with self._lock:
                first = self._steps.get(self.rto_window[0])
            if first is not None and first.started_at is not None:
                return first.started_at
        return self.header.clock_started_at

    def _rto_elapsed(self, finished_at: datetime) -> tuple[float, str]:
        """Seconds the RTO is judged on, and what they span."""
        h = self.header
        whole = (finished_at - h.clock_started_at).total_seconds(), "from the clock start to the end of the run"
        if self.rto_window is None:
            return whole
        first_name, last_names = self.rto_window
        with self._lock:
            first = self._steps.get(first_name)
            ends = {name: r.started_at + timedelta(seconds=r.duration) for name in last_names
                    if (r := self._steps.get(name)) is not None and r.started_at is not None}
        if first is None or first.started_at is None or not ends:
            return whole
        last_name = max(ends, key=lambda name: ends[name])
        return ((ends[last_name] - first.started_at).total_seconds(),
                f"from the start of {first_name} to the end of {last_name}")

    def _names(self) -> list[str]:
        with self._lock:
            extra = [n for n in self._steps if n not in self.order]
        return [n for n in self.order if n in self._steps] + extra

    def _first_failure(self) -> StepRecord | None:
        for name in self._names():
            if self._steps[name].status is StepStatus.FAILED:
                return self._steps[name]
        return None


def step_line(r: StepRecord) -> dict[str, Any]:
    """One step of the report: `status` (how the step ended) and `outcome` (what happened to AWS)."""
    return {"name": r.name, "resource": r.resource, "status": str(r.status), "outcome": str(outcome_of(r)),
            "started_at": iso(r.started_at) if r.started_at else None,
            "duration_seconds": round(r.duration, 3), "budget_seconds": r.budget,
            "attempts": r.attempts, "detail": r.detail}


def verdict_notes(status: RunStatus, mode: str, changed: bool, window: float | None,
                  unknown: list[str]) -> tuple[str | None, str | None]:
    """Why the RTO and the RPO have no verdict (None: they have one). A verdict only where it means something:
    not for a run refused or failed before any change, nor one that found everything already done."""
    if mode == "dry-run":
        return "n/a (dry run: nothing was changed)", "n/a (dry run: nothing was changed)"
    if status is RunStatus.REFUSED and not changed:
        return "n/a (refused before any change)", "n/a (refused before any change)"
    if status is RunStatus.FAILED and not changed:
        return "n/a (failed before any change)", "n/a (failed before any change)"
    if status is RunStatus.ALREADY_DONE:
        nothing = "n/a (already done: this run moved nothing)"
        return nothing, nothing if window is None else None
    rto = {RunStatus.RUNNING: "n/a (the run has not finished)",
           RunStatus.INTERRUPTED: "n/a (interrupted: the move is not complete)"}.get(status)
    if window is not None:
        return rto, None
    if unknown:
        return rto, f"n/a: data-loss window unknown for {', '.join(unknown)} (passed with --accept-data-loss)"
    return rto, "n/a: no data-loss window was recorded (no promotion measured one)"


def next_action(status: RunStatus, run_id: str, failure: StepRecord | None) -> str:
    where = f" ({failure.name}: {failure.detail})" if failure else ""
    return {
        RunStatus.SUCCEEDED: "none: the run is complete",
        RunStatus.ALREADY_DONE: "none: everything was already in the desired state",
        RunStatus.FAILED: f"fix the failed step{where}, then `drctl resume {run_id}`; "
                          f"`drctl runs show {run_id}` lists what was done",
        RunStatus.REFUSED: f"nothing was changed; resolve the refusal{where} and run again",
        RunStatus.INTERRUPTED: f"`drctl resume {run_id}` continues where the run stopped",
        RunStatus.RUNNING: f"the run has not finished; if its process is gone, `drctl resume {run_id}`",
    }[status]
