"""Planned move: after the fence, wait until the replica has applied everything the source wrote, then promote.

The evidence is AWS's own lag metric, read only from periods that began after the fence (CloudWatch datapoints
are one-minute aggregates: an earlier period may hold samples from before the fence):

- MySQL, MariaDB, Aurora MySQL: `ReplicaLag` / `AuroraBinlogReplicaLag` is Seconds_Behind_Master, 0 once the replica
  has applied everything, busy or idle. Caught up = a 0 (the period's Maximum) measured after the fence.
- PostgreSQL: AWS documents `ReplicaLag` as `now() - pg_last_xact_replay_timestamp()` (RDS User Guide, "Monitoring
  and tuning the replication process"): once the source takes no writes it grows even when nothing is left to
  replay, so a wait for 0 never ends. Caught up = the replay timestamp (datapoint time - lag) stands still across two
  periods after the fence while the replica still reports replicating: nothing more arrived to replay.

Replication that reports `error` (or lag -1) cannot catch up: the step fails at once, naming the unplanned path.
The report's data-loss window of the database becomes what was measured: 0 when caught up.

By hand: `aws cloudwatch get-metric-data` for the replica's lag metric from the fence time on (Period 60,
Maximum), until the rule above holds; then promote.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from dr.aws.cloudwatch import Datapoint, MetricQuery, datapoints_since
from dr.aws.lag_metrics import lag_metric
from dr.clock import iso, parse_iso
from dr.engine.facts import rpo_window_fact
from dr.engine.step import RunContext, Step, StepNotApplicable
from dr.errors import StepFailed
from dr.iam import needs
from dr.iam.grants import Grant
from runbooks.steps._common import Move, Waits, fence_fact, planned, region
from runbooks.steps._permissions import move_reads
from runbooks.steps.rds_watch import RdsWatch

REPLAY_TOLERANCE_SECONDS = 5.0
"""How far two replay timestamps may differ and still count as "standing still" (sampling jitter within a minute)."""
POSTGRES = ("postgres",)
PERIODS_ALLOWED = 3
"""One-minute CloudWatch periods a catch-up may take beyond draining the lag: the period the fence falls in,
and the (two, PostgreSQL) whole periods that prove it."""


def caught_up_fact(database: str) -> str:
    return f"catch-up.{database}"


def replay_stands_still(points: Sequence[Datapoint]) -> Datapoint | None:
    """PostgreSQL: the first datapoint whose replay timestamp equals an earlier period's (None: not yet)."""
    for earlier, later in pairwise(points):
        if earlier.value < 0 or later.value < 0 or later.timestamp <= earlier.timestamp:
            continue
        replay_a = earlier.timestamp - timedelta(seconds=earlier.value)
        replay_b = later.timestamp - timedelta(seconds=later.value)
        if abs((replay_b - replay_a).total_seconds()) <= REPLAY_TOLERANCE_SECONDS:
            return later
    return None


def applied_everything(points: Sequence[Datapoint]) -> Datapoint | None:
    """MySQL family: the first period after the fence whose Maximum lag is 0."""
    return next((p for p in points if p.value == 0), None)


class CatchUp(Waits, Step):
    """Wait until the fenced source's replica has applied every write (no data loss), before its promotion."""

    budget = 480.0
    """Replaced per run by the RPO + PERIODS_ALLOWED minutes: the gate let lag up to the RPO through, and
    MySQL-family lag is judged on one whole period after it drains, PostgreSQL on two."""
    mutating = True  # waits on a fence made by this run: planned in a dry run, not run
    api_family = "cloudwatch"
    max_attempts = 3
    poll_initial = 2.0
    poll_max = 15.0

    def permissions(self, ctx: RunContext) -> list[Grant]:
        """The AWS calls of this step (dr.iam): what the generated IAM policy grants it."""
        return move_reads(ctx, [self.move]) + needs.lag(ctx.topology, self.move.old)

    def __init__(self, move: Move, watch: RdsWatch | None = None, rpo_seconds: float | None = None) -> None:
        self.move = move
        self.watch = watch or RdsWatch()
        if rpo_seconds is not None:
            self.budget = rpo_seconds + PERIODS_ALLOWED * 60.0
        self.name = f"catch-up:{move.db.name}"
        self.resource = f"{move.new.id} ({move.new.region or move.new.env}) <- {move.old.id}"
        self.last = "no datapoint after the fence yet"

    def describe(self, ctx: RunContext) -> Sequence[str]:
        metric = lag_metric(self.move.db.engine).metric
        return (f"cloudwatch:GetMetricData {metric} of {self.move.new.id} in {region(ctx, self.move.new)} from the "
                "fence on (poll until caught up: 0 for MySQL-family, a standing replay timestamp for PostgreSQL)",)

    def check(self, ctx: RunContext) -> None:
        if not planned(ctx):
            raise StepNotApplicable("unplanned move: no fence to catch up to; the RPO gate's window stands")

    def is_done(self, ctx: RunContext) -> bool:
        return bool(ctx.facts.get(caught_up_fact(self.move.db.name)))

    def _fenced_at(self, ctx: RunContext) -> datetime:
        """When writes stopped. A fence whose time was not journaled (the run died between the rename and its
        record; or an earlier run fenced it) is dated now: later than the real fence, so the evidence read from
        then on is still evidence of catching up, only later."""
        key = fence_fact(self.move.db.name)
        fence = ctx.facts.get(key)
        if not isinstance(fence, dict) or "at" not in fence:
            fence = {"at": iso(ctx.clock.now()), "id": None, "dated": "when the catch-up began"}
            ctx.set_fact(key, fence)
        at = parse_iso(str(fence["at"]))
        return at.replace(microsecond=0) + timedelta(seconds=1 if at.microsecond else 0)

    def act(self, ctx: RunContext) -> str | None:
        self.start_waiting(ctx)
        return f"waiting for {self.move.new.id} to apply everything written before the fence"

    def waiting_on(self, ctx: RunContext) -> str | None:
        found = self.watch.member(ctx, self.move.db, self.move.new)
        state = (found.replication_state or "").lower()
        if state in ("error", "terminated", "stopped"):
            raise StepFailed(f"{self.move.db.name}: replication of {self.move.new.id} is '{state}': it cannot catch "
                             "up. The source stays fenced; to move anyway, re-run with --unplanned "
                             "--accept-data-loss (writes not yet replicated are lost)")
        since = self._fenced_at(ctx)
        metric = lag_metric(self.move.db.engine)
        query = MetricQuery(self.move.db.name, metric.namespace, metric.metric, metric.dimensions(self.move.new.id))
        client = ctx.clients.client("cloudwatch", self.move.new.env, region(ctx, self.move.new))
        points = [Datapoint(p.value * metric.to_seconds if p.value >= 0 else p.value, p.timestamp)
                  for p in datapoints_since(client, query, since, ctx.clock.now() + timedelta(seconds=60))]
        if any(p.value < 0 for p in points):
            raise StepFailed(f"{self.move.db.name}: {metric.metric} -1 after the fence: replication is broken, "
                             "it cannot catch up; re-run with --unplanned --accept-data-loss to move anyway")
        postgres = (found.engine_name or "").startswith(POSTGRES)
        proof = replay_stands_still(points) if postgres else applied_everything(points)
        if proof is None:
            newest = f"{points[-1].value:g} s at {iso(points[-1].timestamp)}" if points else "no datapoint yet"
            self.last = f"{self.move.new.id}: {metric.metric} after the fence at {iso(since)}: {newest}"
            return self.last
        rule = "replay timestamp standing still" if postgres else "lag 0"
        ctx.set_fact(rpo_window_fact(self.move.db.name), 0.0)
        ctx.set_fact(caught_up_fact(self.move.db.name),
                     f"{rule} in the period starting {iso(proof.timestamp.astimezone(UTC))}")
        return None
