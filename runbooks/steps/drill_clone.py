"""Drill steps for the temporary database copies: create, add a writer, promote, verify, delete.

By hand (rds-instance): `aws rds create-db-instance-read-replica --db-instance-identifier drill-orders-RUN
--source-db-instance-identifier orders-db-euw1 --tags Key=drctl:drill,Value=true Key=drctl:run-id,Value=RUN`,
`aws rds promote-read-replica --db-instance-identifier drill-orders-RUN`, then
`aws rds delete-db-instance --db-instance-identifier drill-orders-RUN --skip-final-snapshot`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dr.drill import clones
from dr.drill.clones import CloneKind, ClonePlan
from dr.engine.step import FailurePolicy, PreconditionFailed, RunContext, Step
from dr.iam import needs
from dr.iam.grants import Grant
from runbooks.steps._common import call

CREATE_BUDGET = 3600.0
"""Creating a replica copies the data volume in AWS: minutes to an hour. Not part of the measured RTO."""
PROMOTE_BUDGET = 600.0
DELETE_BUDGET = 600.0


def promote_seconds_fact(database: str) -> str:
    """Fact: seconds the clone of `database` took from the promote call to writable."""
    return f"drill.promote_seconds.{database}"


class _CloneStep(Step):
    api_family = "rds"

    def permissions(self, ctx: RunContext) -> list[Grant]:
        """The AWS calls of this step (dr.iam): what the generated IAM policy grants it."""
        return [
            *needs.rds_reads(ctx.topology, [(self.plan.database, self.plan.replica)]),
            *needs.clone(ctx.topology, self.plan.database, self.plan.replica, self.plan.primary),
        ]

    def __init__(self, plan: ClonePlan, prefix: str) -> None:
        self.plan = plan
        self.name = f"{prefix}:{plan.database.name}"
        self.resource = f"{plan.ident} ({plan.env}/{plan.region})"

    def _client(self, ctx: RunContext) -> Any:
        return ctx.clients.client("rds", self.plan.env, self.plan.region)

    def _clone(self, ctx: RunContext) -> dict[str, Any] | None:
        return call(ctx, clones.find, client=self._client(ctx), ident=self.plan.ident, cluster=self.plan.is_cluster)

    def _writer(self, ctx: RunContext) -> dict[str, Any] | None:
        return call(ctx, clones.find, client=self._client(ctx), ident=self.plan.writer, cluster=False)

    def _available(self, found: dict[str, Any] | None) -> bool:
        return clones.status(found) == clones.AVAILABLE


class CreateClone(_CloneStep):
    """Create the tagged temporary copy next to the DR replica and wait until it is available."""

    budget = CREATE_BUDGET
    poll_max = 10.0

    def __init__(self, plan: ClonePlan) -> None:
        super().__init__(plan, "drill-clone")

    def describe(self, ctx: RunContext) -> Sequence[str]:
        op = {CloneKind.INSTANCE_REPLICA: "rds:CreateDBInstanceReadReplica",
              CloneKind.CLUSTER_COPY: "rds:RestoreDBClusterToPointInTime (copy-on-write)"}[self.plan.kind]
        return (f"{op} {self.plan.ident} in {self.plan.region}, tagged drctl:drill=true, drctl:run-id={ctx.run_id}",)

    def is_done(self, ctx: RunContext) -> bool:
        return self._available(self._clone(ctx))

    def act(self, ctx: RunContext) -> str | None:
        if self._clone(ctx) is not None:
            return f"{self.plan.ident} exists already (created earlier in this run)"
        client = self._client(ctx)
        if self.plan.is_cluster:
            return clones.create_cluster(client, self.plan, ctx.run_id)
        return clones.create_instance_replica(client, ctx.topology, self.plan, ctx.run_id)

    def verify(self, ctx: RunContext) -> bool:
        return self._available(self._clone(ctx))


class CreateWriter(_CloneStep):
    """Aurora clone: add one writer instance sized like the DR replica's, wait until it is available. Part of
    making the copy (a real DR cluster already has its instances), so not part of the measured RTO."""

    budget = 1800.0
    poll_max = 10.0

    def __init__(self, plan: ClonePlan) -> None:
        super().__init__(plan, "drill-writer")
        self.resource = f"{plan.writer} in {plan.ident} ({plan.env}/{plan.region})"

    def describe(self, ctx: RunContext) -> Sequence[str]:
        return (f"rds:CreateDBInstance {self.plan.writer} --db-cluster-identifier {self.plan.ident}",)

    def is_done(self, ctx: RunContext) -> bool:
        return self._available(self._writer(ctx))

    def act(self, ctx: RunContext) -> str | None:
        if self._writer(ctx) is None:
            clones.create_writer(self._client(ctx), self.plan, ctx.run_id)
        return f"writer {self.plan.writer}"

    def verify(self, ctx: RunContext) -> bool:
        return self._available(self._writer(ctx))


class PromoteClone(_CloneStep):
    """Promote the copy to a standalone writer and wait until it takes writes: the measured promotion time.

    rds-instance: PromoteReadReplica (minutes in AWS). An Aurora clone is standalone from the start: the step
    only confirms it takes writes (the global failover itself is measured by full drills, not clone drills).
    """

    budget = PROMOTE_BUDGET

    def __init__(self, plan: ClonePlan) -> None:
        super().__init__(plan, "drill-promote")
        self._started: float | None = None

    def describe(self, ctx: RunContext) -> Sequence[str]:
        if self.plan.is_cluster:
            return (f"rds:DescribeDBClusters {self.plan.ident} (a clone is standalone: confirm it takes writes)",)
        return (f"rds:PromoteReadReplica {self.plan.ident}",
                "rds:DescribeDBInstances (poll until available and no longer a replica)")

    def _standalone_writer(self, ctx: RunContext) -> bool:
        clone = self._clone(ctx)
        if not self._available(clone) or clone is None or clones.replication_source(clone):
            return False
        return not self.plan.is_cluster or self._available(self._writer(ctx))

    def is_done(self, ctx: RunContext) -> bool:
        return not self.plan.is_cluster and self._standalone_writer(ctx)

    def check(self, ctx: RunContext) -> None:
        if self._clone(ctx) is None:
            raise PreconditionFailed(f"clone {self.plan.ident} does not exist: the clone step did not finish")

    def act(self, ctx: RunContext) -> str | None:
        self._started = ctx.clock.monotonic()
        clone = self._clone(ctx) or {}
        if clones.replication_source(clone):
            call(ctx, clones.promote, client=self._client(ctx), plan=self.plan)
            return f"promoted {self.plan.ident}"
        if self.plan.is_cluster:
            return f"{self.plan.ident} is a standalone clone: nothing to promote; writer {self.plan.writer}"
        return f"{self.plan.ident} no longer replicates (promoted earlier in this run)"

    def verify(self, ctx: RunContext) -> bool:
        if not self._standalone_writer(ctx):
            return False
        if self._started is not None:
            ctx.set_fact(promote_seconds_fact(self.plan.database.name),
                         round(ctx.clock.monotonic() - self._started, 3))
        return True


class VerifyClone(_CloneStep):
    """Read-only: the promoted copy exists, is available and replicates from nothing."""

    budget = 60.0
    mutating = False
    max_attempts = 2

    def __init__(self, plan: ClonePlan) -> None:
        super().__init__(plan, "drill-verify")

    def describe(self, ctx: RunContext) -> Sequence[str]:
        return (f"rds:Describe* {self.plan.ident}",)

    def act(self, ctx: RunContext) -> str | None:
        clone = self._clone(ctx)
        if clone is None:
            raise PreconditionFailed(f"clone {self.plan.ident} is gone before verification")
        problems = []
        if not self._available(clone):
            problems.append(f"status {clones.status(clone)}")
        if clones.replication_source(clone):
            problems.append(f"still replicating from {clones.replication_source(clone)}")
        if self.plan.is_cluster and not self._available(self._writer(ctx)):
            problems.append(f"writer {self.plan.writer} not available")
        if problems:
            raise PreconditionFailed(f"clone {self.plan.ident}: " + "; ".join(problems))
        return f"{self.plan.ident} is a writable standalone copy"


class DeleteCloneWriter(_CloneStep):
    """Aurora clone: delete its instances and wait until they are gone (AWS refuses to delete a cluster that
    still has instances). Continues on failure: cleanup tries everything, and the sweep retries."""

    budget = 1200.0
    policy = FailurePolicy.CONTINUE
    poll_max = 10.0

    def __init__(self, plan: ClonePlan) -> None:
        super().__init__(plan, "drill-delete-writer")
        self.resource = f"instances of {plan.ident} ({plan.env}/{plan.region})"

    def describe(self, ctx: RunContext) -> Sequence[str]:
        return (f"rds:DeleteDBInstance {self.plan.writer} --skip-final-snapshot (poll until gone)",)

    def _gone(self, ctx: RunContext) -> bool:
        return bool(call(ctx, clones.members_gone, client=self._client(ctx), ident=self.plan.ident))

    def is_done(self, ctx: RunContext) -> bool:
        return self._gone(ctx)

    def act(self, ctx: RunContext) -> str | None:
        left = clones.delete_members(self._client(ctx), self.plan.ident)
        return f"deleting {', '.join(left)}" if left else "no instances left"

    def verify(self, ctx: RunContext) -> bool:
        return self._gone(ctx)


class DeleteClone(_CloneStep):
    """Delete the copy without a final snapshot (a cluster once its instances are gone). Continues on failure:
    cleanup tries everything, and the sweep after the run retries what is left."""

    budget = DELETE_BUDGET
    policy = FailurePolicy.CONTINUE
    poll_max = 5.0

    def __init__(self, plan: ClonePlan) -> None:
        super().__init__(plan, "drill-delete")

    def describe(self, ctx: RunContext) -> Sequence[str]:
        op = "rds:DeleteDBCluster" if self.plan.is_cluster else "rds:DeleteDBInstance"
        return (f"{op} {self.plan.ident} --skip-final-snapshot",)

    def _gone(self, ctx: RunContext) -> bool:
        client = self._client(ctx)
        return bool(call(ctx, clones.gone, client=client, ident=self.plan.ident, cluster=self.plan.is_cluster))

    def is_done(self, ctx: RunContext) -> bool:
        return self._gone(ctx)

    def act(self, ctx: RunContext) -> str | None:
        client = self._client(ctx)
        if self.plan.is_cluster:
            clones.delete_cluster(client, self.plan.ident)
        else:
            clones.delete_instance(client, self.plan.ident)
        return f"deleted {self.plan.ident}"

    def verify(self, ctx: RunContext) -> bool:
        return self._gone(ctx)
