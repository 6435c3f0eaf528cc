"""Rollback for runbooks that opt in (`Runbook.compensate_on_failure`): when the run fails, the mutating
steps that succeeded in this run are compensated in reverse order, each journaled as intent and outcome.

Off by default: most DR mutations (a promotion) cannot be undone, and a half-done failover is usually
better finished by `drctl resume` than rolled back.
"""

from __future__ import annotations

from dr.aws.errors import describe as describe_error
from dr.engine.events import EventKind, Recorder
from dr.engine.step import RunContext, Step, StepStatus
from dr.engine.step_runner import StepResult


def compensate(ctx: RunContext, recorder: Recorder, steps: list[Step], results: list[StepResult]) -> list[str]:
    """Undo this run's succeeded mutations, newest first; returns the steps whose compensation failed."""
    failed: list[str] = []
    done = [s for s, r in zip(steps, results, strict=True)
            if s.mutating and r.record.status is StepStatus.SUCCEEDED and r.record.attempts > 0]
    for step in reversed(done):
        recorder.emit(EventKind.STEP_COMPENSATING, step=step.name, resource=step.resource)
        try:
            step.compensate(ctx)
        except Exception as err:
            failed.append(step.name)
            recorder.emit(EventKind.STEP_COMPENSATED, step=step.name, status="error", detail=describe_error(err))
            continue
        recorder.emit(EventKind.STEP_COMPENSATED, step=step.name, status="ok", detail="compensated")
    return failed
