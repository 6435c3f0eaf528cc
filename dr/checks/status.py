"""`drctl status` as data: each database's members, writers and replication, each record's side, each health
check.

Every read is independent and runs concurrently; a member, record or health check that cannot be read is
reported as such ("unreachable" during a regional outage) instead of failing the whole status. Members are
read in one RDS listing per account, region and kind; their lineage says which copies are writable (more
than one: SPLIT BRAIN RISK), which one is the current writer and which are stale, and replication counts only
when it is from the current writer.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dr.aws.errors import describe, is_unreachable
from dr.aws.lineage import Lineage
from dr.aws.rds import DbView, Role, same_resource
from dr.aws.route53 import (
    HealthSource,
    HealthStatus,
    RecordAnswer,
    ZoneListing,
    health_check_status,
    read_health_checks,
    read_record,
)
from dr.checks.lag import LagSample, LagTarget, read_lag_targets, rpo_verdict
from dr.checks.writers import RUNNING, Copy, CopyRef, DatabaseCopies, read_copies, ref, side_of
from dr.config.model import Database, Topology

if TYPE_CHECKING:
    from dr.aws.factory import ClientFactory
    from dr.clock import Clock

MAX_WORKERS = 16


@dataclass(frozen=True)
class MemberStatus:
    """One member as declared (`primary` or `replica` in the topology) and what AWS says about it now."""

    declared: str
    id: str
    env: str
    region: str
    view: DbView | None
    error: str | None = None
    unreachable: bool = False

    @property
    def state(self) -> str:
        if self.unreachable:
            return "unreachable"
        if self.error is not None:
            return "error"
        if self.view is None or not self.view.exists:
            return "missing"
        return self.view.status or "unknown"

    @property
    def role(self) -> str | None:
        return str(self.view.role) if self.view is not None and self.view.role is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {"declared": self.declared, "id": self.id, "env": self.env, "region": self.region,
                "state": self.state, "role": self.role,
                "source_arn": self.view.source_arn if self.view else None, "error": self.error}


@dataclass(frozen=True)
class DatabaseStatus:
    name: str
    engine: str
    members: tuple[MemberStatus, ...]
    replication: str
    """replicating | broken | not replicating | unknown | error: <AWS state> | not from the writer: <source>"""
    lag: LagSample | None
    rpo_ok: bool
    rpo_reason: str
    lineage: Lineage
    fence_envs: tuple[str, ...] = ()
    """The sides (`drctl fence --env`) holding the stale copies."""

    @property
    def writers(self) -> list[CopyRef]:
        """Every writable copy (exists, replicates from nothing, serves, not fenced)."""
        return [ref(v) for v in self.lineage.writers]

    @property
    def writer(self) -> CopyRef | None:
        """The current writer: the writable copy of the highest generation (None: none, or ambiguous)."""
        current = self.lineage.current
        return ref(current) if current is not None else None

    @property
    def stale(self) -> list[CopyRef]:
        """Writable copies that are not the current writer: they hold writes the writer never sees."""
        return [ref(v) for v in self.lineage.stale]

    @property
    def split_brain(self) -> bool:
        """More than one copy takes writes: data diverges."""
        return len(self.lineage.writers) > 1

    @property
    def dormant(self) -> list[CopyRef]:
        """Stopped, unfenced copies beside the current writer: AWS restarts them within seven days (see
        dr.aws.lineage), and then they take writes."""
        return [ref(v) for v in self.lineage.dormant_stale]

    def to_dict(self) -> dict[str, Any]:
        lag, writer = self.lag, self.writer
        return {
            "name": self.name, "engine": self.engine, "members": [m.to_dict() for m in self.members],
            "writers": [w.to_dict() for w in self.writers],
            "writer": {**writer.to_dict(), "generation": writer.generation} if writer else None,
            "stale": [s.to_dict() for s in self.stale], "split_brain": self.split_brain,
            "dormant": [d.to_dict() for d in self.dormant],
            "fence": [f"drctl fence --env {env}" for env in self.fence_envs],
            "unread_copies": self.lineage.unread, "lineage": self.lineage.describe(),
            "replication": self.replication,
            "lag_seconds": lag.seconds if lag else None, "lag_age_seconds": lag.age_seconds if lag else None,
            "replica_region": lag.replica_region if lag else None,
            "rpo_ok": self.rpo_ok, "rpo_reason": self.rpo_reason,
        }


@dataclass(frozen=True)
class RecordStatus:
    name: str
    zone_id: str
    strategy: str
    answer: RecordAnswer | None
    error: str | None = None

    @property
    def side(self) -> str | None:
        return self.answer.side if self.answer else None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "zone_id": self.zone_id, "strategy": self.strategy, "side": self.side,
                "value": self.answer.value if self.answer else None,
                "detail": self.answer.detail if self.answer else None, "error": self.error}


@dataclass(frozen=True)
class HealthCheckStatus:
    id: str
    side: str
    records: tuple[str, ...]
    healthy: bool | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "env": self.side, "records": list(self.records), "healthy": self.healthy,
                "reason": self.reason}


@dataclass(frozen=True)
class StatusReport:
    databases: tuple[DatabaseStatus, ...]
    records: tuple[RecordStatus, ...]
    health_checks: tuple[HealthCheckStatus, ...]

    @property
    def split_brain(self) -> list[DatabaseStatus]:
        """The databases with more than one writable copy."""
        return [d for d in self.databases if d.split_brain]

    @property
    def dormant(self) -> list[DatabaseStatus]:
        """The databases with a stopped, unfenced copy beside the current writer (a split brain in waiting)."""
        return [d for d in self.databases if d.dormant]

    def to_dict(self) -> dict[str, Any]:
        return {"databases": [d.to_dict() for d in self.databases], "records": [r.to_dict() for r in self.records],
                "health_checks": [h.to_dict() for h in self.health_checks]}


def status(topology: Topology, clients: ClientFactory, clock: Clock) -> StatusReport:
    """Read everything concurrently; lag in one batch per (account, region) once replicas are known."""
    with ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="status") as pool:
        copies = pool.submit(read_copies, topology, clients)
        checks = _health(clients, clock, _health_checks(topology))
        known = {h.id: h.healthy for h in checks if h.healthy is not None}
        listing = ZoneListing()  # one listing per hosted zone for all records (Route53 allows ~10 requests/s)
        records = [pool.submit(_record, clients, topology, i, known, listing) for i in range(len(topology.dns))]
        databases = _databases(topology, clients, clock, copies.result())
        return StatusReport(databases, tuple(f.result() for f in records), tuple(checks))


def _member(copy: Copy) -> MemberStatus:
    if copy.view is None:
        error = copy.error or RuntimeError("not read")
        return MemberStatus(copy.declared, copy.loc.id, copy.loc.env, copy.region, None, describe(error),
                            is_unreachable(error))
    return MemberStatus(copy.declared, copy.loc.id, copy.loc.env, copy.region, copy.view)


def _databases(
    topology: Topology, clients: ClientFactory, clock: Clock, read: list[DatabaseCopies]
) -> tuple[DatabaseStatus, ...]:
    members = {c.db.name: tuple(_member(copy) for copy in c.copies) for c in read}
    targets = {c.db.name: t for c in read if (t := _lag_target(c.db, members[c.db.name])) is not None}
    lags = read_lag_targets(targets.values(), clients, clock)
    result = []
    for found in read:
        db, lag = found.db, lags.get(found.db.name)
        ok, reason = rpo_verdict(lag, topology.objectives.rpo) if lag else (False, "no replica to measure lag on")
        result.append(DatabaseStatus(db.name, str(db.engine), members[db.name],
                                     replication(members[db.name], lag, found.lineage), lag, ok, reason,
                                     found.lineage, _fence_envs(topology, found.lineage)))
    return tuple(result)


def _lag_target(db: Database, members: tuple[MemberStatus, ...]) -> LagTarget | None:
    """The lag is read on whichever member is a replica now (the declared one first)."""
    for member in sorted(members, key=lambda m: m.declared != "replica"):
        if member.view is not None and member.view.exists and member.view.role is Role.REPLICA:
            other = next(m for m in members if m is not member)
            return LagTarget(db.name, db.engine, member.env, member.region, member.id, other.region)
    return None


def replication(members: tuple[MemberStatus, ...], lag: LagSample | None, lineage: Lineage) -> str:
    """The replication of whichever member is a replica now, judged against the current writer: a replica of
    any other copy protects nothing the writer takes."""
    replica = next((m.view for m in members if m.view is not None and m.view.role is Role.REPLICA), None)
    if replica is None:
        return "unknown" if any(m.view is None for m in members) else "not replicating"
    if lineage.current is not None and not lineage.replicates_from_writer(replica):
        return f"not from the writer: {replica.id} replicates from {_name(replica.source_arn, lineage)}"
    if replica.replication_state not in (None, RUNNING):
        return f"error: {replica.replication_state}"
    if lag is not None and lag.broken:
        return "broken"
    if lag is None or lag.seconds is None:
        return replica.replication_state or "unknown"
    return "replicating"


def _fence_envs(topology: Topology, lineage: Lineage) -> tuple[str, ...]:
    return tuple(dict.fromkeys(side_of(topology, v.region, v.env) for v in [*lineage.stale, *lineage.dormant_stale]))


def _name(source: str | None, lineage: Lineage) -> str:
    """A source ARN as the id of the copy it names, when it is one of the database's copies."""
    found = next((c for c in lineage.copies if c.arn and same_resource(source, c.arn)), None)
    return found.id if found is not None else str(source)


def _record(clients: ClientFactory, topology: Topology, index: int, known: dict[str, bool],
            listing: ZoneListing) -> RecordStatus:
    """One record's side; failover records reuse the health statuses just read (Route53 rate limits)."""
    record = topology.dns[index]

    def healthy(hc_id: str) -> bool:
        return known[hc_id] if hc_id in known else health_check_status(clients, record.env, hc_id)

    try:
        answer = read_record(clients, topology, record, healthy=healthy, listing=listing)
    except Exception as exc:
        return RecordStatus(record.fqdn, record.zone_id, str(record.strategy), None, describe(exc))
    return RecordStatus(record.fqdn, record.zone_id, str(record.strategy), answer)


def _health_checks(topology: Topology) -> dict[tuple[str, str, str], tuple[str, ...]]:
    """(owner env, id, side) -> the records using it, each health check once."""
    found: dict[tuple[str, str, str], tuple[str, ...]] = {}
    for record in topology.dns:
        for side, hc in record.health_checks.items():
            key = (record.env, hc, side)
            found[key] = (*found.get(key, ()), record.fqdn)
    return found


def _health(clients: ClientFactory, clock: Clock,
            found: dict[tuple[str, str, str], tuple[str, ...]]) -> list[HealthCheckStatus]:
    """Every health check, one batched read per owning account (Route53's API is rate limited)."""
    owners: dict[str, list[str]] = {}
    for owner, hc_id, _ in found:
        owners.setdefault(owner, []).append(hc_id)
    statuses: dict[tuple[str, str], HealthStatus | str] = {}
    for owner, ids in owners.items():
        try:
            statuses.update({(owner, hc): st for hc, st in read_health_checks(clients, owner, ids, clock).items()})
        except Exception as exc:
            statuses.update({(owner, hc): f"could not read: {describe(exc)}" for hc in ids})
    out = []
    for (owner, hc_id, side), records in found.items():
        health = statuses[(owner, hc_id)]
        if isinstance(health, str) or health.via is HealthSource.ERROR:
            reason = health if isinstance(health, str) else health.reason
            out.append(HealthCheckStatus(hc_id, side, records, None, reason))
        else:
            out.append(HealthCheckStatus(hc_id, side, records, health.healthy, health.reason))
    return out
