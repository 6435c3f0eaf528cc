"""The fence runbook: `drctl fence --env ENV` fences every stale writer of ENV's region, as soon as it answers.

After an unplanned failover the old primaries could not be reached: they are standalone and writable, and when
their region returns their applications write to them again (split brain). This runbook reads each database's
lineage (which copy is the current writer, dr.aws.lineage), fences each copy in ENV's region that is a stale
writer (tag, rename: its endpoint is deleted and it reboots) and stops it where AWS allows. It never touches the
current writer, and refuses when it cannot tell which copy that is. Idempotent: a fenced copy is `already-done`;
a stale copy that is stopped but not fenced is not (AWS restarts it after seven days): its step fails naming
the start command, since a rename needs an available instance.
See runbooks/DRSplitBrainRisk.md for the human page.
"""

from __future__ import annotations

from dr.engine.registry import register
from dr.engine.runbook import Parallel, Phase, Runbook
from dr.engine.step import RunContext, Step
from runbooks.steps._common import moves
from runbooks.steps.fence import FenceStale, StopFenced, fence_watch


@register
class Fence(Runbook):
    """`drctl fence --env ENV`: the run's target is ENV (whose copies are fenced), its source ENV's partner."""

    name = "fence"
    waits_for_dead_runs = False
    """Fencing a stale writer is what an operator may need most while a dead move is being sorted out."""

    def phases(self, ctx: RunContext) -> list[Phase]:
        todo = moves(ctx)  # move.new: the copy in the target's region
        fences = fence_watch(ctx.run_id, [(m, m.new) for m in todo])  # one listing per region for every fence
        fence: list[Step] = [FenceStale(m, prefix="fence", watch=fences) for m in todo]
        stop: list[Step] = [StopFenced(m.db, m.new, watch=fences) for m in todo]
        return [Parallel(name, steps) for name, steps in (("fence", fence), ("stop-fenced", stop)) if steps]

    def confirmation(self, ctx: RunContext) -> str | None:
        return ctx.target
