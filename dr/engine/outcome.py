"""What a step did to AWS, as the journal knows it from the step's intents, outcomes and end (all attempts).

A step's `status` says how the step ended in the engine; its `outcome` says what happened to AWS. They differ
where it matters at 3 a.m.: a promotion called and then stopped by Ctrl-C ends `skipped` but AWS has the call
(`called`); a promotion made by a killed attempt and found done by its resume is `verified`, never `already-done`
as if nobody had done it.
"""

from __future__ import annotations

from enum import StrEnum

from dr.engine.journal.replay import StepRecord
from dr.engine.step import StepStatus


class Outcome(StrEnum):
    PLANNED = "planned"
    """Dry run: nothing was sent; the step would act."""
    SKIPPED = "skipped"
    """Not run, or did not apply: nothing was sent."""
    ALREADY_DONE = "already-done"
    """The desired state was there before any attempt of this run sent anything."""
    CHECKED = "checked"
    """A read-only step (prechecks, gates, confirm) ran and passed; nothing was changed."""
    CALLED = "called"
    """A mutation was sent to AWS (accepted, or in flight when the run stopped) and is not verified."""
    VERIFIED = "verified"
    """A mutation sent by this run (any attempt) and then verified in AWS."""
    FAILED = "failed"
    """The step failed and no mutation of it was accepted by AWS."""


def outcome_of(record: StepRecord) -> Outcome:
    """The truthful outcome of one step, from its last end and what any attempt sent."""
    status = record.status
    if status is StepStatus.PLANNED:
        return Outcome.PLANNED
    if status is StepStatus.SUCCEEDED:
        return Outcome.VERIFIED if record.mutating or record.sent else Outcome.CHECKED
    if status is StepStatus.ALREADY_DONE:
        return Outcome.VERIFIED if record.sent else Outcome.ALREADY_DONE
    if record.sent:
        return Outcome.CALLED
    return Outcome.FAILED if status is StepStatus.FAILED else Outcome.SKIPPED
