"""Keep the configured backups on a promoted Aurora cluster. `PromoteReadReplicaDBCluster` takes no backup
parameters (unlike `PromoteReadReplica`), so after the promotion the cluster gets the topology's retention and
window with ModifyDBCluster, applied immediately; a cluster already configured so is left alone.

The steps of a run read their clusters through one shared `RdsWatch` (the promotions', passed in by the runbook):
one DescribeDBClusters per account and region answers every cluster's poll, not one describe per cluster (at 200
databases, 133 describes in the switch phase, in the RDS request bucket the promotions had just emptied). The
wait after ModifyDBCluster trusts only listings begun after that call returned.

By hand: `aws rds modify-db-cluster --db-cluster-identifier ID --backup-retention-period N
--preferred-backup-window hh24:mi-hh24:mi --apply-immediately --region R`.
"""

from __future__ import annotations

from collections.abc import Sequence

from dr.aws.rds import DbView
from dr.config.replica import ReplicaSettings
from dr.engine.step import RunContext, Step
from dr.iam import needs
from dr.iam.grants import Grant
from runbooks.steps._common import Move, Waits, call, is_writer, rds, region
from runbooks.steps._permissions import move_reads
from runbooks.steps.rds_watch import RdsWatch


def backup_mismatch(found: DbView, settings: ReplicaSettings) -> str | None:
    """What differs between a writer's backups and the topology's, in words; None when they match."""
    wrong = []
    if found.backup_retention != settings.retention_days:
        wrong.append(f"backup retention {found.backup_retention} days, expected {settings.retention_days}")
    if settings.preferred_backup_window and found.backup_window != settings.preferred_backup_window:
        wrong.append(f"backup window {found.backup_window}, expected {settings.preferred_backup_window}")
    return "; ".join(wrong) or None


class KeepClusterBackups(Waits, Step):
    """The promoted Aurora cluster `move.new` keeps the topology's backup retention and window."""

    budget = 120.0
    """As confirm's: ModifyDBCluster applies at once; the switch phase must fit the RTO (plan budget)."""
    api_family = "rds"
    poll_initial = 1.0
    poll_max = 10.0

    def permissions(self, ctx: RunContext) -> list[Grant]:
        """The AWS calls of this step (dr.iam): what the generated IAM policy grants it."""
        return move_reads(ctx, [self.move]) + needs.keep_backups(ctx.topology, self.move.db, self.move.new)

    def __init__(self, move: Move, watch: RdsWatch | None = None) -> None:
        self.move = move
        self.watch = watch or RdsWatch(scope=[(move.db, move.new)])
        self._modified_at: float | None = None
        self.name = f"backups:{move.db.name}"
        self.resource = f"{move.new.id} ({move.new.region or move.new.env})"

    def describe(self, ctx: RunContext) -> Sequence[str]:
        settings = ctx.topology.settings_for(self.move.new)
        return (f"rds:ModifyDBCluster {self.move.new.id} in {region(ctx, self.move.new)} "
                f"BackupRetentionPeriod={settings.retention_days} PreferredBackupWindow="
                f"{settings.preferred_backup_window or '(unchanged)'} ApplyImmediately (once it is the writer)",)

    def _state(self, ctx: RunContext) -> tuple[DbView, str | None]:
        """The cluster and what differs, from a listing begun after this step's last ModifyDBCluster returned."""
        found = self.watch.member(ctx, self.move.db, self.move.new, newer_than=self._modified_at)
        return found, backup_mismatch(found, ctx.topology.settings_for(self.move.new))

    def is_done(self, ctx: RunContext) -> bool:
        found, wrong = self._state(ctx)
        return found.exists and wrong is None

    def act(self, ctx: RunContext) -> str | None:
        found, wrong = self._state(ctx)
        if not is_writer(found):
            return f"{self.move.new.id} is not the writer yet (status {found.status}); waiting for the promotion"
        return self._modify(ctx, wrong)

    def _modify(self, ctx: RunContext, wrong: str | None) -> str:
        args = ctx.topology.settings_for(self.move.new).backup_args()
        call(ctx, rds(ctx, self.move.new).modify_db_cluster, DBClusterIdentifier=self.move.new.id,
             ApplyImmediately=True, **args)
        self._modified_at = ctx.clock.monotonic()
        return f"{self.move.new.id}: {wrong}: set " + ", ".join(f"{k}={v}" for k, v in args.items())

    def waiting_on(self, ctx: RunContext) -> str | None:
        found, wrong = self._state(ctx)
        if wrong is None:
            return None
        if self._modified_at is None and is_writer(found) and found.status == "available":
            self._modify(ctx, wrong)  # promoted since `act` looked: apply now, once; then wait for AWS to show it
        return f"{self.move.new.id}: {wrong}"
