"""The failover runbook: prechecks, RPO gate, promote every database, move DNS, confirm; timed against the RTO.

The critical path only calls the target's region, Route53 (us-east-1) and CloudWatch of the replica's region;
calls to the source region are best-effort extras that never block. See failover.md for the human page.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from dr.config.model import DnsRecord, Engine
from dr.engine.registry import register
from dr.engine.runbook import DEFAULT_CONCURRENCY, Parallel, Phase, Runbook
from dr.engine.step import RunContext, Step
from runbooks.steps._common import Move, is_cluster, moves, records
from runbooks.steps.backups import KeepClusterBackups
from runbooks.steps.complete import CompleteAtStart, Guarded
from runbooks.steps.confirm import Confirm
from runbooks.steps.dns_failover_routing import RoutingView
from runbooks.steps.dns_upsert import UpsertZone
from runbooks.steps.fence import TagFormerWriter
from runbooks.steps.prechecks import Prechecks, source_health
from runbooks.steps.promote_aurora import PromoteGlobalMember
from runbooks.steps.promote_rds import PromoteReplica
from runbooks.steps.rds_watch import RdsWatch
from runbooks.steps.rpo_gate import RpoGate


def promote_step(move: Move, watch: RdsWatch) -> Step:
    if move.db.engine is Engine.AURORA_GLOBAL:
        return PromoteGlobalMember(move, watch)
    return PromoteReplica(move, watch)


def dns_steps(dns: list[DnsRecord]) -> list[Step]:
    """One step per hosted zone: its records of both strategies in one change batch where AWS allows."""
    by_zone: dict[str, list[DnsRecord]] = defaultdict(list)
    for record in dns:
        by_zone[record.zone_id].append(record)
    view = RoutingView()  # one Inverted read per account and one name-server lookup per zone, for all zones
    return [UpsertZone(zone, zone_records, view) for zone, zone_records in by_zone.items()]


def move_phases(ctx: RunContext, complete: CompleteAtStart, alongside: Sequence[Step] = ()) -> list[Phase]:
    """The switch itself, in the direction of ctx (source -> target): shared by failover and failback.

    After the promotions, one group moves DNS and confirms the target: confirm's reads (readiness, health
    checks, writers) depend on the promotions, not on DNS, and it polls until the target's health checks are
    healthy (a return restores inverted ones in the DNS steps), so it runs beside them rather than after.
    `alongside` joins that group (the failover's best-effort fencing of the source)."""
    # One describe per account, region and kind at a time, shared by the gate and promotions, narrowed to the
    # databases whose promotion is still under way.
    watch = RdsWatch(scope=[(m.db, m.new) for m in moves(ctx)])
    phases: list[Phase] = [Guarded(Prechecks(), complete), Guarded(RpoGate(watch), complete)]
    promotions = [promote_step(m, watch) for m in moves(ctx)]
    if promotions:
        # Every promotion at once: they mostly wait on AWS, and the slowest one bounds the phase only if none
        # queues behind a busy slot (16 slots for 60 databases made the phase ~4 promotions long).
        phases.append(Parallel("promote", promotions, max_concurrency=max(DEFAULT_CONCURRENCY, len(promotions))))
    # PromoteReadReplicaDBCluster takes no backup settings: each promoted Aurora cluster gets them after
    backups = [Guarded(KeepClusterBackups(m), complete) for m in moves(ctx) if is_cluster(m.db.engine)]
    switch = [Guarded(Confirm(), complete), *dns_steps(records(ctx)), *backups, *alongside]
    phases.append(Parallel("switch", switch, max_concurrency=max(DEFAULT_CONCURRENCY, len(switch))))
    return phases


@register
class Failover(Runbook):
    """`drctl failover --to TARGET`: move the databases and traffic to the DR side."""

    name = "failover"

    def phases(self, ctx: RunContext) -> list[Phase]:
        complete = CompleteAtStart()
        fence: list[Step] = [Guarded(TagFormerWriter(m.db, m.old), complete) for m in moves(ctx)
                             if m.db.engine is not Engine.AURORA_GLOBAL]
        return move_phases(ctx, complete, alongside=fence)

    def confirmation(self, ctx: RunContext) -> str | None:
        """A planned move (the source is healthy) is a choice: the operator types the target's name."""
        health = source_health(ctx)
        return ctx.target if not health or all(health.values()) else None
