"""The part of a run report (docs/reference.md) that run metrics need, parsed once into typed values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dr.clock import parse_iso

SUCCEEDED = "succeeded"
DRY_RUN = "dry-run"
DRILL = "drill"
PLANNED = "planned"


@dataclass(frozen=True)
class StepRecord:
    name: str
    outcome: str
    duration_seconds: float
    budget_seconds: float | None


@dataclass(frozen=True)
class RunRecord:
    runbook: str
    target: str
    mode: str
    outcome: str
    duration_seconds: float
    finished_at: float | None
    """Unix time the run finished, None when the report does not say."""
    steps: tuple[StepRecord, ...]

    @property
    def succeeded(self) -> bool:
        """Only a run that did its work counts: `already-done` proves nothing about the runbook."""
        return self.outcome == SUCCEEDED

    @property
    def is_drill(self) -> bool:
        return DRILL in (self.runbook, self.mode)


def parse_report(report: Mapping[str, Any]) -> RunRecord:
    """The run record of `report`; raises KeyError/ValueError/TypeError when the report is malformed."""
    finished = report.get("finished_at")
    drill = report.get("drill")
    drill_mode = drill.get("mode") if isinstance(drill, Mapping) else None
    # A dry-run drill runs as a "drill" but exercises nothing: it is a dry run for metrics too.
    mode = DRY_RUN if drill_mode == DRY_RUN else str(report.get("mode", "real"))
    steps = tuple(
        StepRecord(
            name=str(step["name"]),
            outcome=str(step.get("status", "unknown")),
            duration_seconds=float(step.get("duration_seconds") or 0.0),
            budget_seconds=float(step["budget_seconds"]) if step.get("budget_seconds") is not None else None,
        )
        for step in report.get("steps") or ()
        if step.get("status") != PLANNED
    )
    return RunRecord(
        runbook=str(report["runbook"]),
        target=str(report["target"]),
        mode=mode,
        outcome=str(report["status"]),
        duration_seconds=float(report.get("duration_seconds") or 0.0),
        finished_at=parse_iso(str(finished)).timestamp() if finished else None,
        steps=steps,
    )
