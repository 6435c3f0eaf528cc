"""Batched CloudWatch reads: the newest datapoint of many metrics in one GetMetricData call per 500 series.

Callers group their queries per (account, region) and hand each group to `latest_datapoints`; never one call
per database (60 databases must not mean 60 calls, and GetMetricData is billed per metric, not per call).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

MAX_QUERIES_PER_CALL = 500
"""AWS's limit of MetricDataQueries in one GetMetricData request."""


@dataclass(frozen=True)
class MetricQuery:
    """One metric series. `key` is the caller's name for it (e.g. the database); results are keyed by it."""

    key: str
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str = "Maximum"
    period: int = 60


@dataclass(frozen=True)
class Datapoint:
    value: float
    timestamp: datetime
    """Start of the period the value aggregates (CloudWatch's convention), timezone-aware UTC."""


def latest_datapoints(
    client: Any, queries: Sequence[MetricQuery], start: datetime, end: datetime
) -> dict[str, Datapoint | None]:
    """The newest datapoint of each query in [start, end], or None when the series has none in the window.

    One GetMetricData call per chunk of MAX_QUERIES_PER_CALL queries (plus pages only if AWS paginates).
    """
    newest: dict[str, Datapoint | None] = {q.key: None for q in queries}
    for chunk in _chunks(queries, MAX_QUERIES_PER_CALL):
        ids = {f"q{i}": q.key for i, q in enumerate(chunk)}
        request: dict[str, Any] = {
            "MetricDataQueries": [_query(f"q{i}", q) for i, q in enumerate(chunk)],
            "StartTime": start, "EndTime": end, "ScanBy": "TimestampDescending",
        }
        while True:
            response = client.get_metric_data(**request)
            for result in response.get("MetricDataResults", []):
                key = ids.get(result.get("Id", ""))
                if key is not None:
                    newest[key] = _newer(newest[key], _first(result))
            token = response.get("NextToken")
            if not token:
                break
            request["NextToken"] = token
    return newest


def datapoints_since(client: Any, query: MetricQuery, start: datetime, end: datetime) -> list[Datapoint]:
    """Every datapoint of one series whose period starts at or after `start`, oldest first.

    CloudWatch may align a query's StartTime down to the period; a period that began before `start` can hold samples
    taken before it, so such datapoints are left out: what is returned was measured after `start`."""
    request: dict[str, Any] = {"MetricDataQueries": [_query("q0", query)], "StartTime": start, "EndTime": end,
                               "ScanBy": "TimestampAscending"}
    out: list[Datapoint] = []
    while True:
        response = client.get_metric_data(**request)
        for result in response.get("MetricDataResults", []):
            for ts, value in zip(result.get("Timestamps") or [], result.get("Values") or [], strict=False):
                if ts.astimezone(UTC) >= start:
                    out.append(Datapoint(float(value), ts.astimezone(UTC)))
        token = response.get("NextToken")
        if not token:
            return sorted(out, key=lambda p: p.timestamp)
        request["NextToken"] = token


def _query(query_id: str, q: MetricQuery) -> dict[str, Any]:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": q.namespace, "MetricName": q.metric,
                "Dimensions": [{"Name": n, "Value": v} for n, v in q.dimensions],
            },
            "Period": q.period, "Stat": q.stat,
        },
        "ReturnData": True,
    }


def _first(result: dict[str, Any]) -> Datapoint | None:
    """The newest (timestamp, value) of one result; do not trust the order, pick the max timestamp."""
    pairs = list(zip(result.get("Timestamps") or [], result.get("Values") or [], strict=False))
    if not pairs:
        return None
    ts, value = max(pairs, key=lambda p: p[0])
    return Datapoint(float(value), ts.astimezone(UTC))


def _newer(a: Datapoint | None, b: Datapoint | None) -> Datapoint | None:
    if a is None:
        return b
    if b is None:
        return a
    return b if b.timestamp > a.timestamp else a


def _chunks(items: Sequence[MetricQuery], size: int) -> Iterator[Sequence[MetricQuery]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
