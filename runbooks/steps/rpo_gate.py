"""The RPO gate (read-only): every database's replication lag must be known, fresh, not -1 and within the RPO.

It gates on the quantity the report states. A planned move fences the source and waits for catch-up, so its
window is measured afterwards (0 when caught up): the gate checks that replication is healthy and within the RPO.
An unplanned move loses what the replica had not applied when the source went away: the lag *plus* the age of the
newest datapoint (writes went on after it was measured), and that sum must be within the RPO.

Otherwise the run is refused (exit 3) before anything changes, naming each database and its lag, unless
`--accept-data-loss`. By hand: read the engine's lag metric in the replica's region, e.g.
`aws cloudwatch get-metric-statistics --namespace AWS/RDS --metric-name ReplicaLag
--dimensions Name=DBInstanceIdentifier,Value=ID --statistics Maximum --period 60 ...`.
"""

from __future__ import annotations

from collections.abc import Sequence

from dr.aws.lag_metrics import lag_metric
from dr.checks.lag import LagSample, LagTarget, read_lag_targets, rpo_verdict
from dr.checks.model import human_seconds
from dr.config.model import Engine
from dr.engine.facts import rpo_window_fact
from dr.engine.step import RunContext, Step
from dr.errors import GateRefused
from dr.iam.grants import Grant
from runbooks.steps._common import Move, current_writers, moves, planned, region, source_reachable
from runbooks.steps._permissions import move_reads
from runbooks.steps.rds_watch import RdsWatch


def lag_target(ctx: RunContext, move: Move) -> LagTarget:
    """The lag of the copy being promoted, replicating from the side being left."""
    return LagTarget(move.db.name, move.db.engine, move.new.env, region(ctx, move.new), move.new.id,
                     region(ctx, move.old))


def loss_window(ctx: RunContext, move: Move, sample: LagSample) -> float | None:
    """Seconds of writes the promotion may lose: 0 for a switchover; for a planned move the lag until catch-up
    measures it (then 0); lag + the datapoint's age for an unplanned one (writes went on after the last
    datapoint); None if unknown."""
    if move.db.engine is Engine.AURORA_GLOBAL and planned(ctx) and source_reachable(ctx):
        return 0.0
    if sample.seconds is None or sample.broken or sample.age_seconds is None:
        return None
    if source_reachable(ctx) and planned(ctx):
        return sample.seconds
    return sample.seconds + sample.age_seconds


def verdict(ctx: RunContext, move: Move, sample: LagSample, rpo: float) -> tuple[bool, str]:
    """Pass or refuse one database on what the report will state (see the module docstring)."""
    ok, reason = rpo_verdict(sample, rpo)
    if not ok or (planned(ctx) and source_reachable(ctx)):
        return ok, reason
    window = loss_window(ctx, move, sample)
    if window is None:
        return False, reason
    text = (f"lag {sample.seconds:.0f} s + newest datapoint {human_seconds(sample.age_seconds or 0.0)} old = "
            f"{window:.0f} s of writes at risk")
    return (True, f"{text} <= RPO {rpo:.0f} s") if window <= rpo else (False, f"{text} > RPO {rpo:.0f} s")


class RpoGate(Step):
    """Refuse the move when any database could lose more than the RPO (unless --accept-data-loss)."""

    name = "rpo-gate"
    budget = 60.0
    mutating = False
    max_attempts = 3

    resource = "replication lag of every database"
    _seen: list[Move] | None = None

    def permissions(self, ctx: RunContext) -> list[Grant]:
        """The AWS calls of this step (dr.iam): what the generated IAM policy grants it."""
        return move_reads(ctx)

    def __init__(self, watch: RdsWatch | None = None) -> None:
        self.watch = watch or RdsWatch()

    def describe(self, ctx: RunContext) -> Sequence[str]:
        metrics = sorted({lag_metric(m.db.engine).metric for m in moves(ctx)})
        regions = sorted({region(ctx, m.new) for m in moves(ctx)})
        return (f"cloudwatch:GetMetricData {', '.join(metrics)} in {', '.join(regions)}",)

    def _pending(self, ctx: RunContext) -> list[Move]:
        """The databases whose new side is not yet the current writer."""
        todo = moves(ctx)
        return [m for m, done in zip(todo, current_writers(ctx, todo, self.watch), strict=True) if not done]

    def is_done(self, ctx: RunContext) -> bool:
        self._seen = self._pending(ctx)
        return not self._seen

    def act(self, ctx: RunContext) -> str | None:
        # is_done has just described every database: reuse that once rather than describe them all again
        pending, self._seen = (self._seen, None) if self._seen is not None else (self._pending(ctx), None)
        samples = read_lag_targets([lag_target(ctx, m) for m in pending], ctx.clients, ctx.clock)
        rpo = ctx.topology.objectives.rpo
        refused: list[str] = []
        passed: list[str] = []
        for move in pending:
            sample = samples[move.db.name]
            ok, reason = verdict(ctx, move, sample, rpo)
            (passed if ok else refused).append(f"{move.db.name}: {reason}")
            # None (JSON null) says "unknown": lag -1 or no datapoint, passed only with --accept-data-loss
            ctx.set_fact(rpo_window_fact(move.db.name), loss_window(ctx, move, sample))
        if refused and not ctx.options.accept_data_loss:
            raise GateRefused("RPO gate refused, nothing was changed: " + "; ".join(refused)
                              + ". Re-run with --accept-data-loss to move anyway and lose those writes.")
        if refused:
            return "accepted data loss: " + "; ".join(refused)
        return "; ".join(passed) or "no database to promote"
