"""The failover runbook: prechecks, RPO gate, (planned: fence the sources, wait for catch-up), promote every
database, move DNS and confirm, (unplanned: fence what was left behind where it answers); timed against the RTO.

An unplanned move's critical path only calls the target's region, Route53 (us-east-1) and CloudWatch of the
replica's region; the fence of the side left behind is best effort and never blocks. A planned move (the source's
RDS answers) also fences the source and waits for catch-up, so no acknowledged write is lost. See failover.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from dr.config.model import DnsRecord, DnsStrategy, Engine
from dr.engine.registry import register
from dr.engine.runbook import DEFAULT_CONCURRENCY, DEFAULT_FAMILY_LIMITS, Parallel, Phase, Runbook
from dr.engine.step import RunContext, Step
from dr.engine.timeline import Milestones
from runbooks.steps._common import Move, is_cluster, moves, records
from runbooks.steps.backups import KeepClusterBackups
from runbooks.steps.catch_up import CatchUp
from runbooks.steps.complete import CompleteAtStart, Guarded
from runbooks.steps.confirm import Confirm
from runbooks.steps.dns_arc import arc_steps
from runbooks.steps.dns_failover_routing import RoutingView
from runbooks.steps.dns_upsert import UpsertZone
from runbooks.steps.fence import FenceLeftBehind, FenceSource, fence_watch
from runbooks.steps.prechecks import Prechecks
from runbooks.steps.promote_aurora import PromoteGlobalMember
from runbooks.steps.promote_rds import PromoteReplica
from runbooks.steps.rds_watch import RdsWatch
from runbooks.steps.rpo_gate import RpoGate

PROMOTIONS_ACTING_AT_ONCE = DEFAULT_CONCURRENCY
"""Promotions in their read-tag-promote part at once (each gives its slot back when it starts waiting for AWS).
RDS allows 12 requests a second per account and region after a burst of 300 (RDS User Guide, "Quotas and
constraints"): 200 promotions tagging and promoting all at once queued hundreds of calls behind an empty bucket,
and some gave up after their retries (docs/benchmarks.md, 2026-12-06); 16 at a time keep every call's wait short."""


def promote_step(move: Move, watch: RdsWatch) -> Step:
    if move.db.engine is Engine.AURORA_GLOBAL:
        return PromoteGlobalMember(move, watch)
    return PromoteReplica(move, watch)


def dns_steps(dns: list[DnsRecord]) -> list[Step]:
    """One step per hosted zone: its upsert and failover-routing records in one change batch where AWS allows;
    one step per ARC cluster for its arc-routing-control records (routing controls, no Route53 API call)."""
    by_zone: dict[str, list[DnsRecord]] = defaultdict(list)
    for record in dns:
        if record.strategy is not DnsStrategy.ARC_ROUTING_CONTROL:
            by_zone[record.zone_id].append(record)
    view = RoutingView()  # one Inverted read per account and one name-server lookup per zone, for all zones
    zones: list[Step] = [UpsertZone(zone, zone_records, view) for zone, zone_records in by_zone.items()]
    return zones + arc_steps([r for r in dns if r.strategy is DnsStrategy.ARC_ROUTING_CONTROL], view)


def move_phases(ctx: RunContext, complete: CompleteAtStart, alongside: Sequence[Step] = (),
                prechecks: Prechecks | None = None) -> list[Phase]:
    """The switch itself, in the direction of ctx (source -> target): shared by failover and failback.

    A planned move fences every source writer (Aurora global: the switchover does it), then waits until each
    replica has applied everything, then promotes: no write acknowledged before the fence is lost. Steps of a
    planned move are `skipped` in an unplanned one (decided by prechecks, journaled, so a resume decides alike).
    After the promotions, one group moves DNS and confirms the target: confirm's reads (readiness, health
    checks, writers) depend on the promotions, not on DNS, and it polls until the target's health checks are
    healthy (a return restores inverted ones in the DNS steps), so it runs beside them rather than after.
    `alongside` joins that group (the failover's fencing of what an unplanned move left behind)."""
    # One describe per account, region and kind at a time, shared by the gate and promotions, narrowed to the
    # databases whose promotion is still under way (and, in the source's region, the copies being left, which
    # each promotion reads for the lineage: one listing for all of them, not one each).
    watch = RdsWatch(scope=[(m.db, m.new) for m in moves(ctx)] + [(m.db, m.old) for m in moves(ctx)])
    phases: list[Phase] = [Guarded(prechecks or Prechecks(), complete), Guarded(RpoGate(watch), complete)]
    plain = [m for m in moves(ctx) if m.db.engine is not Engine.AURORA_GLOBAL]
    if plain:
        fences = fence_watch(ctx.run_id, [(m, m.old) for m in plain])  # one listing per region for every fence
        phases.append(Parallel("fence", [Guarded(FenceSource(m, fences), complete) for m in plain],
                               max_concurrency=max(DEFAULT_CONCURRENCY, len(plain))))
        rpo = ctx.topology.objectives.rpo
        phases.append(Parallel("catch-up", [Guarded(CatchUp(m, watch, rpo), complete) for m in plain],
                               max_concurrency=max(DEFAULT_CONCURRENCY, len(plain))))
    promotions = [promote_step(m, watch) for m in moves(ctx)]
    if promotions:
        # Every promotion at once: they mostly wait on AWS, and the slowest one bounds the phase only if none
        # queues behind a busy slot (16 slots for 60 databases made the phase ~4 promotions long).
        phases.append(Parallel("promote", promotions, max_concurrency=max(DEFAULT_CONCURRENCY, len(promotions)),
                               family_limits={**DEFAULT_FAMILY_LIMITS, "rds": PROMOTIONS_ACTING_AT_ONCE}))
    # PromoteReadReplicaDBCluster takes no backup settings: each promoted Aurora cluster gets them after
    backups = [Guarded(KeepClusterBackups(m, watch), complete) for m in moves(ctx) if is_cluster(m.db.engine)]
    switch = [Guarded(Confirm(), complete), *dns_steps(records(ctx)), *backups, *alongside]
    phases.append(Parallel("switch", switch, max_concurrency=max(DEFAULT_CONCURRENCY, len(switch))))
    return phases


def move_milestones(ctx: RunContext) -> Milestones:
    """The report's timeline of a move: promotions (writers ready), DNS zones (traffic moved, + the largest TTL
    of the moved records: clients followed) and confirm, which passes once the target's health checks are
    healthy (target healthy)."""
    dns = records(ctx)
    return Milestones(writers=[promote_step(m, RdsWatch()).name for m in moves(ctx)],
                      traffic=[s.name for s in dns_steps(dns)], healthy=[Confirm.name],
                      ttl_seconds=float(max(r.ttl for r in dns)) if dns else None)


@register
class Failover(Runbook):
    """`drctl failover --to TARGET`: move the databases and traffic to the DR side."""

    name = "failover"

    def phases(self, ctx: RunContext) -> list[Phase]:
        complete = CompleteAtStart()
        # not Guarded: a re-run after the region came back must fence what the first run could not reach
        plain = [m for m in moves(ctx) if m.db.engine is not Engine.AURORA_GLOBAL]
        fences = fence_watch(ctx.run_id, [(m, m.old) for m in plain])  # one listing per region for every fence
        fence: list[Step] = [FenceLeftBehind(m, fences) for m in plain]
        return move_phases(ctx, complete, alongside=fence)

    def confirmation(self, ctx: RunContext) -> str | None:
        """Planned or not, the operator types the target's name: at 3 a.m. a bare `yes` is typed by reflex."""
        return ctx.target

    def milestones(self, ctx: RunContext) -> Milestones | None:
        return move_milestones(ctx)
