"""Drill step (read-only): the replication lag of every database at drill start, the drill's achieved RPO.

Unlike the failover's RPO gate this never refuses: a drill measures, and the report compares the lag
with the RPO (a miss makes the drill exit 1). By hand: read `ReplicaLag` (or `AuroraReplicaLag`,
`AuroraGlobalDBReplicationLag`) for each DR replica in CloudWatch.
"""

from __future__ import annotations

from collections.abc import Sequence

from dr.aws.lag_metrics import lag_metric
from dr.checks.lag import read_lag_targets
from dr.engine.step import RunContext, Step
from dr.iam.grants import Grant
from runbooks.steps._common import moves, region
from runbooks.steps._permissions import move_reads
from runbooks.steps.rpo_gate import lag_target

LAG_PREFIX = "drill.lag."


def lag_fact(database: str) -> str:
    """Fact: {"seconds": float|None, "age_seconds": float|None, "error": str|None} of `database` at start."""
    return LAG_PREFIX + database


class DrillLag(Step):
    """Read each database's replication lag once, at the start of the drill; record it."""

    name = "drill-rpo"
    resource = "replication lag of every database"
    budget = 60.0
    mutating = False
    max_attempts = 3

    def permissions(self, ctx: RunContext) -> list[Grant]:
        """The AWS calls of this step (dr.iam): what the generated IAM policy grants it."""
        return move_reads(ctx)

    def describe(self, ctx: RunContext) -> Sequence[str]:
        metrics = sorted({lag_metric(m.db.engine).metric for m in moves(ctx)})
        regions = sorted({region(ctx, m.new) for m in moves(ctx)})
        return (f"cloudwatch:GetMetricData {', '.join(metrics)} in {', '.join(regions)}",)

    def act(self, ctx: RunContext) -> str | None:
        targets = [lag_target(ctx, m) for m in moves(ctx)]
        samples = read_lag_targets(targets, ctx.clients, ctx.clock)
        parts = []
        for target in targets:
            sample = samples.get(target.database)
            seconds = None if sample is None else sample.seconds
            ctx.set_fact(lag_fact(target.database), {
                "seconds": seconds,
                "age_seconds": None if sample is None else sample.age_seconds,
                "error": None if sample is None else sample.error,
            })
            parts.append(f"{target.database} {'unknown' if seconds is None else f'{seconds:g} s'}")
        return "lag at start: " + ", ".join(parts) if parts else "no databases"
