"""Prechecks (read-only): is the target ready for traffic, and is this a planned or an unplanned move?

By hand: `drctl readiness --env TARGET` (or the AWS CLI reads it lists), and
`aws route53 get-health-check-status --health-check-id H` for each of the source side's health checks:
all healthy means a planned move, any unhealthy an unplanned one.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from dr.aws.errors import describe
from dr.checks.model import CheckKind, CheckResult
from dr.config.model import DnsRecord, DnsStrategy
from dr.engine.step import RunContext, Step
from dr.errors import GateRefused
from runbooks.steps._common import (
    FACT_PLANNED,
    FACT_SOURCE_REACHABLE,
    moves,
    rds,
    records,
    region,
    zone_record_sets,
)
from runbooks.steps.requirements import promotion_requirements

DATABASE_CHECKS = frozenset({CheckKind.REPLICA_EXISTS, CheckKind.REPLICA_SOURCE, CheckKind.REPLICA_AVAILABLE,
                             CheckKind.REPLICATION_RUNNING, CheckKind.LAG_WITHIN_RPO})
"""Databases are judged by the RPO gate and the promote steps (which know the direction of the move)."""


def source_health(ctx: RunContext, inverted: dict[str, bool] | None = None) -> dict[str, bool]:
    """Each health check of the source side, read from Route53's status in us-east-1 (batched per owning
    account through CloudWatch, Route53 itself as fallback), never from the source region. `inverted`: the
    `inverted_flags` of the records' accounts when the caller has them already."""
    from dr.aws.route53 import read_health_checks

    owners: dict[str, list[str]] = {}
    if inverted is None:
        inverted = inverted_flags(ctx, {r.env for r in records(ctx) if r.health_checks.get(ctx.source)})
    for record in records(ctx):
        hc = record.health_checks.get(ctx.source)
        # a check inverted by an earlier (partial) planned move says nothing of the source's health
        if hc and not inverted.get(hc, False) and hc not in owners.get(record.env, []):
            owners.setdefault(record.env, []).append(hc)
    out: dict[str, bool] = {}
    for owner, ids in owners.items():
        try:
            out.update({hc: status.healthy for hc, status in read_health_checks(ctx.clients, owner, ids,
                                                                                ctx.clock).items()})
        except Exception:  # an unreadable health check cannot vouch for the source
            out.update(dict.fromkeys(ids, False))
    return out


def probe_source(ctx: RunContext) -> tuple[bool, str]:
    """One best-effort read in the source region: does it answer at all?"""
    olds = moves(ctx)
    if not olds:
        return True, "no database in the source region"
    loc = olds[0].old
    try:
        rds(ctx, loc).describe_db_instances(MaxRecords=20)
    except Exception as exc:
        from dr.aws.errors import is_retryable

        if is_retryable(exc):
            return False, f"{region(ctx, loc)} unreachable: {describe(exc)}"
    return True, f"{region(ctx, loc)} answers"


def inverted_flags(ctx: RunContext, envs: set[str]) -> dict[str, bool]:
    """Health check id -> Inverted, for every health check of the accounts of `envs`.

    One ListHealthChecks page per 1,000 checks instead of a GetHealthCheck per check: Route53 allows 10
    requests/s per account, and at 50 failover records the per-check reads alone cost ~10 s (docs/benchmarks.md).
    An unreadable account counts as "nothing inverted", as an unreadable check did before.
    """
    flags: dict[str, bool] = {}
    for env in sorted(envs):
        client = ctx.clients.route53(env)
        request: dict[str, str] = {"MaxItems": "1000"}
        try:
            while True:
                page = client.list_health_checks(**request)
                for check in page.get("HealthChecks", []):
                    flags[str(check["Id"])] = bool(check.get("HealthCheckConfig", {}).get("Inverted"))
                if not page.get("IsTruncated") or not page.get("NextMarker"):
                    break
                request["Marker"] = str(page["NextMarker"])
        except Exception:
            continue
    return flags


def inverted_target_checks(ctx: RunContext, inverted: dict[str, bool]) -> set[str]:
    """The target's health checks an earlier drctl inverted (`inverted`: the flags of the records' accounts):
    unhealthy by design until the DNS step restores them."""
    failover = [r for r in records(ctx)
                if r.strategy is DnsStrategy.FAILOVER_ROUTING and r.health_checks.get(ctx.target)]
    return {hc for r in failover if inverted.get(hc := r.health_checks[ctx.target], False)}


def routing_problems(ctx: RunContext) -> list[str]:
    """Failover-routing records the DNS step could not move (no PRIMARY, an alias PRIMARY): one listing per
    hosted zone holding such records, so the run refuses before anything changes rather than after the
    promotions."""
    from runbooks.steps.dns_failover_routing import primary_problem

    by_zone: dict[str, list[DnsRecord]] = {}
    for record in records(ctx):
        if record.strategy is DnsStrategy.FAILOVER_ROUTING:
            by_zone.setdefault(record.zone_id, []).append(record)
    problems: list[str] = []
    for zone, zone_records in by_zone.items():
        listing = zone_record_sets(ctx, zone_records[0].env, zone)
        problems += [p for r in zone_records if (p := primary_problem(listing, r)) is not None]
    return problems


def target_not_ready(ctx: RunContext) -> list[CheckResult]:
    """The target's failing readiness checks other than databases' (health checks, EKS, ECS, ASG). Databases
    are left out of the read itself: the RPO gate and the promote steps judge them, knowing the direction."""
    from dr.checks.readiness import readiness

    apps_only = ctx.topology.model_copy(update={"databases": []})
    results = readiness(apps_only, ctx.clients, ctx.clock, ctx.target)
    return [r for r in results if not r.ok and r.check not in DATABASE_CHECKS]


class Prechecks(Step):
    """Target readiness (health checks, EKS, ECS, ASG), source health and reachability; decides planned."""

    name = "prechecks"
    budget = 60.0
    mutating = False
    max_attempts = 2

    resource = "readiness, source health"

    def describe(self, ctx: RunContext) -> Sequence[str]:
        return (f"readiness checks of {ctx.target} (route53:GetHealthCheckStatus, eks, ecs, autoscaling)",
                f"route53:GetHealthCheckStatus for {ctx.source}'s health checks (planned or unplanned)",
                f"rds:DescribeDBInstances in {ctx.source}'s region (best effort: is the source region reachable?)",
                "route53:ListResourceRecordSets of each zone with failover-routing records (each needs a PRIMARY "
                "record set holding values)")

    def act(self, ctx: RunContext) -> str | None:
        # independent reads at once (they bound the time before the first promotion); the Inverted flags of
        # the records' accounts are read once, for the source's health and the target's restored checks
        with ThreadPoolExecutor(max_workers=6, thread_name_prefix="drctl-prechecks") as pool:
            flags = pool.submit(inverted_flags, ctx, {r.env for r in records(ctx) if r.health_checks})
            reading_health = pool.submit(lambda: source_health(ctx, flags.result()))
            probing = pool.submit(probe_source, ctx)
            reading_readiness = pool.submit(target_not_ready, ctx)
            reading_routing = pool.submit(routing_problems, ctx)
            reading_requirements = pool.submit(promotion_requirements, ctx)
            health = reading_health.result()
            reachable, probe = probing.result()
            not_ready, unmovable = reading_readiness.result(), reading_routing.result()
        restored = inverted_target_checks(ctx, flags.result())
        if unmovable:
            raise GateRefused("DNS could not be moved, nothing was changed: " + "; ".join(unmovable))
        required = reading_requirements.result()
        if required.refusals:
            raise GateRefused("cannot promote, nothing was changed: " + "; ".join(required.refusals))
        is_planned = all(health.values()) and (bool(health) or reachable)
        if ctx.options.planned is not None:
            is_planned = ctx.options.planned and is_planned
        ctx.set_fact(FACT_PLANNED, is_planned)
        ctx.set_fact(FACT_SOURCE_REACHABLE, reachable)
        ctx.options.planned = is_planned
        bad = [r for r in not_ready
               if not (r.check is CheckKind.HEALTH_CHECK and r.resource in restored)]
        if bad:
            raise GateRefused(f"{ctx.target} is not ready for traffic: "
                              + "; ".join(f"{r.check} {r.resource}: {r.reason}" for r in bad))
        unhealthy = [hc for hc, ok in health.items() if not ok]
        kind = "planned" if is_planned else "unplanned"
        why = f"source health checks unhealthy: {', '.join(unhealthy)}" if unhealthy else "source healthy"
        advice = "".join(f"; advice: {a}" for a in required.advice)
        return f"{kind} move ({why}; {probe}); {ctx.target} ready{advice}"
