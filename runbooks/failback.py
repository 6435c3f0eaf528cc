"""The failback runbook: re-protect (fence the stale former writers, re-create replicas toward the original
region under the original ids, wait until they replicate within the RPO), then a planned switch back with the
failover's steps in reverse, then restore DR protection toward the DR region. See failback.md.

`--phase reprotect|switch|all` (RunOptions.extra["phase"]) runs one half or both.
"""

from __future__ import annotations

from collections.abc import Sequence

from dr.config.model import Engine
from dr.engine.registry import register
from dr.engine.runbook import Parallel, Phase, Runbook
from dr.engine.step import RunContext, Step
from dr.engine.timeline import Milestones
from dr.errors import UsageError
from runbooks.failover import dns_steps, move_milestones, move_phases
from runbooks.steps._common import Move, moves, records
from runbooks.steps.complete import CompleteAtStart, Guarded
from runbooks.steps.fence import FenceStale, StopFenced, fence_watch
from runbooks.steps.prechecks import Prechecks
from runbooks.steps.reprotect import CreateReplica, RejoinGlobal, WaitReplicating

PHASES = ("reprotect", "switch", "all")


def protect_phases(ctx: RunContext, pairs: list[Move], prefix: str = "") -> list[Phase]:
    """Make each `move.new` a replica of `move.old` again (fencing whatever stale copy holds its id)."""
    plain = [m for m in pairs if m.db.engine is not Engine.AURORA_GLOBAL]
    watch = fence_watch(ctx.run_id, [(m, m.new) for m in pairs])  # one listing per region and kind for all steps
    fence: list[Step] = [FenceStale(m, watch=watch) for m in plain]
    create: list[Step] = [StopFenced(m.db, m.new, watch=watch) for m in plain]
    create += [CreateReplica(m, watch) for m in plain]
    create += [RejoinGlobal(m, watch) for m in pairs if m.db.engine is Engine.AURORA_GLOBAL]
    wait: list[Step] = [WaitReplicating(m) for m in pairs]
    for step in fence + create + wait:
        step.name = prefix + step.name
    groups = [(f"{prefix}fence-stale", fence), (f"{prefix}reprotect", create), (f"{prefix}replicating", wait)]
    return [Parallel(name, steps) for name, steps in groups if steps]


def phase_of(ctx: RunContext) -> str:
    phase = str(ctx.options.extra.get("phase", "all"))
    if phase not in PHASES:
        raise UsageError(f"--phase {phase!r}: choose one of {', '.join(PHASES)}")
    return phase


@register
class Failback(Runbook):
    """`drctl failback --to ORIGINAL`: re-protect toward the original region, then switch back (planned)."""

    name = "failback"

    def phases(self, ctx: RunContext) -> list[Phase]:
        phase = phase_of(ctx)
        complete = CompleteAtStart()
        pairs = moves(ctx)
        out: list[Phase] = []
        if phase in ("reprotect", "all"):
            out += [_guard(p, complete) for p in protect_phases(ctx, pairs)]
        if phase in ("switch", "all"):
            # planned by definition: refused when the source's RDS does not answer
            out += move_phases(ctx, complete, prechecks=Prechecks(planned_only=True))
            out += protect_phases(ctx, [Move(m.db, old=m.new, new=m.old) for m in pairs], prefix="dr-")
        return out

    def confirmation(self, ctx: RunContext) -> str | None:
        return ctx.target

    def milestones(self, ctx: RunContext) -> Milestones | None:
        return move_milestones(ctx) if phase_of(ctx) in ("switch", "all") else None

    def rto_window(self, ctx: RunContext) -> tuple[str, Sequence[str]] | None:
        """The RTO times the switch (prechecks to the end of DNS and confirm, which run side by side):
        re-protecting, before or after, is not downtime."""
        if phase_of(ctx) not in ("switch", "all"):
            return None
        return "prechecks", ["confirm", *(s.name for s in dns_steps(records(ctx)))]


def _guard(phase: Phase, complete: CompleteAtStart) -> Phase:
    if isinstance(phase, Parallel):
        return Parallel(phase.name, [Guarded(s, complete) for s in phase.steps], phase.max_concurrency,
                        phase.family_limits)
    return Guarded(phase, complete)
