"""Re-protect: a new cross-region replica of the current writer, under the original id in the other region,
configured exactly as the topology declares for that copy (`Topology.settings_for`: KMS key, subnet group,
security groups, parameter/option groups, class, storage, Multi-AZ, backups, deletion protection); nothing is
copied from whatever copy happens to be around. Aurora global: the old writer rejoins as a secondary by itself;
wait for it.

By hand: `aws rds create-db-instance-read-replica --db-instance-identifier ID --source-db-instance-identifier
<writer ARN> --source-region R --region R2 --kms-key-id K --db-subnet-group-name G --vpc-security-group-ids SG
--db-parameter-group-name P --option-group-name O ...` (Aurora: `create-db-cluster --replication-source-identifier
<writer cluster ARN> --kms-key-id K --db-cluster-parameter-group-name C --backup-retention-period N ...` then
`create-db-instance --db-cluster-identifier`), then wait until the replica is `available` and its lag metric is
within the RPO.

The steps of a re-protect poll AWS through one shared `RdsWatch` (the run's, passed in by the runbook): one listing
per account, region and kind for all of them instead of a describe per database per poll. What a step acts on is
read from a listing begun once it decided to act, and what it waits for from listings begun after its calls
returned (`newer_than`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from dr.aws.lineage import ROLE_TAG
from dr.aws.rds import DbView, same_resource
from dr.checks.lag import LagTarget, read_lag_targets, rpo_verdict
from dr.engine.step import PreconditionFailed, RunContext, Step
from dr.iam import needs
from dr.iam.grants import Grant
from runbooks.steps._common import Move, Waits, call, is_cluster, rds, region
from runbooks.steps._permissions import move_reads
from runbooks.steps.rds_watch import RdsWatch
from runbooks.steps.requirements import SourceFacts, replica_source_problems, source_facts


def member_instance_id(cluster_id: str, run_id: str) -> str:
    suffix = re.sub(r"[^a-z0-9]", "", run_id.lower())[-8:] or "x"
    return f"{cluster_id[:63 - len(suffix) - 3]}-r-{suffix}".replace("--", "-")


def is_replica_of(here: DbView, writer: DbView) -> bool:
    return here.exists and bool(writer.arn) and same_resource(here.source_arn, writer.arn or "")


class CreateReplica(Waits, Step):
    """A cross-region replica of the writer (`move.old`) at `move.new`'s id and region."""

    budget = 3600.0
    api_family = "rds"
    poll_initial = 1.0
    poll_max = 15.0

    def permissions(self, ctx: RunContext) -> list[Grant]:
        """The AWS calls of this step (dr.iam): what the generated IAM policy grants it."""
        return [
            *move_reads(ctx, [self.move]),
            *needs.create_copy(ctx.topology, self.move.db, self.move.new, self.move.old),
            *needs.source_binlog(ctx.topology, self.move.db, self.move.old),
        ]

    def __init__(self, move: Move, watch: RdsWatch | None = None) -> None:
        self.move = move
        self.watch = watch or RdsWatch(scope=[(move.db, move.new), (move.db, move.old)])
        self._acted_at: float | None = None
        self.name = f"reprotect:{move.db.name}"
        self.resource = f"{move.new.id} ({move.new.region or move.new.env}) <- {move.old.id}"

    def describe(self, ctx: RunContext) -> Sequence[str]:
        reg = region(ctx, self.move.new)
        if is_cluster(self.move.db.engine):
            return (f"rds:CreateDBCluster {self.move.new.id} ReplicationSourceIdentifier={self.move.old.id} in {reg}",
                    f"rds:CreateDBInstance {member_instance_id(self.move.new.id, ctx.run_id)} in {reg}")
        return (f"rds:CreateDBInstanceReadReplica {self.move.new.id} from {self.move.old.id} in {reg}",)

    def _views(self, ctx: RunContext, newer_than: float | None = None) -> tuple[DbView, DbView]:
        """(the copy at `move.new`, the writer), from listings begun at or after `newer_than`."""
        here, writer = self.watch.members(ctx, [(self.move.db, self.move.new), (self.move.db, self.move.old)],
                                          newer_than=newer_than)
        return here, writer

    def is_done(self, ctx: RunContext) -> bool:
        here, writer = self._views(ctx)
        return is_replica_of(here, writer) and here.available

    def check(self, ctx: RunContext) -> None:
        here, writer = self._views(ctx)
        if not writer.exists or writer.source_arn:
            raise PreconditionFailed(f"{self.move.db.name}: {self.move.old.id} is not a writer; nothing to replicate")
        if here.exists and not is_replica_of(here, writer):
            raise PreconditionFailed(f"{self.move.db.name}: {self.move.new.id} still exists in "
                                     f"{region(ctx, self.move.new)} and is not a replica of {self.move.old.id}: "
                                     "fence it first (drctl failback --phase reprotect)")
        if not here.exists:
            problems = replica_source_problems(ctx, self.move, source_facts(ctx, self.move))
            if problems:
                raise PreconditionFailed(f"{self.move.db.name}: cannot create {self.move.new.id}: "
                                         + "; ".join(problems))

    def act(self, ctx: RunContext) -> str | None:
        here, writer = self._views(ctx, newer_than=ctx.clock.monotonic())
        self._acted_at = ctx.clock.monotonic()
        if here.exists:
            return f"{self.move.new.id} already created, waiting for it"
        client = rds(ctx, self.move.new)
        facts = source_facts(ctx, self.move)
        tags = [{"Key": ROLE_TAG, "Value": "replica"}, {"Key": "drctl:created-by-run", "Value": ctx.run_id}]
        common: dict[str, Any] = {"SourceRegion": region(ctx, self.move.old), "Tags": tags}
        key = ctx.topology.settings_for(self.move.new).kms_key_id
        if facts.encrypted and key and region(ctx, self.move.old) != region(ctx, self.move.new):
            # AWS: an encrypted cross-Region replica needs a key of the destination region (`check` refuses none)
            common["KmsKeyId"] = key
        if is_cluster(self.move.db.engine):
            return self._create_cluster(ctx, client, writer, facts, common)
        call(ctx, client.create_db_instance_read_replica, DBInstanceIdentifier=self.move.new.id,
             SourceDBInstanceIdentifier=writer.arn, **ctx.topology.settings_for(self.move.new).instance_replica_args(),
             **common)
        self._acted_at = ctx.clock.monotonic()
        return f"created replica {self.move.new.id} of {self.move.old.id}"

    def _create_cluster(self, ctx: RunContext, client: Any, writer: DbView, facts: SourceFacts,
                        common: dict[str, Any]) -> str:
        source = rds(ctx, self.move.old)
        found = facts.raw
        engine = found.get("Engine", "aurora-mysql")
        settings = ctx.topology.settings_for(self.move.new)
        args = dict(DBClusterIdentifier=self.move.new.id, Engine=engine, ReplicationSourceIdentifier=writer.arn,
                    **settings.cluster_replica_args(), **common)
        call(ctx, client.create_db_cluster, **args)
        member = settings.cluster_member_args()
        if "DBInstanceClass" not in member:  # as AWS does for an instance replica: the source's class
            member["DBInstanceClass"] = _member_class(source, found) or "db.r6g.large"
        instance = member_instance_id(self.move.new.id, ctx.run_id)
        call(ctx, client.create_db_instance, DBInstanceIdentifier=instance, DBClusterIdentifier=self.move.new.id,
             Engine=engine, Tags=common["Tags"], **member)
        self._acted_at = ctx.clock.monotonic()
        return f"created replica cluster {self.move.new.id} (instance {instance}) of {self.move.old.id}"

    def waiting_on(self, ctx: RunContext) -> str | None:
        here, writer = self._views(ctx, newer_than=self._acted_at)
        if is_replica_of(here, writer) and here.available:
            return None
        return f"{self.move.new.id} is {here.status if here.exists else 'not there yet'}"


def _member_class(client: Any, cluster: dict[str, Any]) -> str | None:
    members = cluster.get("DBClusterMembers") or []
    if not members:
        return None
    found = client.describe_db_instances(DBInstanceIdentifier=members[0]["DBInstanceIdentifier"])["DBInstances"]
    return str(found[0]["DBInstanceClass"]) if found else None


class RejoinGlobal(Waits, Step):
    """Aurora global: the former writer cluster must be a secondary of the global cluster again."""

    budget = 3600.0
    mutating = False
    api_family = "rds"
    poll_initial = 1.0
    poll_max = 15.0

    def permissions(self, ctx: RunContext) -> list[Grant]:
        """The AWS calls of this step (dr.iam): what the generated IAM policy grants it."""
        return [
            *move_reads(ctx, [self.move]),
            *needs.create_copy(ctx.topology, self.move.db, self.move.new, self.move.old),
        ]

    def __init__(self, move: Move, watch: RdsWatch | None = None) -> None:
        self.move = move
        self.watch = watch or RdsWatch(scope=[(move.db, move.new)])
        self.name = f"reprotect:{move.db.name}"
        self.resource = f"{move.new.id} in global cluster {move.db.global_cluster_id}"

    def describe(self, ctx: RunContext) -> Sequence[str]:
        return (f"rds:DescribeGlobalClusters {self.move.db.global_cluster_id} (wait for {self.move.new.id} "
                "as a secondary)",)

    def _secondary(self, ctx: RunContext) -> bool:
        here = self.watch.member(ctx, self.move.db, self.move.new)
        glob = self.watch.global_cluster(ctx, self.move.old, self.move.db.global_cluster_id or "")
        return bool(here.arn) and here.arn in glob.reader_arns

    def is_done(self, ctx: RunContext) -> bool:
        return self._secondary(ctx)

    def act(self, ctx: RunContext) -> str | None:
        return f"waiting for {self.move.new.id} to rejoin {self.move.db.global_cluster_id} as a secondary"

    def waiting_on(self, ctx: RunContext) -> str | None:
        if self._secondary(ctx):
            return None
        return (f"{self.move.new.id} is not a secondary of {self.move.db.global_cluster_id}: AWS re-adds a former "
                "writer when its region recovers; if it stays detached, rename it and add a new secondary cluster "
                "under this id (aws rds create-db-cluster --global-cluster-identifier ...)")


class WaitReplicating(Waits, Step):
    """The new replica replicates within the RPO (fresh lag datapoint, not -1)."""

    budget = 3600.0
    mutating = False  # reads only; in a dry run it is planned like the creation it waits for
    poll_initial = 2.0
    poll_max = 30.0

    def permissions(self, ctx: RunContext) -> list[Grant]:
        """The AWS calls of this step (dr.iam): what the generated IAM policy grants it."""
        return move_reads(ctx, [self.move])

    def __init__(self, move: Move) -> None:
        self.move = move
        self.name = f"replicating:{move.db.name}"
        self.resource = f"{move.new.id} ({move.new.region or move.new.env})"
        self.last = ""

    def describe(self, ctx: RunContext) -> Sequence[str]:
        return (f"cloudwatch:GetMetricData lag of {self.move.new.id} in {region(ctx, self.move.new)} "
                "(poll until within the RPO)",)

    def _ok(self, ctx: RunContext) -> bool:
        target = LagTarget(self.move.db.name, self.move.db.engine, self.move.new.env, region(ctx, self.move.new),
                           self.move.new.id, region(ctx, self.move.old))
        sample = read_lag_targets([target], ctx.clients, ctx.clock)[self.move.db.name]
        ok, self.last = rpo_verdict(sample, ctx.topology.objectives.rpo)
        return ok

    def act(self, ctx: RunContext) -> str | None:
        self._ok(ctx)
        return self.last

    def waiting_on(self, ctx: RunContext) -> str | None:
        return None if self._ok(ctx) else f"{self.move.new.id}: {self.last}"
