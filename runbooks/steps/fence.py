"""Fence a former writer so applications cannot write to it: tag it, rename it (its endpoint changes, as AWS
ARC does, which also frees the original id for a new replica), then stop it.

By hand: `aws rds add-tags-to-resource`, `aws rds modify-db-instance --db-instance-identifier ID
--new-db-instance-identifier ID-fenced-RUN --apply-immediately` (clusters: `modify-db-cluster
--new-db-cluster-identifier`), then `aws rds stop-db-instance` / `stop-db-cluster`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from dr.aws.rds import member_arn, same_resource
from dr.config.model import Database, DbLocation
from dr.engine.step import FailurePolicy, PreconditionFailed, RunContext, Step, StepNotApplicable
from runbooks.steps._common import FENCED_TAG, ROLE_TAG, call, is_cluster, rds, region, source_reachable, view

STOPPED = frozenset({"stopped", "stopping", "inaccessible-encryption-credentials"})


def fenced_id(loc: DbLocation, run_id: str) -> str:
    """`<id>-fenced-<run>`: a valid RDS identifier (letters, digits, single hyphens, <= 63 chars)."""
    suffix = re.sub(r"[^a-z0-9]", "", run_id.lower())[-8:] or "x"
    return f"{loc.id[:63 - len(suffix) - 8]}-fenced-{suffix}".replace("--", "-")


def _tags(ctx: RunContext) -> list[dict[str, str]]:
    return [{"Key": FENCED_TAG, "Value": ctx.run_id}, {"Key": ROLE_TAG, "Value": "fenced-former-writer"}]


class TagFormerWriter(Step):
    """Failover's best-effort extra: tag the old writer as fenced, if its region answers. Never blocks."""

    policy = FailurePolicy.CONTINUE
    budget = 20.0
    max_attempts = 1
    api_family = "rds-source"

    def __init__(self, db: Database, loc: DbLocation) -> None:
        self.db, self.loc = db, loc
        self.name = f"tag-former-writer:{db.name}"
        self.resource = f"{loc.id} ({loc.region or loc.env})"

    def describe(self, ctx: RunContext) -> Sequence[str]:
        return (f"rds:AddTagsToResource {self.loc.id} in {region(ctx, self.loc)} (best effort)",)

    def check(self, ctx: RunContext) -> None:
        if not source_reachable(ctx):
            raise StepNotApplicable(f"{region(ctx, self.loc)} unreachable: {self.loc.id} is fenced by "
                                    "`drctl failback` when the region is back")

    def is_done(self, ctx: RunContext) -> bool:
        if not source_reachable(ctx):
            return False
        arn = member_arn(ctx.topology, self.db, self.loc)
        tags = rds(ctx, self.loc).list_tags_for_resource(ResourceName=arn).get("TagList", [])
        return any(t["Key"] == FENCED_TAG for t in tags)

    def act(self, ctx: RunContext) -> str | None:
        arn = member_arn(ctx.topology, self.db, self.loc)
        rds(ctx, self.loc).add_tags_to_resource(ResourceName=arn, Tags=_tags(ctx))
        return f"tagged {self.loc.id} {FENCED_TAG}={ctx.run_id}"


class RenameFormerWriter(Step):
    """Tag the old writer and rename it away from its id (applications lose its endpoint)."""

    budget = 900.0
    api_family = "rds"
    poll_max = 5.0

    def __init__(self, db: Database, loc: DbLocation, writer: DbLocation) -> None:
        self.db, self.loc, self.writer = db, loc, writer
        self.name = f"fence:{db.name}"
        self.resource = f"{loc.id} ({loc.region or loc.env})"

    def describe(self, ctx: RunContext) -> Sequence[str]:
        kind = "DBCluster" if is_cluster(self.db.engine) else "DBInstance"
        return (f"rds:AddTagsToResource {self.loc.id} in {region(ctx, self.loc)}",
                f"rds:Modify{kind} {self.loc.id} -> {fenced_id(self.loc, ctx.run_id)} (rename)")

    def is_done(self, ctx: RunContext) -> bool:
        here = view(ctx, self.db, self.loc)
        writer = view(ctx, self.db, self.writer)
        return not here.exists or bool(writer.arn and same_resource(here.source_arn, writer.arn))

    def check(self, ctx: RunContext) -> None:
        here = view(ctx, self.db, self.loc)
        if here.status in STOPPED and not view(ctx, self.db, self.loc, fenced_id(self.loc, ctx.run_id)).exists:
            raise PreconditionFailed(f"{self.loc.id} is {here.status}: AWS cannot rename a stopped database; "
                                     "start it (aws rds start-db-instance|start-db-cluster), then resume")

    def act(self, ctx: RunContext) -> str | None:
        new_id = fenced_id(self.loc, ctx.run_id)
        client = rds(ctx, self.loc)
        here = view(ctx, self.db, self.loc)
        if here.arn:
            call(ctx, client.add_tags_to_resource, ResourceName=here.arn, Tags=_tags(ctx))
        if is_cluster(self.db.engine):
            call(ctx, client.modify_db_cluster, DBClusterIdentifier=self.loc.id, NewDBClusterIdentifier=new_id,
                 ApplyImmediately=True)
        else:
            call(ctx, client.modify_db_instance, DBInstanceIdentifier=self.loc.id, NewDBInstanceIdentifier=new_id,
                 ApplyImmediately=True)
        return f"renamed {self.loc.id} -> {new_id} and tagged it fenced"

    def verify(self, ctx: RunContext) -> bool:
        renamed = view(ctx, self.db, self.loc, fenced_id(self.loc, ctx.run_id))
        return not view(ctx, self.db, self.loc).exists and renamed.exists and renamed.status != "renaming"


class StopFenced(Step):
    """Stop the renamed former writer: nothing can write to it any more."""

    budget = 900.0
    api_family = "rds"
    poll_max = 5.0

    def __init__(self, db: Database, loc: DbLocation) -> None:
        self.db, self.loc = db, loc
        self.name = f"stop-fenced:{db.name}"
        self.resource = f"{loc.id}-fenced-* ({loc.region or loc.env})"

    def describe(self, ctx: RunContext) -> Sequence[str]:
        kind = "DBCluster" if is_cluster(self.db.engine) else "DBInstance"
        return (f"rds:Stop{kind} {fenced_id(self.loc, ctx.run_id)} in {region(ctx, self.loc)}",)

    def is_done(self, ctx: RunContext) -> bool:
        fenced = view(ctx, self.db, self.loc, fenced_id(self.loc, ctx.run_id))
        return not fenced.exists or fenced.status in STOPPED

    def act(self, ctx: RunContext) -> str | None:
        new_id = fenced_id(self.loc, ctx.run_id)
        client = rds(ctx, self.loc)
        if is_cluster(self.db.engine):
            call(ctx, client.stop_db_cluster, DBClusterIdentifier=new_id)
        else:
            call(ctx, client.stop_db_instance, DBInstanceIdentifier=new_id)
        return f"stopped {new_id}"

    def verify(self, ctx: RunContext) -> bool:
        return self.is_done(ctx)
