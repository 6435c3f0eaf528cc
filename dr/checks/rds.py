"""Database readiness of an environment: the member living in its region exists, is available, and — when
it is a replica — replicates from the right source, with replication running and lag within the RPO."""

from __future__ import annotations

from dataclasses import dataclass

from dr.aws.errors import describe
from dr.aws.rds import DbView, Role, member_arn, same_resource
from dr.checks.lag import LagSample, LagTarget, rpo_verdict
from dr.checks.model import CheckKind, CheckResult, failed, passed
from dr.checks.writers import DatabaseCopies, lineage_check
from dr.config.model import Database, DbLocation, Engine, Topology

RUNNING = "replicating"
"""AWS's read-replication state when all is well; degraded, error, stopped and terminated all fail."""


@dataclass(frozen=True)
class Member:
    """The member of `db` that lives in an environment's region, and the other member it pairs with."""

    db: Database
    loc: DbLocation
    other: DbLocation


def member_in(topology: Topology, db: Database, env: str) -> Member | None:
    """Ids are stable per region, roles may have swapped: pick the member by region, not by role."""
    region = topology.environments[env].region
    in_primary = topology.region_of(db.primary) == region
    in_replica = topology.region_of(db.replica) == region
    if in_primary and in_replica:  # same-region pair: the DR side (dr_for) owns the replica
        in_primary = topology.environments[env].dr_for is None
    if in_primary:
        return Member(db, db.primary, db.replica)
    if in_replica:
        return Member(db, db.replica, db.primary)
    return None


def lag_target(topology: Topology, member: Member, view: DbView) -> LagTarget | None:
    """Where to read the lag of this member, if it is a replica."""
    if not view.exists or view.role is not Role.REPLICA:
        return None
    return LagTarget(member.db.name, member.db.engine, member.loc.env, view.region, member.loc.id,
                     topology.region_of(member.other))


def database_checks(
    topology: Topology, env: str, member: Member, view: DbView | BaseException, lag: LagSample | None,
    *, copies: DatabaseCopies | None = None,
) -> list[CheckResult]:
    """The checks of one database's member in `env`, from what was read (a view, or the error reading it);
    with `copies` (every copy of the database, as read), also whether it is the writer or replicates from it."""
    mid = member.loc.id
    where = f"{member.loc.env}/{topology.region_of(member.loc)}"
    if isinstance(view, BaseException):
        return [failed(env, CheckKind.REPLICA_EXISTS, mid, f"could not describe {mid} in {where}: {describe(view)}")]
    if not view.exists:
        return [failed(env, CheckKind.REPLICA_EXISTS, mid, f"{mid} not found in {where}")]
    results = [passed(env, CheckKind.REPLICA_EXISTS, mid, f"{mid} exists in {where} ({view.role})")]
    results.append(_available(env, mid, view))
    lineage = [lineage_check(topology, env, view, copies)] if copies is not None else []
    if view.role is not Role.REPLICA:
        results.append(passed(env, CheckKind.REPLICA_SOURCE, mid,
                              f"{mid} is {view.role}: no replication source to check"))
        return results + lineage
    expected = member_arn(topology, member.db, member.other)
    if same_resource(view.source_arn, expected):
        results.append(passed(env, CheckKind.REPLICA_SOURCE, mid, f"{mid} replicates from {expected}"))
    else:
        results.append(failed(env, CheckKind.REPLICA_SOURCE, mid,
                              f"{mid} replicates from {view.source_arn}, expected {expected}"))
    results += lineage
    results.append(_replication_running(env, mid, view, lag))
    results.append(_lag(env, mid, topology.objectives.rpo, lag))
    return results


def _available(env: str, mid: str, view: DbView) -> CheckResult:
    if not view.available:
        return failed(env, CheckKind.REPLICA_AVAILABLE, mid, f"{mid} is {view.status or 'in no status'}")
    if view.engine is not Engine.RDS_INSTANCE and not view.instances:
        return failed(env, CheckKind.REPLICA_AVAILABLE, mid,
                      f"{mid} has no DB instances (headless cluster): add one before it can take traffic")
    return passed(env, CheckKind.REPLICA_AVAILABLE, mid, f"{mid} is available")


def _replication_running(env: str, mid: str, view: DbView, lag: LagSample | None) -> CheckResult:
    if view.replication_state is not None and view.replication_state != RUNNING:
        detail = f": {view.replication_message}" if view.replication_message else ""
        return failed(env, CheckKind.REPLICATION_RUNNING, mid, f"read replication is {view.replication_state}{detail}")
    if lag is not None and lag.broken:
        return failed(env, CheckKind.REPLICATION_RUNNING, mid, f"{lag.metric} -1: replication broken")
    state = view.replication_state or "no replication error reported"
    return passed(env, CheckKind.REPLICATION_RUNNING, mid, f"{mid}: {state}")


def _lag(env: str, mid: str, rpo: float, lag: LagSample | None) -> CheckResult:
    if lag is None:
        return failed(env, CheckKind.LAG_WITHIN_RPO, mid, "lag was not read")
    ok, reason = rpo_verdict(lag, rpo)
    return CheckResult(env, CheckKind.LAG_WITHIN_RPO, mid, ok, reason)
