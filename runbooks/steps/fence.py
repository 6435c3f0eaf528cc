"""Fence a writer so that no application can write to it any more: tag it, then rename it.

Why a rename (what AWS documents, RDS User Guide "Renaming a DB instance"): the old DNS name is deleted at once and
the instance reboots, so open sessions end and new ones cannot find the endpoint; replicas stay attached (the
catch-up goes on); tags stay. It frees the id for a new replica, and it is how AWS ARC Region switch retires an old
primary. What it does not cover: a client holding a cached DNS answer (minutes) can reconnect to the renamed
instance's address until its cache expires. An Aurora cluster rename removes the cluster endpoints; instance
endpoints stay. Stopping is the last step, once the copy has no replicas (AWS refuses to stop an instance that has
read replicas or is one). Undo (only if the move is abandoned before any promotion): rename back with
`aws rds modify-db-instance --db-instance-identifier ID-fenced-RUN --new-db-instance-identifier ID
--apply-immediately` and remove the `drctl:fenced-by-run` tag.

Three uses: `fence:<db>` before a planned promotion (the source writer; `catch-up:<db>` then waits for the replica),
`fence-old-writer:<db>` after an unplanned one (best effort: the source region may be gone), and `fence-stale:<db>`
(`drctl fence`, failback's re-protect): a stale copy, never the current writer.

The fences of a run read AWS through one shared `RdsWatch` (`fence_watch`): one listing per account, region and kind
for all of them, filtered to the copies they fence, their fenced names and the other sides, instead of a describe per
database per poll (at 200 databases the 133 fences' own describes drained RDS's request quota: docs/benchmarks.md).
What a fence acts on is read from a listing begun after it decided to act, and the rename is verified from listings
begun after the rename call returned (`newer_than`), as a describe by id would.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from dr.aws.lineage import AUTO_START_DAYS, DATABASE_TAG, FENCE_HOW_TAG, FENCED_TAG, ROLE_TAG, dormant, writable
from dr.aws.rds import DbView
from dr.clock import iso
from dr.config.model import Database, DbLocation, Engine
from dr.engine.facts import advice_fact
from dr.engine.step import FailurePolicy, PreconditionFailed, RunContext, Step, StepNotApplicable
from dr.iam import needs
from dr.iam.grants import Grant
from runbooks.steps._common import (
    Move,
    call,
    fence_fact,
    is_cluster,
    lineage,
    planned,
    rds,
    region,
    source_reachable,
)
from runbooks.steps._permissions import move_reads
from runbooks.steps.rds_watch import RdsWatch

STOPPED = frozenset({"stopped", "stopping", "inaccessible-encryption-credentials"})
RENAMING = "renaming"


def fenced_id(loc: DbLocation, run_id: str) -> str:
    """`<id>-fenced-<run>`: a valid RDS identifier (letters, digits, single hyphens, <= 63 chars)."""
    suffix = re.sub(r"[^a-z0-9]", "", run_id.lower())[-8:] or "x"
    return f"{loc.id[:63 - len(suffix) - 8]}-fenced-{suffix}".replace("--", "-")


def fenced_location(loc: DbLocation, run_id: str) -> DbLocation:
    """Where the copy at `loc` is found once this run fenced it: same account and region, the fenced id."""
    return loc.model_copy(update={"id": fenced_id(loc, run_id)})


def fence_watch(run_id: str, fenced: Sequence[tuple[Move, DbLocation]]) -> RdsWatch:
    """One watch for a run's fences: for each (move, copy it fences), the copy, its fenced name and both sides of
    the move (lineage) are in scope, so every fence's reads share one filtered listing per account, region and
    kind."""
    scope: list[tuple[Database, DbLocation]] = []
    for move, loc in fenced:
        scope += [(move.db, loc), (move.db, fenced_location(loc, run_id)), (move.db, move.old), (move.db, move.new)]
    return RdsWatch(scope=scope)


def fence_tags(ctx: RunContext, db: Database) -> list[dict[str, str]]:
    return [{"Key": FENCED_TAG, "Value": ctx.run_id}, {"Key": FENCE_HOW_TAG, "Value": "renamed"},
            {"Key": DATABASE_TAG, "Value": db.name}, {"Key": ROLE_TAG, "Value": "fenced-former-writer"}]


def fence_calls(ctx: RunContext, db: Database, loc: DbLocation) -> tuple[str, ...]:
    kind = "DBCluster" if is_cluster(db.engine) else "DBInstance"
    return (f"rds:AddTagsToResource {loc.id} in {region(ctx, loc)} ({FENCED_TAG})",
            f"rds:Modify{kind} {loc.id} -> {fenced_id(loc, ctx.run_id)} (rename: endpoint deleted, reboot)")


def fence_copy(ctx: RunContext, db: Database, loc: DbLocation, found: DbView) -> str:
    """Tag, then rename the copy at `loc` (one call each, retried on throttling)."""
    new_id = fenced_id(loc, ctx.run_id)
    client = rds(ctx, loc)
    if found.arn:
        call(ctx, client.add_tags_to_resource, ResourceName=found.arn, Tags=fence_tags(ctx, db))
    if is_cluster(db.engine):
        call(ctx, client.modify_db_cluster, DBClusterIdentifier=loc.id, NewDBClusterIdentifier=new_id,
             ApplyImmediately=True)
    else:
        call(ctx, client.modify_db_instance, DBInstanceIdentifier=loc.id, NewDBInstanceIdentifier=new_id,
             ApplyImmediately=True)
    return f"tagged {loc.id} {FENCED_TAG}={ctx.run_id} and renamed it {new_id} (its endpoint is gone)"


def renamed_away(ctx: RunContext, db: Database, loc: DbLocation, watch: RdsWatch,
                 newer_than: float | None = None) -> bool:
    """Nothing answers at `loc`'s id any more and the fenced copy is past `renaming` (its reboot ends sessions), as
    listings begun at or after `newer_than` show it."""
    if watch.member(ctx, db, loc, newer_than=newer_than).exists:
        return False
    renamed = watch.member(ctx, db, fenced_location(loc, ctx.run_id), newer_than=newer_than)
    return not renamed.exists or renamed.status != RENAMING


class _Fence(Step):
    """What the fence steps share: their reads through the run's fence watch (else one of their own), and the
    moment the rename call returned (the verification reads only what AWS answered after it)."""

    move: Move
    _watch: RdsWatch | None = None
    _acted_at: float | None = None

    def _fenced_loc(self) -> DbLocation:
        """The copy this step fences."""
        return self.move.old

    def listings(self, ctx: RunContext) -> RdsWatch:
        if self._watch is None:
            self._watch = fence_watch(ctx.run_id, [(self.move, self._fenced_loc())])
        return self._watch

    def _read(self, ctx: RunContext, *, fresh: bool = False) -> DbView:
        """The copy to fence; `fresh`: from a listing begun now (what the fence acts on)."""
        newer_than = ctx.clock.monotonic() if fresh else None
        return self.listings(ctx).member(ctx, self.move.db, self._fenced_loc(), newer_than=newer_than)

    def _fence(self, ctx: RunContext, found: DbView) -> str:
        """Fence `found` (read fresh); gone already (a retried act whose rename took effect): nothing to call."""
        detail = (fence_copy(ctx, self.move.db, self._fenced_loc(), found) if found.exists
                  else f"{self._fenced_loc().id} is already renamed away")
        self._acted_at = ctx.clock.monotonic()
        return detail

    def _renamed_away(self, ctx: RunContext) -> bool:
        return renamed_away(ctx, self.move.db, self._fenced_loc(), self.listings(ctx), self._acted_at)


class FenceSource(_Fence):
    """Planned move: fence the source writer before anything is promoted, so no new write lands on it."""

    budget = 180.0
    api_family = "rds-source"
    max_attempts = 3
    poll_initial = 0.5
    poll_max = 5.0

    def permissions(self, ctx: RunContext) -> list[Grant]:
        """The AWS calls of this step (dr.iam): what the generated IAM policy grants it."""
        return move_reads(ctx, [self.move]) + needs.fence(ctx.topology, self.move.db, self.move.old)

    def __init__(self, move: Move, watch: RdsWatch | None = None) -> None:
        self.move = move
        self._watch = watch
        self.name = f"fence:{move.db.name}"
        self.resource = f"{move.old.id} ({move.old.region or move.old.env})"

    def describe(self, ctx: RunContext) -> Sequence[str]:
        return (*fence_calls(ctx, self.move.db, self.move.old), "(planned moves only; before promote)")

    def check(self, ctx: RunContext) -> None:
        if not planned(ctx):
            raise StepNotApplicable("unplanned move: the source is not fenced before promotion "
                                    "(fence-old-writer fences it afterwards where its region answers)")

    def is_done(self, ctx: RunContext) -> bool:
        if not planned(ctx):
            return False
        return not writable(self._read(ctx))

    def act(self, ctx: RunContext) -> str | None:
        return self._fence(ctx, self._read(ctx, fresh=True))

    def verify(self, ctx: RunContext) -> bool:
        if not self._renamed_away(ctx):
            return False
        key = fence_fact(self.move.db.name)
        if not ctx.facts.get(key):  # when writes stopped: catch-up wants lag evidence newer than this
            ctx.set_fact(key, {"at": iso(ctx.clock.now()), "id": fenced_id(self.move.old, ctx.run_id)})
        return True


class FenceLeftBehind(_Fence):
    """Unplanned move: fence the former writer after promotion where its region answers; else say it is not."""

    policy = FailurePolicy.CONTINUE
    budget = 60.0
    max_attempts = 2
    api_family = "rds-source"
    poll_max = 5.0

    def permissions(self, ctx: RunContext) -> list[Grant]:
        """The AWS calls of this step (dr.iam): what the generated IAM policy grants it."""
        return [
            *move_reads(ctx, [self.move]),
            *needs.fence(ctx.topology, self.move.db, self.move.old),
            *needs.stop(ctx.topology, self.move.db, self.move.old),
        ]

    def __init__(self, move: Move, watch: RdsWatch | None = None) -> None:
        self.move = move
        self._watch = watch
        self.name = f"fence-old-writer:{move.db.name}"
        self.resource = f"{move.old.id} ({move.old.region or move.old.env})"

    def describe(self, ctx: RunContext) -> Sequence[str]:
        return (*fence_calls(ctx, self.move.db, self.move.old), "(unplanned moves, best effort)")

    def _unfenced(self, ctx: RunContext) -> str:
        return (f"{self.move.old.id} in {region(ctx, self.move.old)} is NOT fenced: it takes writes again when its "
                f"region returns (split brain); run `drctl fence --env {ctx.source}` as soon as the region answers")

    def _old(self, ctx: RunContext, *, fresh: bool = False) -> DbView | None:
        """The former writer as its region answers now; None when the region does not answer."""
        from dr.aws.errors import is_unreachable

        if not source_reachable(ctx):
            return None
        try:
            return self._read(ctx, fresh=fresh)
        except Exception as exc:
            if is_unreachable(exc):
                return None
            raise

    def is_done(self, ctx: RunContext) -> bool:
        found = self._old(ctx)
        return found is not None and not writable(found)

    def check(self, ctx: RunContext) -> None:
        found = self._old(ctx)
        if found is None:
            ctx.set_fact(advice_fact(f"unfenced.{self.move.db.name}"), self._unfenced(ctx))
            raise StepNotApplicable(self._unfenced(ctx))
        if lineage(ctx, self.move, self.listings(ctx)).is_current(found):
            raise PreconditionFailed(f"{self.move.old.id} is still the current writer: not fenced")

    def act(self, ctx: RunContext) -> str | None:
        return self._fence(ctx, self._read(ctx, fresh=True))

    def verify(self, ctx: RunContext) -> bool:
        if not self._renamed_away(ctx):
            return False
        ctx.set_fact(advice_fact(f"unfenced.{self.move.db.name}"), None)
        return True


class FenceStale(_Fence):
    """Fence the copy at `loc` if it is a stale writer (`drctl fence`, failback's re-protect). Never the current
    writer: that is refused."""

    budget = 900.0
    api_family = "rds"
    poll_max = 5.0

    def permissions(self, ctx: RunContext) -> list[Grant]:
        """The AWS calls of this step (dr.iam): what the generated IAM policy grants it."""
        return move_reads(ctx, [self.move]) + needs.fence(ctx.topology, self.move.db, self.move.new)

    def __init__(self, move: Move, prefix: str = "fence-stale", watch: RdsWatch | None = None) -> None:
        """`move.new` is the copy to fence if stale; `move.old` its counterpart in the other region."""
        self.move = move
        self._watch = watch
        self.name = f"{prefix}:{move.db.name}"
        self.resource = f"{move.new.id} ({move.new.region or move.new.env})"

    def describe(self, ctx: RunContext) -> Sequence[str]:
        reads = f"rds:Describe* {self.move.new.id} and {self.move.old.id} (lineage: is it a stale writer?)"
        return (reads, *fence_calls(ctx, self.move.db, self.move.new))

    def _fenced_loc(self) -> DbLocation:
        return self.move.new

    def _here(self, ctx: RunContext) -> DbView:
        return self._read(ctx)

    def is_done(self, ctx: RunContext) -> bool:
        here = self._here(ctx)
        return not writable(here) and not dormant(here)

    def check(self, ctx: RunContext) -> None:
        here = self._here(ctx)
        if dormant(here):  # a rename needs an available instance; stopped, it only waits for AWS to restart it
            raise PreconditionFailed(
                f"{self.move.db.name}: {here.id} ({here.region}) is stopped but not fenced: AWS starts it again by "
                f"itself after {AUTO_START_DAYS} days, and then it takes writes under its old endpoint. Start it "
                f"(aws rds {_start_command(self.move.db)} {here.id} --region {here.region}), wait until it is "
                "available, and run this again; or delete it if its data is not needed")
        line = lineage(ctx, self.move, self.listings(ctx), new=here)
        if line.unread:
            raise PreconditionFailed(f"{self.move.db.name}: {self.move.old.id} could not be read, so nobody can "
                                     f"tell whether {self.move.new.id} is stale; run again when both regions answer")
        if line.is_current(here):
            raise PreconditionFailed(f"{self.move.db.name}: {self.move.new.id} is the current writer "
                                     f"({line.describe()}); a fence never touches it")
        if line.current is None:
            raise PreconditionFailed(f"{line.describe()}: nobody can tell which copy is the writer; tag the writer "
                                     "with drctl:generation (one more than the other's) by hand, then run again")

    def act(self, ctx: RunContext) -> str | None:
        return self._fence(ctx, self._read(ctx, fresh=True))

    def verify(self, ctx: RunContext) -> bool:
        return self._renamed_away(ctx)


def _start_command(db: Database) -> str:
    return ("start-db-cluster --db-cluster-identifier" if is_cluster(db.engine)
            else "start-db-instance --db-instance-identifier")


def fenced_copies(ctx: RunContext, db: Database, loc: DbLocation, watch: RdsWatch | None = None,
                  newer_than: float | None = None) -> list[dict[str, Any]]:
    """Every copy of `db` in `loc`'s account and region that a drctl fence marked (found by tag, whatever run), from
    the watch's unfiltered listing of that region (listings begun at or after `newer_than`)."""
    operation = "describe_db_clusters" if is_cluster(db.engine) else "describe_db_instances"
    items = (watch or RdsWatch()).everything(ctx, loc, operation, newer_than=newer_than)
    out = []
    for item in items.values():
        tags = {t["Key"]: t.get("Value", "") for t in item.get("TagList") or []}
        if FENCED_TAG in tags and tags.get(DATABASE_TAG, db.name) == db.name and _named_after(item, loc):
            out.append(item)
    return out


def _named_after(item: dict[str, Any], loc: DbLocation) -> bool:
    ident = str(item.get("DBClusterIdentifier") or item.get("DBInstanceIdentifier") or "")
    return ident.startswith(f"{loc.id[:40]}") and "-fenced-" in ident


def _status(item: dict[str, Any]) -> str:
    return str(item.get("Status") or item.get("DBInstanceStatus") or "")


def _has_replicas(item: dict[str, Any]) -> bool:
    return bool(item.get("ReadReplicaDBInstanceIdentifiers") or item.get("ReadReplicaIdentifiers")
                or item.get("ReadReplicaSourceDBInstanceIdentifier") or item.get("ReplicationSourceIdentifier"))


class StopFenced(Step):
    """Stop every fenced copy of the database in `loc`'s region (found by tag) that AWS lets stop: nothing can
    write to it any more, and it costs less. A copy with read replicas (or that is one) is left running."""

    budget = 900.0
    api_family = "rds"
    poll_max = 5.0

    def permissions(self, ctx: RunContext) -> list[Grant]:
        """The AWS calls of this step (dr.iam): what the generated IAM policy grants it."""
        return needs.rds_reads(ctx.topology, [(self.db, self.loc)]) + needs.stop(ctx.topology, self.db, self.loc)

    def __init__(self, db: Database, loc: DbLocation, prefix: str = "stop-fenced",
                 watch: RdsWatch | None = None) -> None:
        """`watch`: the run's shared listings (one unfiltered listing per account, region and kind serves every
        StopFenced of the run); else one of its own."""
        self.db, self.loc = db, loc
        self.watch = watch or RdsWatch()
        self._acted_at: float | None = None
        self.name = f"{prefix}:{db.name}"
        self.resource = f"{loc.id}-fenced-* ({loc.region or loc.env})"

    def describe(self, ctx: RunContext) -> Sequence[str]:
        kind = "DBCluster" if is_cluster(self.db.engine) else "DBInstance"
        return (f"rds:Describe{kind}s in {region(ctx, self.loc)} (copies tagged {FENCED_TAG})",
                f"rds:Stop{kind} each of them that has no replica")

    def _to_stop(self, ctx: RunContext, newer_than: float | None = None) -> list[dict[str, Any]]:
        return [i for i in fenced_copies(ctx, self.db, self.loc, self.watch, newer_than)
                if _status(i) not in STOPPED and _status(i) != RENAMING and not _has_replicas(i)]

    def is_done(self, ctx: RunContext) -> bool:
        if self.db.engine is Engine.AURORA_GLOBAL:
            return True
        return not self._to_stop(ctx, self._acted_at)

    def act(self, ctx: RunContext) -> str | None:
        client = rds(ctx, self.loc)
        stopped = []
        for item in self._to_stop(ctx, newer_than=ctx.clock.monotonic()):
            if is_cluster(self.db.engine):
                call(ctx, client.stop_db_cluster, DBClusterIdentifier=item["DBClusterIdentifier"])
                stopped.append(str(item["DBClusterIdentifier"]))
            else:
                call(ctx, client.stop_db_instance, DBInstanceIdentifier=item["DBInstanceIdentifier"])
                stopped.append(str(item["DBInstanceIdentifier"]))
        self._acted_at = ctx.clock.monotonic()  # verified from listings begun after the stop calls returned
        return "stopped " + ", ".join(stopped) if stopped else "nothing to stop"

    def verify(self, ctx: RunContext) -> bool:
        return self.is_done(ctx)
