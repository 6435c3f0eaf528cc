"""Who writes each database now: every configured copy read from AWS, and its lineage (`dr.aws.lineage`).

The copies of a database are the members at its two configured locations (`primary`, `replica`), each in its
own account and region, read in batches (`dr.aws.rds_listing`: one listing per account, region and kind). A
copy whose listing failed is unread: the lineage counts it and never guesses. From the lineage come the
numbers status, readiness and the exporter share: the writable copies (more than one is a split-brain risk),
the current writer, the stale copies, and whether a DR copy replicates from the current writer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from dr.aws.lineage import AUTO_START_DAYS, Lineage, generation, is_fenced, lineage_of, writable
from dr.aws.rds import DbView, Role, same_resource
from dr.aws.rds_listing import RdsListings, read_members
from dr.checks.model import CheckKind, CheckResult, failed, passed
from dr.config.model import Database, DbLocation, Engine, Topology

if TYPE_CHECKING:
    from dr.aws.factory import ClientFactory

RUNNING = "replicating"
"""AWS's read-replication state when all is well (None: AWS reports none, e.g. Aurora)."""
KIND = CheckKind.WRITER_LINEAGE


@dataclass(frozen=True)
class Copy:
    """One configured copy (`declared` is `primary` or `replica`) and what AWS said about it, or the error."""

    declared: str
    loc: DbLocation
    region: str
    view: DbView | None
    error: Exception | None = None


@dataclass(frozen=True)
class DatabaseCopies:
    """The configured copies of one database, as read now."""

    db: Database
    copies: tuple[Copy, ...]

    @cached_property
    def lineage(self) -> Lineage:
        return lineage_of(self.db.name, self.db.engine, [c.view for c in self.copies])

    def at(self, loc: DbLocation) -> Copy:
        return next(c for c in self.copies if c.loc == loc)

    def unread(self) -> list[Copy]:
        return [c for c in self.copies if c.view is None]


@dataclass(frozen=True)
class CopyRef:
    """A copy as the JSON and the reasons name it."""

    env: str
    region: str
    id: str
    generation: int

    def to_dict(self) -> dict[str, Any]:
        return {"env": self.env, "region": self.region, "id": self.id}

    def __str__(self) -> str:
        return f"{self.id} ({self.env}/{self.region}, generation {self.generation})"


def ref(view: DbView) -> CopyRef:
    return CopyRef(view.env, view.region, view.id, generation(view))


def read_copies(topology: Topology, clients: ClientFactory, databases: Sequence[Database] | None = None,
                listings: RdsListings | None = None) -> list[DatabaseCopies]:
    """Both copies of each database (default: all), in topology order; `listings` shares one read's listings."""
    dbs = list(topology.databases if databases is None else databases)
    listings = listings or RdsListings(topology, clients, dbs)
    wanted = [(db, loc) for db in dbs for loc in (db.primary, db.replica)]
    read = iter(read_members(listings, wanted))
    out = []
    for db in dbs:
        copies = []
        for declared, loc in (("primary", db.primary), ("replica", db.replica)):
            found = next(read)
            view, error = (found, None) if isinstance(found, DbView) else (None, found)
            copies.append(Copy(declared, loc, topology.region_of(loc), view, error))
        out.append(DatabaseCopies(db, tuple(copies)))
    return out


def writer_count(lineage: Lineage) -> int | None:
    """Writable copies; None when unknown (a copy unread and fewer than two writers seen among the others)."""
    count = len(lineage.writers)
    return count if lineage.unread == 0 or count > 1 else None


def replicating_from_writer(lineage: Lineage) -> list[DbView]:
    """Copies that replicate from the current writer with no replication error reported by AWS."""
    return [c for c in lineage.copies if c.role is Role.REPLICA and lineage.replicates_from_writer(c)
            and c.replication_state in (None, RUNNING)]


def replication_up(lineage: Lineage) -> bool | None:
    """A copy replicates from the current writer; None when that cannot be told (a copy or the writer unread)."""
    if replicating_from_writer(lineage):
        return True
    return None if lineage.unread else False


def side_of(topology: Topology, region: str, default: str) -> str:
    """The environment whose home region is `region` (what `drctl fence --env` takes), else `default`."""
    return next((name for name, env in topology.environments.items() if env.region == region), default)


def fence_fix(topology: Topology, stale: DbView, reprotect: str) -> str:
    """The commands that fence `stale` and re-protect environment `reprotect`."""
    return (f"`drctl fence --env {side_of(topology, stale.region, reprotect)}`, then "
            f"`drctl failback --to {reprotect} --phase reprotect`")


def dormant_reason(topology: Topology, name: str, view: DbView, current: DbView, env: str) -> str:
    """Why a stopped, unfenced copy beside the current writer is a split brain in waiting, and the fix."""
    start = ("start-db-instance --db-instance-identifier" if view.engine is Engine.RDS_INSTANCE
             else "start-db-cluster --db-cluster-identifier")
    return (f"{name}: {view.id} ({view.region}) is stopped but not fenced, and the current writer is {ref(current)}: "
            f"AWS starts a stopped database again by itself after {AUTO_START_DAYS} days, and then it takes writes "
            f"under its old endpoint (split brain). Fence it while nothing reaches it: `aws rds {start} {view.id} "
            f"--region {view.region}`, then {fence_fix(topology, view, env)}; or delete it if its data is not needed")


def lineage_check(topology: Topology, env: str, view: DbView, copies: DatabaseCopies) -> CheckResult:
    """`view` (the copy in `env`'s region) is the current writer or replicates from it; a stale writable copy,
    a fenced former writer or a replica of anything but the current writer fails, naming the fix."""
    lineage, name, mid = copies.lineage, copies.db.name, view.id
    current = lineage.current
    unread = "".join(f"; {c.loc.id} in {c.region} could not be read: a newer writer there would not show"
                     for c in copies.unread())
    if lineage.is_current(view):
        return passed(env, KIND, mid, f"{mid} is the current writer of {name} ({ref(view)}){unread}")
    if writable(view):
        if current is None:
            others = ", ".join(str(ref(w)) for w in lineage.writers if (w.id, w.region) != (view.id, view.region))
            return failed(env, KIND, mid, (
                f"SPLIT BRAIN RISK: {name} has {len(lineage.writers)} writable copies, {mid} and {others}, none "
                f"tagged as the newest writer: keep the copy holding the writes to keep and fence the others "
                f"(runbooks/DRSplitBrainRisk.md)"))
        return failed(env, KIND, mid, (
            f"{name}: {mid} ({view.region}) is a stale writable copy, the current writer is {ref(current)}: "
            f"fence it and re-protect {env}: {fence_fix(topology, view, env)}"))
    if view.role is Role.REPLICA:
        return _replica_lineage(topology, env, view, copies, unread)
    if any((d.id, d.region) == (view.id, view.region) for d in lineage.dormant_stale):
        assert current is not None  # dormant_stale is empty without a current writer
        return failed(env, KIND, mid, dormant_reason(topology, name, view, current, env))
    if is_fenced(view):
        writer = f"the current writer is {ref(current)}" if current else f"no copy of {name} is writable"
        return failed(env, KIND, mid, (f"{name}: {mid} is a fenced former writer ({writer}): re-protect {env}: "
                                       f"`drctl failback --to {env} --phase reprotect`"))
    return passed(env, KIND, mid, f"{mid} takes no writes ({view.status}): not a writer of {name}")


def _replica_lineage(topology: Topology, env: str, view: DbView, copies: DatabaseCopies,
                     unread: str) -> CheckResult:
    lineage, name, mid = copies.lineage, copies.db.name, view.id
    current = lineage.current
    if current is None:
        if lineage.writers:  # two or more writable copies, none the newest
            return failed(env, KIND, mid, (
                f"SPLIT BRAIN RISK: {name} has {len(lineage.writers)} writable copies and none is tagged as the "
                f"newest writer: {mid} protects whichever it replicates from (runbooks/DRSplitBrainRisk.md)"))
        why = unread.removeprefix("; ") if unread else f"no copy of {name} is writable now"
        return passed(env, KIND, mid, f"{mid} replicates from {view.source_arn}; the writer is not known: {why}")
    if lineage.replicates_from_writer(view):
        return passed(env, KIND, mid, f"{mid} replicates from the current writer {ref(current)}{unread}")
    source = next((c for c in lineage.copies if c.arn and same_resource(view.source_arn, c.arn)), None)
    fix = (fence_fix(topology, source, env) if source is not None and writable(source)
           else f"`drctl failback --to {env} --phase reprotect`")
    return failed(env, KIND, mid, (
        f"{name}: {mid} replicates from {source.id if source else view.source_arn}, not from the current writer "
        f"{ref(current)}: it protects nothing; {fix}"))
