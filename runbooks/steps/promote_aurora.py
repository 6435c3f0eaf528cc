"""Move the writer of an Aurora global database to the DR region's member cluster.

Per database: when the primary region's RDS answers (a planned move) and the global cluster is healthy (available,
no move under way, every member available), `aws rds switchover-global-cluster` — AWS waits for the secondary to
catch up and demotes the old writer, no data loss. Only when the primary region does not answer, or with
`--unplanned`, `aws rds failover-global-cluster --allow-data-loss` (and only past the RPO gate or with
--accept-data-loss). Both take `--global-cluster-identifier G --target-db-cluster-identifier <DR cluster ARN>`,
called in the DR region. Progress is AWS's `FailoverState` (pending, switching-over, failing-over, cancelling), not
`Status`: while a move toward the target is under way nothing is called again (a resume waits for it). Wait until
`aws rds describe-global-clusters` shows the DR cluster as writer and no FailoverState.
"""

from __future__ import annotations

from collections.abc import Sequence

from dr.aws.rds import GlobalClusterView
from dr.engine.step import PreconditionFailed, RunContext, Step
from dr.iam import needs
from dr.iam.grants import Grant
from runbooks.steps._common import Move, Waits, call, planned, rds, region, source_reachable
from runbooks.steps._permissions import move_reads
from runbooks.steps.rds_watch import RdsWatch

MOVING = frozenset({"switching-over", "failing-over"})
"""Global-cluster `Status` values some answers use while a move is under way (FailoverState is the authority)."""


class PromoteGlobalMember(Waits, Step):
    """Make the DR member cluster of an Aurora global database its writer."""

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
        self.global_id = move.db.global_cluster_id or ""
        self._arn: str | None = None
        self.name = f"promote:{move.db.name}"
        self.resource = f"aurora-global {self.global_id} -> {move.new.id} ({move.new.region or move.new.env})"

    def _switchover(self, ctx: RunContext) -> bool:
        """Switchover unless the move is unplanned (the primary region's RDS does not answer, or --unplanned)."""
        return planned(ctx) and source_reachable(ctx)

    def describe(self, ctx: RunContext) -> Sequence[str]:
        reg = region(ctx, self.move.new)
        how = ("rds:SwitchoverGlobalCluster (planned, no data loss)" if self._switchover(ctx)
               else "rds:FailoverGlobalCluster AllowDataLoss=true (unplanned)")
        return (f"rds:DescribeGlobalClusters {self.global_id} in {reg}",
                f"{how} {self.global_id} -> {self.move.new.id} in {reg}",
                f"rds:DescribeGlobalClusters {self.global_id} in {reg} (poll until the writer is {self.move.new.id})")

    def _target_arn(self, ctx: RunContext) -> str:
        """The DR member's ARN (read once: an ARN does not change)."""
        if self._arn is None:
            found = self.watch.member(ctx, self.move.db, self.move.new)
            if not found.exists or not found.arn:
                raise PreconditionFailed(f"{self.move.db.name}: cluster {self.move.new.id} does not exist in "
                                         f"{region(ctx, self.move.new)}")
            self._arn = found.arn
            self.watch.settle(self.move.db, self.move.new)  # from here on only the global cluster is polled
        return self._arn

    def _global(self, ctx: RunContext) -> GlobalClusterView:
        glob = self.watch.global_cluster(ctx, self.move.new, self.global_id)
        if not glob.exists:
            raise PreconditionFailed(f"{self.move.db.name}: global cluster {self.global_id} not found from "
                                     f"{region(ctx, self.move.new)}")
        return glob

    def is_done(self, ctx: RunContext) -> bool:
        self.start_waiting(ctx)
        target = self._target_arn(ctx)
        glob = self._global(ctx)
        return glob.writer_arn == target and not glob.moving and glob.status not in MOVING

    def check(self, ctx: RunContext) -> None:
        target = self._target_arn(ctx)
        glob = self._global(ctx)
        if target != glob.writer_arn and target not in glob.reader_arns:
            raise PreconditionFailed(f"{self.move.db.name}: {self.move.new.id} is not a member of global cluster "
                                     f"{self.global_id}; it cannot take over the writer role")
        if self._switchover(ctx) and glob.status not in (None, "available") and not self._moving_here(glob, target):
            raise PreconditionFailed(f"{self.move.db.name}: global cluster {self.global_id} is {glob.status}: a "
                                     "switchover needs it available; wait, or move unplanned (--unplanned "
                                     "--accept-data-loss) if its primary region is really gone")

    def _moving_here(self, glob: GlobalClusterView, target: str) -> bool:
        """A switchover or failover toward the target is already under way (AWS's FailoverState)."""
        if glob.moving:
            return glob.failover_target_arn in (None, target)
        return glob.status in MOVING

    def act(self, ctx: RunContext) -> str | None:
        target = self._target_arn(ctx)
        glob = self._global(ctx)
        if glob.writer_arn == target or self._moving_here(glob, target):
            return (f"{self.global_id}: writer move already under way "
                    f"(FailoverState {glob.failover_state or glob.status}); waiting for it, not calling again")
        client = rds(ctx, self.move.new)
        if self._switchover(ctx):
            call(ctx, client.switchover_global_cluster, GlobalClusterIdentifier=self.global_id,
                 TargetDbClusterIdentifier=target)
            return f"switchover of {self.global_id} to {self.move.new.id} (no data loss)"
        call(ctx, client.failover_global_cluster, GlobalClusterIdentifier=self.global_id,
             TargetDbClusterIdentifier=target, AllowDataLoss=True)
        return f"failover of {self.global_id} to {self.move.new.id} with data loss allowed (unplanned or source down)"

    def waiting_on(self, ctx: RunContext) -> str | None:
        if self.is_done(ctx):
            return None
        glob = self._global(ctx)
        state = f", FailoverState {glob.failover_state}" if glob.failover_state else ""
        return f"{self.global_id} is {glob.status}{state}, writer {glob.writer_arn}"
