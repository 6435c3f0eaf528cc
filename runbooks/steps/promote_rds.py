"""Promote an RDS read replica or an Aurora replica cluster in the DR region to a standalone writer.

A copy counts as promoted only when it is the database's current writer (dr.aws.lineage): a standalone copy
that an earlier move left behind is stale, and is refused, never promoted or counted as done. Before the promote
call the copy is tagged with its new `drctl:generation` (one more than any generation seen), so who the writer is
survives the loss of the operator's machine.

By hand: `aws rds add-tags-to-resource --resource-name <replica ARN> --tags Key=drctl:generation,Value=N ...`, then
`aws rds promote-read-replica --db-instance-identifier ID --region R` (instance) or
`aws rds promote-read-replica-db-cluster --db-cluster-identifier ID --region R` (Aurora cluster), then wait
until `aws rds describe-db-instances|describe-db-clusters` shows `available` and no replication source.
"""

from __future__ import annotations

from collections.abc import Sequence

from dr.aws.lineage import generation_tags
from dr.aws.rds import DbView
from dr.config.model import Engine
from dr.engine.step import PreconditionFailed, RunContext, Step
from dr.iam import needs
from dr.iam.grants import Grant
from runbooks.steps._common import (
    Move,
    Waits,
    call,
    generation_fact,
    is_current_writer,
    lineage,
    rds,
    region,
)
from runbooks.steps._permissions import move_reads
from runbooks.steps.rds_watch import RdsWatch

BROKEN_REPLICATION = frozenset({"error", "terminated", "stopped"})
REFUSED_STATES = {
    "backing-up": "a backup is running and AWS refuses promotion meanwhile: wait until it completes "
                  "(aws rds describe-db-instances shows 'available'), then resume",
    "stopped": "the replica is stopped: start it (aws rds start-db-instance) and resume",
    "storage-full": "the replica's storage is full: increase its storage, then resume",
    "incompatible-parameters": "the replica's parameter group is incompatible: fix it, then resume",
}


class PromoteReplica(Waits, Step):
    """Make the DR copy of one database (`rds-instance` or `aurora-cluster`) a standalone writer."""

    def permissions(self, ctx: RunContext) -> list[Grant]:
        """The AWS calls of this step (dr.iam): what the generated IAM policy grants it."""
        return move_reads(ctx, [self.move]) + needs.promote(ctx.topology, self.move.db, self.move.new)

    @property
    def budget(self) -> float:  # type: ignore[override]  # Step declares a plain attribute
        """The database's `promotion_budget` from the topology, else its engine's (dr/config/promotion.py)."""
        return self.move.db.promotion_budget_seconds

    api_family = "rds"
    max_attempts = 3
    poll_initial = 0.25
    poll_max = 0.5
    """Completion seen within ~0.8 s: the last sleep, a shared listing up to 0.25 s old, one read. Polling
    this often costs no extra calls: every promotion's poll reads the run's RdsWatch, which lists each
    account, region and kind at most once per 0.25 s however many steps ask."""

    def __init__(self, move: Move, watch: RdsWatch | None = None) -> None:
        self.move = move
        self.watch = watch or RdsWatch()
        self._fresh: DbView | None = None
        self.cluster = move.db.engine is not Engine.RDS_INSTANCE
        self.name = f"promote:{move.db.name}"
        self.resource = f"{move.db.engine} {move.new.id} ({move.new.region or move.new.env})"

    def _operation(self) -> str:
        return "PromoteReadReplicaDBCluster" if self.cluster else "PromoteReadReplica"

    def describe(self, ctx: RunContext) -> Sequence[str]:
        reg = region(ctx, self.move.new)
        kind = "DBClusters" if self.cluster else "DBInstances"
        return (f"rds:Describe{kind} {self.move.new.id} in {reg}",
                f"rds:{self._operation()} {self.move.new.id} in {reg}",
                f"rds:Describe{kind} {self.move.new.id} in {reg} (poll until available, no replication source)")

    def _current(self, ctx: RunContext) -> DbView:
        found = self.watch.member(ctx, self.move.db, self.move.new)
        if not found.exists:
            raise PreconditionFailed(f"{self.move.db.name}: {self.move.new.id} does not exist in "
                                     f"{region(ctx, self.move.new)}; check the topology or create the replica")
        return found

    def _handed_on(self, ctx: RunContext) -> DbView:
        """The view the previous phase (is_done -> check -> act) just read, once; else a fresh read."""
        found, self._fresh = self._fresh, None
        return found if found is not None else self._current(ctx)

    def is_done(self, ctx: RunContext) -> bool:
        self.start_waiting(ctx)
        self._fresh = self._current(ctx)
        return self._settled(ctx, self._fresh)

    def _settled(self, ctx: RunContext, found: DbView) -> bool:
        """Whether `found` is the current writer; once it is, the shared listings stop including it."""
        if found.source_arn or not found.available:
            return False  # still a replica, or busy: not the writer yet, nothing more to read
        if not is_current_writer(ctx, self.move, found, lineage(ctx, self.move, self.watch, new=found)):
            return False
        self.watch.settle(self.move.db, self.move.new)
        return True

    def check(self, ctx: RunContext) -> None:
        found = self._fresh = self._handed_on(ctx)
        if not found.source_arn and found.available and ctx.facts.get(generation_fact(self.move.db.name)) is None:
            raise PreconditionFailed(
                f"{self.move.db.name}: {self.move.new.id} is a standalone copy but not the current writer: a stale "
                "copy left behind by an earlier move. It is never promoted; re-protect it (drctl failback --phase "
                "reprotect) so it replicates from the writer again")
        status = found.status or ""
        if status in REFUSED_STATES:
            raise PreconditionFailed(f"{self.move.db.name}: {self.move.new.id} is {status}: {REFUSED_STATES[status]}")
        state = (found.replication_state or "").lower()
        if state in BROKEN_REPLICATION and not ctx.options.accept_data_loss:
            raise PreconditionFailed(f"{self.move.db.name}: replication of {self.move.new.id} is '{state}' "
                                     f"({found.replication_message or 'no message'}); promote anyway with "
                                     "--accept-data-loss")

    def act(self, ctx: RunContext) -> str | None:
        found = self._handed_on(ctx)
        if not found.source_arn:
            return f"{self.move.new.id} is already unlinked (promotion under way, status {found.status})"
        client = rds(ctx, self.move.new)
        gen = self._generation(ctx)
        if found.arn:  # the lineage mark first: a crash after it leaves a replica, which is never a writer
            call(ctx, client.add_tags_to_resource, ResourceName=found.arn,
                 Tags=generation_tags(self.move.db.name, gen, ctx.run_id))
        if self.cluster:
            call(ctx, client.promote_read_replica_db_cluster, DBClusterIdentifier=self.move.new.id)
        else:
            call(ctx, client.promote_read_replica, DBInstanceIdentifier=self.move.new.id,
                 **ctx.topology.settings_for(self.move.new).backup_args())
        return f"{self._operation()} {self.move.new.id} in {region(ctx, self.move.new)} (generation {gen})"

    def _generation(self, ctx: RunContext) -> int:
        """The generation this run gives the copy: journaled once, so a retry or resume writes the same one."""
        key = generation_fact(self.move.db.name)
        if ctx.facts.get(key) is None:
            ctx.set_fact(key, lineage(ctx, self.move, self.watch).next_generation())
        return int(ctx.facts[key])

    def waiting_on(self, ctx: RunContext) -> str | None:
        found = self._current(ctx)
        if self._settled(ctx, found):
            return None
        link = f"still replicating from {found.source_arn}" if found.source_arn else "unlinked"
        return f"{self.move.new.id} is {found.status}, {link}"
