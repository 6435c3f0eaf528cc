"""A runbook: an ordered list of phases; a phase is one step or a group of steps run in parallel."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from dr.engine.step import RunContext, Step
from dr.engine.timeline import Milestones

DEFAULT_CONCURRENCY = 16
DEFAULT_FAMILY_LIMITS: Mapping[str, int] = {"route53": 4}
"""Per-API-family caps inside a parallel group, so a group cannot flood Route53's control plane."""


@dataclass(frozen=True)
class Parallel:
    """Steps run concurrently (bounded). If one fails with policy abort, running members finish and no
    new member starts."""

    name: str
    steps: Sequence[Step]
    max_concurrency: int = DEFAULT_CONCURRENCY
    family_limits: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_FAMILY_LIMITS))


Phase = Step | Parallel


class Runbook(ABC):
    """Base class: subclasses name themselves and build their phases from the topology.

    `phases` must be deterministic for a given topology, source and target: the journal keys steps by
    name, and `drctl resume` rebuilds the same phases to continue.
    """

    name: ClassVar[str] = "runbook"
    mode: ClassVar[str] = "real"
    """The report's `mode` for a non-dry run: "real", or "drill" for game-day runbooks."""
    waits_for_dead_runs: ClassVar[bool] = True
    """True: a run is refused (exit 3) while a dead run on its environment pair left changes and no end (its
    target is half-moved): `drctl resume` that run first (dr.engine.journal.liveness)."""
    compensate_on_failure: ClassVar[bool] = False
    """True: when the run fails, the engine calls `compensate` of this run's succeeded mutating steps, newest
    first (see dr.engine.compensation). For drills and reversible runbooks."""

    @abstractmethod
    def phases(self, ctx: RunContext) -> list[Phase]:
        """The ordered phases for this context."""

    def confirmation(self, ctx: RunContext) -> str | None:
        """Text the operator must type to proceed on a TTY (e.g. the target name), or None."""
        return None

    def rto_window(self, ctx: RunContext) -> tuple[str, Sequence[str]] | None:
        """The step opening the outage the RTO measures and the steps closing it (from the first's start to
        the end of whichever of the others ends last), or None: the whole run, from the clock start
        (`--incident-start` or the command). Failback, for one, times only its switch: re-protecting
        beforehand is not downtime."""
        return None

    def milestones(self, ctx: RunContext) -> Milestones | None:
        """The steps marking the report's timeline (writers ready, traffic moved, target healthy) and the largest
        TTL of the records moved, or None: the timeline then has only the incident start and the declaration."""
        return None


def steps_of(phases: Sequence[Phase]) -> list[Step]:
    """Every step, in order, groups flattened."""
    out: list[Step] = []
    for phase in phases:
        out.extend(phase.steps if isinstance(phase, Parallel) else [phase])
    return out
