"""The drill runbook: a game day that proves the RTO and RPO without touching production.

Modes (RunOptions.extra["mode"], journaled, so `drctl resume` rebuilds the same phases):
- `dry-run`: the failover's phases walked as a dry run (plan, every read-only check) plus the lag read.
- `clone`: the failover's read-only prechecks, the lag at start, then a temporary copy of each database
  next to its DR replica, promoted and timed; DNS exercised on `drill_name` records; verification; then
  everything created is deleted (the CLI also deletes by tag when the run fails or is interrupted).
- `full` is not a phase list: the CLI runs the real failover and failback runbooks (see dr/cli/drill.py).
See drill.md for the human page.
"""

from __future__ import annotations

from dr.drill.clones import ClonePlan, plan_clone
from dr.engine.registry import register
from dr.engine.runbook import Parallel, Phase, Runbook
from dr.engine.step import RunContext, Step
from dr.errors import UsageError
from runbooks.failover import Failover
from runbooks.steps._common import moves
from runbooks.steps.drill_clone import (
    CreateClone,
    CreateWriter,
    DeleteClone,
    DeleteCloneWriter,
    PromoteClone,
    VerifyClone,
)
from runbooks.steps.drill_dns import DeleteDrillZone, DrillUpsertZone, VerifyDrillZone, by_zone, drill_records
from runbooks.steps.drill_lag import DrillLag
from runbooks.steps.prechecks import Prechecks

MODES = ("dry-run", "clone", "full")
DEFAULT_MODE = "clone"

RTO_GROUPS: tuple[tuple[str, ...], ...] = (
    ("prechecks",), ("drill-rpo",), ("drill-promote:",), ("drill-dns:",), ("drill-verify:", "drill-verify-dns:"))
"""The clone drill's steps that stand for a failover's critical path, phase by phase (parallel steps
count once, by the slowest): the achieved RTO is the sum of each group's slowest step. Clone creation
and cleanup are not part of it (in a real failover the replica already exists)."""


def mode_of(ctx: RunContext) -> str:
    mode = str(ctx.options.extra.get("mode", DEFAULT_MODE))
    if mode not in MODES:
        raise UsageError(f"--mode {mode!r}: choose one of {', '.join(MODES)}")
    return mode


def clone_plans(ctx: RunContext) -> list[ClonePlan]:
    """One temporary copy per database of the move, next to the copy that would be promoted."""
    return [plan_clone(ctx.topology, m.db, ctx.run_id, writer=m.old, replica=m.new) for m in moves(ctx)]


def _group(name: str, steps: list[Step]) -> list[Phase]:
    return [Parallel(name, steps)] if steps else []


def clone_phases(ctx: RunContext) -> list[Phase]:
    plans = clone_plans(ctx)
    zones = by_zone(drill_records(ctx))
    phases: list[Phase] = [Prechecks(), DrillLag()]
    phases += _group("drill-clones", [CreateClone(p) for p in plans])
    phases += _group("drill-writers", [CreateWriter(p) for p in plans if p.is_cluster])
    phases += _group("drill-promote", [PromoteClone(p) for p in plans])
    phases += _group("drill-dns", [DrillUpsertZone(z, recs) for z, recs in zones.items()])
    verify: list[Step] = [VerifyClone(p) for p in plans]
    verify += [VerifyDrillZone(z, recs) for z, recs in zones.items()]
    phases += _group("drill-verify", verify)
    phases += _group("drill-cleanup-dns", [DeleteDrillZone(z, recs) for z, recs in zones.items()])
    phases += _group("drill-cleanup-writers", [DeleteCloneWriter(p) for p in plans if p.is_cluster])
    phases += _group("drill-cleanup", [DeleteClone(p) for p in plans])
    return phases


@register
class Drill(Runbook):
    """`drctl drill --to TARGET --mode dry-run|clone`: a timed game day with a report."""

    name = "drill"
    mode = "drill"

    def phases(self, ctx: RunContext) -> list[Phase]:
        mode = mode_of(ctx)
        if mode == "clone":
            return clone_phases(ctx)
        if mode == "dry-run":
            if not ctx.options.dry_run:
                raise UsageError("a dry-run drill runs with dry_run set: use `drctl drill --mode dry-run`")
            return [DrillLag(), *Failover().phases(ctx)]
        raise UsageError("a full drill runs the failover and failback runbooks: use `drctl drill --mode full`")

    def confirmation(self, ctx: RunContext) -> str | None:
        return None
