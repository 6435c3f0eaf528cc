"""Can ENV take traffic? Every readiness check of the environment, read concurrently.

Databases first read every copy of each database (one RDS listing per account, region and kind: the copy in
ENV's region, and the others to know the current writer), then every replica's lag in one batch per
(account, region); health checks, EKS, ECS and ASG checks run alongside. An AWS error fails the check it
belongs to, with the error's reason; it never escapes as a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from dr.aws.errors import describe
from dr.aws.rds import DbView
from dr.aws.rds_listing import RdsListings
from dr.checks.arc import arc_readiness, arc_records_of
from dr.checks.asg import check_autoscaling_groups
from dr.checks.dr_backup import backed_up_into, check_dr_backups
from dr.checks.ecs import check_ecs_services
from dr.checks.eks import check_eks_cluster
from dr.checks.health import HealthReader, by_owner, check_health_batch, health_checks_of
from dr.checks.lag import LagSample, LagTarget, read_lag_targets
from dr.checks.model import CheckKind, CheckResult, failed
from dr.checks.rds import Member, database_checks, lag_target, member_in
from dr.checks.replica_settings import settings_checks
from dr.checks.state_machines import check_state_machines, directions_into
from dr.checks.writers import DatabaseCopies, read_copies
from dr.config.model import Topology

if TYPE_CHECKING:
    from dr.aws.factory import ClientFactory
    from dr.clock import Clock

MAX_WORKERS = 16
"""Reads in flight at once: quick at 60 databases, gentle on AWS API rate limits."""

LagReader = Callable[[list[LagTarget]], dict[str, LagSample]]
"""Reads the lag of lag targets, keyed by database (the exporter passes one that reuses its fresh read)."""


def readiness(topology: Topology, clients: ClientFactory, clock: Clock, env: str,
              *, lag_reader: LagReader | None = None, health_reader: HealthReader | None = None,
              listings: RdsListings | None = None) -> list[CheckResult]:
    """Every check of `env`, in a stable order: databases, their replica settings, health checks, EKS, ECS, ASG.

    `lag_reader` replaces the batched lag read (default: `read_lag_targets`); the exporter passes the lag it
    has just read, so that one refresh reads each CloudWatch series once; `health_reader` likewise replaces
    the batched health-check read, and `listings` the RDS listings (shared by the refresh's sources).
    """
    if env not in topology.environments:
        from dr.errors import UsageError

        raise UsageError(f"unknown environment {env!r}; the topology has: {', '.join(topology.environments)}")
    members = [m for db in topology.databases if (m := member_in(topology, db, env)) is not None]
    with ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="readiness") as pool:
        copies = pool.submit(read_copies, topology, clients, [m.db for m in members], listings)
        others = _other_checks(pool, topology, clients, clock, env, health_reader=health_reader)
        read = _members_read(members, copies)
        settings = pool.submit(settings_checks, topology, clients, env, [(m, v) for m, v, _ in read])
        database_results = _database_results(topology, clients, clock, env, read, lag_reader=lag_reader)
        other_results = [r for pending in others for r in _results_of(pending, env)]
        settings_results = _results_of((CheckKind.REPLICA_SETTINGS, "replica-settings", settings), env)
    return database_results + settings_results + other_results


_Read = tuple[Member, "DbView | BaseException", "DatabaseCopies | None"]


def _members_read(members: list[Member], pending: Future[list[DatabaseCopies]]) -> list[_Read]:
    """Each member's view (or the error reading it) and every copy of its database."""
    try:
        copies = pending.result()
    except Exception as exc:  # becomes each member's failing replica-exists check, with the reason
        return [(m, exc, None) for m in members]
    read: list[_Read] = []
    for member, found in zip(members, copies, strict=True):
        mine = found.at(member.loc)
        view: DbView | BaseException = mine.view if mine.view is not None else _error(mine.error)
        read.append((member, view, found))
    return read


def _error(error: Exception | None) -> BaseException:
    return error if error is not None else RuntimeError("not read")


def _database_results(
    topology: Topology, clients: ClientFactory, clock: Clock, env: str, read: list[_Read],
    *, lag_reader: LagReader | None = None,
) -> list[CheckResult]:
    targets = [t for m, v, _ in read if isinstance(v, DbView) and (t := lag_target(topology, m, v)) is not None]
    lags = lag_reader(targets) if lag_reader is not None else read_lag_targets(targets, clients, clock)
    results: list[CheckResult] = []
    for member, view, copies in read:
        results.extend(database_checks(topology, env, member, view, lags.get(member.db.name),
                                       copies=copies))
    return results


_Pending = tuple[CheckKind, str, "Future[list[CheckResult]]"]


def _other_checks(pool: ThreadPoolExecutor, topology: Topology, clients: ClientFactory, clock: Clock,
                  env: str, *, health_reader: HealthReader | None = None) -> list[_Pending]:
    pending: list[_Pending] = [
        (CheckKind.HEALTH_CHECK, group[0].owner,
         pool.submit(check_health_batch, clients, clock, env, group, health_reader))
        for group in by_owner(health_checks_of(topology, env))
    ]
    if backed_up_into(topology, env):
        pending.append((CheckKind.DR_BACKUP, "dr-backups",
                        pool.submit(check_dr_backups, topology, clients, clock, env)))
    if arc_records_of(topology, env):
        pending.append((CheckKind.ARC_CLUSTER, "arc", pool.submit(arc_readiness, topology, clients, env)))
    if topology.databases and directions_into(topology, env):  # not in an apps-only copy (run prechecks)
        pending.append((CheckKind.STATE_MACHINE, "state-machines",
                        pool.submit(check_state_machines, topology, clients, env)))
    spec = topology.readiness.get(env)
    if spec is None:
        return pending
    pending += [(CheckKind.EKS_CLUSTER, name, pool.submit(_as_list, check_eks_cluster, clients, env, name))
                for name in spec.eks_clusters]
    if spec.ecs_services:
        pending.append((CheckKind.ECS_SERVICE, "ecs-services",
                        pool.submit(check_ecs_services, clients, env, list(spec.ecs_services))))
    if spec.autoscaling_groups:
        pending.append((CheckKind.AUTOSCALING_GROUP, "autoscaling-groups",
                        pool.submit(check_autoscaling_groups, clients, env, list(spec.autoscaling_groups))))
    return pending


def _as_list(fn: Callable[..., CheckResult], *args: object) -> list[CheckResult]:
    return [fn(*args)]


def _results_of(pending: _Pending, env: str) -> list[CheckResult]:
    kind, resource, future = pending
    try:
        return future.result()
    except Exception as exc:  # the check modules catch AWS errors; this is the last line of defence
        return [failed(env, kind, resource, f"check failed unexpectedly: {describe(exc)}")]
