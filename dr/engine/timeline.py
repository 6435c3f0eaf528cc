"""A run's timeline for the post-incident review: incident start, declared, writers ready, traffic moved,
clients followed, target healthy; each with its time and its offset from the incident start (else from the
command's start), read from the journal's step records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dr.clock import iso
from dr.engine.journal.header import RunHeader
from dr.engine.journal.replay import StepRecord
from dr.engine.outcome import Outcome, outcome_of


@dataclass(frozen=True)
class Milestones:
    """Which steps mark a move's milestones (`Runbook.milestones`)."""

    writers: Sequence[str] = ()
    """Promotions: the writers are ready when the last of them is verified."""
    traffic: Sequence[str] = ()
    """DNS steps: traffic moved when the last is verified (records INSYNC, answers changed)."""
    healthy: Sequence[str] = ()
    """Steps that pass once the target's health checks are healthy (confirm)."""
    ttl_seconds: float | None = None
    """The largest TTL of the moved records: clients followed at most this long after traffic moved."""


LABELS = {
    "incident-start": "incident start",
    "declared": "declared (command started)",
    "writers-ready": "writers ready (last promotion verified)",
    "traffic-moved": "traffic moved (DNS changes verified)",
    "clients-followed": "clients followed (traffic moved + max TTL)",
    "target-healthy": "target healthy (its health checks)",
}


def _end(record: StepRecord) -> datetime | None:
    return record.started_at + timedelta(seconds=record.duration) if record.started_at else None


def reached(names: Sequence[str], steps: Mapping[str, StepRecord]) -> tuple[datetime | None, str]:
    """When the last of `names` was done by this run, or None and why not."""
    if not names:
        return None, "no such step in this run"
    records = [steps.get(name) for name in names]
    missing = [name for name, r in zip(names, records, strict=True)
               if r is None or outcome_of(r) not in (Outcome.VERIFIED, Outcome.CHECKED, Outcome.ALREADY_DONE)]
    if missing:
        return None, f"not reached ({missing[0]}: {_state(steps.get(missing[0]))})"
    ends = {r.name: end for r in records if r is not None and outcome_of(r) is not Outcome.ALREADY_DONE
            and (end := _end(r)) is not None}
    if not ends:
        return None, "already so before the run"
    last = max(ends, key=lambda name: ends[name])
    return ends[last], f"{last}" + (f", last of {len(names)}" if len(names) > 1 else "")


def _state(record: StepRecord | None) -> str:
    return "not run" if record is None else str(outcome_of(record))


def build_timeline(header: RunHeader, steps: Mapping[str, StepRecord], milestones: Milestones | None
                   ) -> dict[str, Any]:
    """The report's `timeline`: `origin` (what offsets count from) and `events` in their documented order."""
    incident = header.clock_started_at if header.clock_started_at != header.started_at else None
    origin = incident or header.started_at
    m = milestones or Milestones()
    points: list[tuple[str, datetime | None, str]] = [
        ("incident-start", incident, "--incident-start" if incident else "not given (--incident-start)"),
        ("declared", header.started_at, f"drctl {header.runbook} {header.source} -> {header.target}"),
    ]
    points.append(("writers-ready", *reached(m.writers, steps)))
    traffic, why = reached(m.traffic, steps)
    points.append(("traffic-moved", traffic, why))
    if traffic is not None and m.ttl_seconds is not None:
        points.append(("clients-followed", traffic + timedelta(seconds=m.ttl_seconds),
                       f"+ max TTL {m.ttl_seconds:g}s"))
    else:
        points.append(("clients-followed", None, why if traffic is None else "TTL unknown"))
    points.append(("target-healthy", *reached(m.healthy, steps)))
    return {
        "origin": "incident-start" if incident else "declared",
        "events": [{"name": name, "label": LABELS[name], "at": iso(at) if at else None,
                    "offset_seconds": round((at - origin).total_seconds(), 3) if at else None, "detail": detail}
                   for name, at, detail in points],
    }
