"""Prechecks (read-only): is the target ready for traffic, is every database's target copy fit to become the
writer, and is this a planned or an unplanned move?

Planned when the source region's RDS answers (unless --unplanned): the move then fences the source, waits for the
replicas to catch up and promotes without losing a write (Aurora global: a switchover). Unplanned when it does not
answer (or --unplanned): promote past the RPO gate. Application health checks are reported, not used to decide:
an unhealthy application in a region whose databases answer is no reason to lose data.

Lineage: each target copy must be the current writer already (a re-run) or a replica of the current writer. A
stale copy (a standalone copy an earlier move left behind) is refused, naming it: it is never promoted.

By hand: `drctl readiness --env TARGET`, `aws rds describe-db-instances --region SOURCE_REGION` (does it
answer?), `drctl status` (writers and replicas of each database).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from dr.aws.errors import describe
from dr.aws.lineage import Lineage, lineage_of
from dr.aws.rds import DbView
from dr.checks.model import CheckKind, CheckResult
from dr.config.model import DnsRecord, DnsStrategy, Engine
from dr.engine.step import RunContext, Step
from dr.errors import GateRefused
from dr.iam import needs
from dr.iam.grants import Grant
from runbooks.steps._common import (
    FACT_PLANNED,
    FACT_SOURCE_REACHABLE,
    Move,
    is_current_writer,
    moves,
    rds,
    read_sides,
    records,
    region,
    source_reachable,
    zone_record_sets,
)
from runbooks.steps._permissions import target_readiness, zones
from runbooks.steps.rds_watch import RdsWatch
from runbooks.steps.requirements import promotion_requirements

DATABASE_CHECKS = frozenset({CheckKind.REPLICA_EXISTS, CheckKind.REPLICA_SOURCE, CheckKind.REPLICA_AVAILABLE,
                             CheckKind.REPLICATION_RUNNING, CheckKind.LAG_WITHIN_RPO})
"""Databases are judged by the RPO gate and the promote steps (which know the direction of the move)."""


def health_records(ctx: RunContext) -> list[DnsRecord]:
    """The move's records whose health checks watch the application: not arc-routing-control ones, whose
    RECOVERY_CONTROL checks follow their routing controls (the ARC step and readiness judge those)."""
    return [r for r in records(ctx) if r.strategy is not DnsStrategy.ARC_ROUTING_CONTROL]


def source_health(ctx: RunContext, inverted: dict[str, bool] | None = None) -> dict[str, bool]:
    """Each health check of the source side, read from Route53's status in us-east-1 (batched per owning
    account through CloudWatch, Route53 itself as fallback), never from the source region. `inverted`: the
    `inverted_flags` of the records' accounts when the caller has them already."""
    from dr.aws.route53 import read_health_checks

    owners: dict[str, list[str]] = {}
    if inverted is None:
        inverted = inverted_flags(ctx, {r.env for r in health_records(ctx) if r.health_checks.get(ctx.source)})
    for record in health_records(ctx):
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
    """Records the DNS step could not move: a change beyond Route53's per-request limits by itself; a
    failover-routing record without a PRIMARY or with an alias PRIMARY (one listing per hosted zone holding
    such records). The run refuses before anything changes rather than after the promotions."""
    from runbooks.steps.dns_failover_routing import primary_problem
    from runbooks.steps.dns_upsert import unbatchable

    by_zone: dict[str, list[DnsRecord]] = {}
    for record in records(ctx):
        if record.strategy is DnsStrategy.FAILOVER_ROUTING:
            by_zone.setdefault(record.zone_id, []).append(record)
    problems = unbatchable(records(ctx), ctx.target)  # a change no ChangeResourceRecordSets request can hold
    for zone, zone_records in by_zone.items():
        listing = zone_record_sets(ctx, zone_records[0].env, zone)
        problems += [p for r in zone_records if (p := primary_problem(listing, r)) is not None]
    return problems


def target_not_ready(ctx: RunContext) -> list[CheckResult]:
    """The target's failing readiness checks other than databases' (health checks, EKS, ECS, ASG). Databases
    are left out of the read itself: the RPO gate and the promote steps judge them, knowing the direction."""
    from dr.checks.readiness import readiness

    # ARC records are left out too: their checks read ARC's control plane, and the ARC step reads the routing
    # controls itself on the cluster's data plane (a move must not depend on us-west-2's control-config API)
    apps_only = ctx.topology.model_copy(update={"databases": [],
                                                "dns": [r for r in ctx.topology.dns if r.arc is None]})
    results = readiness(apps_only, ctx.clients, ctx.clock, ctx.target)
    return [r for r in results if not r.ok and r.check not in DATABASE_CHECKS]


def lineage_problem(ctx: RunContext, move: Move, here: DbView, line: Lineage) -> str | None:
    """Why the target copy `here` of `move` cannot become the writer (None: it can, or it already is)."""
    if not here.exists:
        return (f"{move.db.name}: {move.new.id} does not exist in {region(ctx, move.new)}: nothing to promote there "
                "(re-protect first: drctl failback --phase reprotect creates it; or check the topology)")
    if is_current_writer(ctx, move, here, line):
        return None
    if line.ambiguous:
        return f"{line.describe()}: tag the real writer with drctl:generation, fence the other (drctl fence)"
    if here.source_arn:
        writer = line.current
        if writer is None or line.replicates_from_writer(here):
            return None
        return (f"{move.db.name}: {move.new.id} replicates from {here.source_arn}, not from the current writer "
                f"{writer.id} ({writer.region}): re-protect it first (drctl failback --phase reprotect)")
    if move.db.engine is Engine.AURORA_GLOBAL:
        return None  # AWS keeps one global writer; the promote step moves it
    current = line.current
    who = f"the writer is {current.id} ({current.region})" if current else "its writer could not be read"
    return (f"{move.db.name}: {move.new.id} is a stale copy left behind by an earlier move ({who}); it is "
            "never promoted nor routed to: fence it (drctl fence) and re-protect (drctl failback --phase reprotect)")


def lineage_problems(ctx: RunContext, sides: list[tuple[DbView, DbView | None]] | None = None) -> list[str]:
    """`lineage_problem` of every database: one listing per account, region and kind answers for all copies; the
    side being left is read only while its region answers. `sides`: `read_sides` of every move, read already."""
    todo = moves(ctx)
    problems = [lineage_problem(ctx, m, new, lineage_of(m.db.name, m.db.engine, [old, new]))
                for m, (new, old) in zip(todo, read_sides(ctx, todo) if sides is None else sides, strict=True)]
    return [p for p in problems if p is not None]


def early_sides(ctx: RunContext, reachable: bool,
                watch: RdsWatch | None = None) -> list[tuple[DbView, DbView | None]] | None:
    """`read_sides` of every move while the other prechecks read, once the probe said whether the source answers
    (the side being left is read only if it does, as `lineage_problems` would after the verdict is journaled).
    None when an earlier run journaled the source unreachable and it answers now: then read after the verdict.
    `watch`: the prechecks' listings (shared with the promotion requirements)."""
    if reachable and not source_reachable(ctx):
        return None
    return read_sides(ctx, moves(ctx), watch, olds_needed=reachable)


def prechecks_watch(ctx: RunContext) -> RdsWatch:
    """The RDS listings of one prechecks attempt: both sides of every move in scope, each listing read once and kept
    for the attempt (`Prechecks.budget`), so that the promotion requirements and the lineage share it instead of
    each asking RDS again. A retried attempt reads anew."""
    todo = moves(ctx)
    return RdsWatch(max_age=Prechecks.budget, scope=[(m.db, m.new) for m in todo] + [(m.db, m.old) for m in todo])


class Prechecks(Step):
    """Target readiness (health checks, EKS, ECS, ASG), lineage of every target copy, source reachability;
    decides planned. `planned_only`: refuse an unplanned move (a failback)."""

    name = "prechecks"
    budget = 60.0
    mutating = False
    max_attempts = 2

    resource = "readiness, lineage, source reachability"

    def permissions(self, ctx: RunContext) -> list[Grant]:
        """The AWS calls of this step (dr.iam): what the generated IAM policy grants it."""
        return target_readiness(ctx) + needs.health(records(ctx), [ctx.source]) + zones(ctx, change=False)

    def __init__(self, *, planned_only: bool = False) -> None:
        self.planned_only = planned_only

    def describe(self, ctx: RunContext) -> Sequence[str]:
        return (f"readiness checks of {ctx.target} (route53:GetHealthCheckStatus, eks, ecs, autoscaling)",
                f"route53:GetHealthCheckStatus for {ctx.source}'s health checks (planned or unplanned)",
                f"rds:DescribeDBInstances in {ctx.source}'s region (best effort: is the source region reachable?)",
                "route53:ListResourceRecordSets of each zone with failover-routing records (each needs a PRIMARY "
                "record set holding values)")

    def act(self, ctx: RunContext) -> str | None:
        """The reads below; a region that does not answer (the target's, or Route53's) refuses the run: nothing
        has been touched, and no retry makes the DR side ready (exit 3, not a failed step)."""
        from dr.aws.errors import is_unreachable

        try:
            return self._judge(ctx)
        except GateRefused:
            raise
        except Exception as exc:
            if is_unreachable(exc):
                raise GateRefused(f"{ctx.target} cannot be checked, nothing was changed: {describe(exc)}. A DR side "
                                  "whose region does not answer cannot take traffic") from exc
            raise

    def _judge(self, ctx: RunContext) -> str | None:
        # independent reads at once (they bound the time before the first promotion); the Inverted flags of
        # the records' accounts are read once, for the source's health and the target's restored checks; the
        # promotion requirements and both sides of every move come from one RDS listing per account, region and kind
        watch = prechecks_watch(ctx)
        with ThreadPoolExecutor(max_workers=7, thread_name_prefix="drctl-prechecks") as pool:
            flags = pool.submit(inverted_flags, ctx, {r.env for r in health_records(ctx) if r.health_checks})
            reading_health = pool.submit(lambda: source_health(ctx, flags.result()))
            probing = pool.submit(probe_source, ctx)
            reading_readiness = pool.submit(target_not_ready, ctx)
            reading_routing = pool.submit(routing_problems, ctx)
            reading_requirements = pool.submit(promotion_requirements, ctx, watch)
            reading_sides = pool.submit(lambda: early_sides(ctx, probing.result()[0], watch))
            health = reading_health.result()
            reachable, probe = probing.result()
            not_ready, unmovable = reading_readiness.result(), reading_routing.result()
        restored = inverted_target_checks(ctx, flags.result())
        if unmovable:
            raise GateRefused("DNS could not be moved, nothing was changed: " + "; ".join(unmovable))
        required = reading_requirements.result()
        if required.refusals:
            raise GateRefused("cannot promote, nothing was changed: " + "; ".join(required.refusals))
        is_planned = self._planned(ctx, reachable, probe)
        ctx.set_fact(FACT_SOURCE_REACHABLE, reachable)
        ctx.set_fact(FACT_PLANNED, is_planned)
        ctx.options.planned = is_planned
        stale = lineage_problems(ctx, reading_sides.result())
        if stale:
            raise GateRefused("not every target copy can become the writer, nothing was changed: "
                              + "; ".join(stale))
        bad = [r for r in not_ready
               if not (r.check is CheckKind.HEALTH_CHECK and r.resource in restored)]
        if bad:
            raise GateRefused(f"{ctx.target} is not ready for traffic: "
                              + "; ".join(f"{r.check} {r.resource}: {r.reason}" for r in bad))
        unhealthy = [hc for hc, ok in health.items() if not ok]
        kind = "planned move: fence, catch up, promote" if is_planned else "unplanned move: promote past the RPO gate"
        why = f"source health checks unhealthy: {', '.join(unhealthy)}" if unhealthy else "source health checks healthy"
        advice = "".join(f"; advice: {a}" for a in required.advice)
        return f"{kind} ({probe}; {why}); {ctx.target} ready{advice}"

    def _planned(self, ctx: RunContext, reachable: bool, probe: str) -> bool:
        """Planned when the source's RDS answers, unless --unplanned; --planned (or a failback) refuses when it
        does not."""
        wanted = ctx.options.planned
        if not reachable and (wanted is True or self.planned_only):
            raise GateRefused(f"a planned move needs the source region's RDS to answer ({probe}); nothing was "
                              "changed. Wait for it, or fail over unplanned (drctl failover --unplanned)")
        return reachable and wanted is not False
