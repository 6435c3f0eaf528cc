"""What the runbook steps call, in the terms of dr.iam.needs: the bundles several steps share (reading both sides
of every move, the target's readiness, a zone's records). Each step's own `permissions(ctx)` composes these."""

from __future__ import annotations

from dr.config.model import Database, DbLocation, DnsStrategy
from dr.engine.step import RunContext
from dr.iam import needs
from dr.iam.grants import Grant
from runbooks.steps._common import Move, moves, records


def sides(ctx: RunContext, todo: list[Move] | None = None) -> list[tuple[Database, DbLocation]]:
    return [pair for m in (moves(ctx) if todo is None else todo) for pair in ((m.db, m.old), (m.db, m.new))]


def move_reads(ctx: RunContext, todo: list[Move] | None = None) -> list[Grant]:
    """Both copies of the moved databases (lineage, status, tags) and the lag of the copies moved to."""
    todo = moves(ctx) if todo is None else todo
    out = needs.rds_reads(ctx.topology, sides(ctx, todo))
    for m in todo:
        out += needs.lag(ctx.topology, m.new)
    return out


def target_readiness(ctx: RunContext, env: str | None = None) -> list[Grant]:
    """The readiness of `env` (default the target): its EKS/ECS/ASG, its health checks, its databases' copies."""
    env = env or ctx.target
    out = needs.readiness(ctx.topology, env) + move_reads(ctx)
    out += needs.health(records(ctx), [env])
    return out


def zones(ctx: RunContext, *, change: bool) -> list[Grant]:
    """The moved records' zones: read (and `change`); what their failover-routing records answer."""
    out: list[Grant] = []
    for record in records(ctx):
        out += needs.zone(record.env, record.zone_id, change=change)
        if record.strategy is DnsStrategy.FAILOVER_ROUTING:
            out += needs.answers(record.env, record.zone_id)
    return out
