"""What the API-call counts of a run mean: Route53 change batches against the minimum AWS allows, retries
after throttling, RDS describes per promotion, detection latency of each promotion."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from benchmarks.estate import TARGET
from benchmarks.failover import FailoverRun
from dr.aws.route53_batches import batches
from dr.config.model import Topology
from dr.sandbox.middleware import RDS_THROTTLING
from runbooks.steps.dns_upsert import planned_change

RDS_DESCRIBES = ("DescribeDBInstances", "DescribeDBClusters", "DescribeGlobalClusters")


@dataclass(frozen=True)
class Route53Changes:
    per_zone: dict[str, int]
    expected_per_zone: dict[str, int]
    throttled: int
    prior_request_not_complete: int

    @property
    def made(self) -> int:
        return sum(self.per_zone.values())

    @property
    def expected(self) -> int:
        return sum(self.expected_per_zone.values())


def route53_changes(run: FailoverRun, topology: Topology) -> Route53Changes:
    """Successful change calls per zone vs the fewest batches Route53's per-request limits allow for the zone's
    UPSERTs (one per plain record and one of each failover record's PRIMARY, each toward the target; 1,000
    ResourceRecord elements and 32,000 Value characters per request, an UPSERT's counting twice); rejections
    counted apart."""
    by_zone: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in topology.dns:
        by_zone[record.zone_id].append(planned_change(record, TARGET))
    expected = {zone: len(batches(changes)) for zone, changes in by_zone.items()}
    rejected = run.stats.rejected
    return Route53Changes(
        per_zone=dict(run.stats.route53_changes_by_zone), expected_per_zone=expected,
        throttled=sum(rejected.get("Throttling", {}).values()),
        prior_request_not_complete=sum(rejected.get("PriorRequestNotComplete", {}).values()),
    )


def rds_throttled(run: FailoverRun) -> int:
    """RDS calls the sandbox refused with `ThrottlingException` (botocore retried them)."""
    return sum(run.stats.rejected.get(RDS_THROTTLING, {}).values())


def rds_describes(run: FailoverRun) -> int:
    rds = run.stats.calls.get("rds", {})
    return sum(rds.get(op, 0) for op in RDS_DESCRIBES)


@dataclass(frozen=True)
class Detection:
    """Seconds from the sandbox marking a promotion done to drctl's promote step finishing."""

    latencies: dict[str, float]
    unmatched: list[str]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies.values()) if self.latencies else math.nan

    @property
    def worst(self) -> float:
        return max(self.latencies.values(), default=math.nan)


def detection(run: FailoverRun, topology: Topology) -> Detection:
    by_replica = {db.replica.id: db.name for db in topology.databases}
    latencies: dict[str, float] = {}
    unmatched: list[str] = []
    for event in run.events:
        name = by_replica.get(event.identifier)
        finished = run.step_finish(f"promote:{name}") if name else None
        if finished is None:
            unmatched.append(event.identifier)
            continue
        latencies[str(name)] = (finished - event.done_at).total_seconds()
    return Detection(latencies, unmatched)


def phase_seconds(run: FailoverRun) -> dict[str, float]:
    """Wall time of each phase from the run report: first member start to last member finish."""
    spans: dict[str, tuple[float, float]] = {}
    for step in run.report.get("steps", []):
        if not step.get("started_at") or step.get("status") == "skipped":
            continue
        from dr.clock import parse_iso

        start = parse_iso(step["started_at"]).timestamp()
        end = start + float(step["duration_seconds"])
        phase = str(step["name"]).split(":", 1)[0]
        low, high = spans.get(phase, (start, end))
        spans[phase] = (min(low, start), max(high, end))
    return {phase: round(high - low, 3) for phase, (low, high) in spans.items()}
