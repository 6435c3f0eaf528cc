"""Confirm (read-only): the target side's health checks are healthy, its readiness green, its databases writers
with the backup retention and window the topology declares.

By hand: `drctl readiness --env TARGET` and `drctl status`, or `aws route53 get-health-check-status` for the
target's health checks and `aws rds describe-db-instances|describe-db-clusters` for each promoted copy.
"""

from __future__ import annotations

from collections.abc import Sequence

from dr.engine.step import RunContext, Step
from dr.errors import StepFailed
from dr.iam.grants import Grant
from runbooks.steps._common import current_writers, moves
from runbooks.steps._permissions import target_readiness
from runbooks.steps.backups import backup_mismatch
from runbooks.steps.prechecks import target_not_ready
from runbooks.steps.rds_watch import RdsWatch


class Confirm(Step):
    """The target serves: health checks healthy, readiness green, every moved database a writer whose backups
    are configured as the topology says."""

    name = "confirm"
    budget = 120.0
    mutating = False
    max_attempts = 3
    poll_initial = 0.5
    poll_max = 2.0

    def permissions(self, ctx: RunContext) -> list[Grant]:
        """The AWS calls of this step (dr.iam): what the generated IAM policy grants it."""
        return target_readiness(ctx)

    def __init__(self) -> None:
        self.resource = "target health, readiness, writers"
        self.last_problems: list[str] = []
        self.started = 0.0

    def describe(self, ctx: RunContext) -> Sequence[str]:
        return (f"readiness checks of {ctx.target} (route53:GetHealthCheckStatus, eks, ecs, autoscaling)",
                "rds:DescribeDBInstances / DescribeDBClusters / DescribeGlobalClusters (one listing per account, "
                "region and kind) for each promoted database")

    def problems(self, ctx: RunContext) -> list[str]:
        bad = [f"{r.check} {r.resource}: {r.reason}" for r in target_not_ready(ctx)]
        todo = moves(ctx)  # one listing per account, region and kind answers for every database
        watch = RdsWatch()
        for move, done in zip(todo, current_writers(ctx, todo, watch), strict=True):
            found = watch.member(ctx, move.db, move.new)
            if not done:
                bad.append(f"{move.db.name}: {move.new.id} is not the current writer yet (status {found.status}, "
                           f"role {found.role})")
            elif (wrong := backup_mismatch(found, ctx.topology.settings_for(move.new))) is not None:
                bad.append(f"{move.db.name}: writer {move.new.id} has {wrong}")
        return bad

    def act(self, ctx: RunContext) -> str | None:
        self.started = ctx.clock.monotonic()
        if ctx.options.dry_run:
            self.last_problems = []
            return f"dry-run: would confirm that {ctx.target} serves once the steps above have run"
        self.last_problems = self.problems(ctx)
        if self.last_problems:
            return "waiting: " + "; ".join(self.last_problems)
        return f"{ctx.target} serves: health checks healthy, readiness green, databases writable"

    def verify(self, ctx: RunContext) -> bool:
        if not self.last_problems:
            return True
        self.last_problems = self.problems(ctx)
        if self.last_problems and ctx.clock.monotonic() - self.started >= self.budget - 2 * self.poll_max:
            raise StepFailed(f"{ctx.target} not confirmed within {self.budget:g}s: " + "; ".join(self.last_problems))
        return not self.last_problems
