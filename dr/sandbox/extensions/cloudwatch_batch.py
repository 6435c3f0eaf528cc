"""`GetMetricData` in time linear in the datapoints, so a seed-scale estate's lag reads stay fast.

moto scans every datapoint of the window once per query and per period (queries x periods x
datapoints): 200 replicas read in one call take about a second, which would dominate the exporter
refresh the benchmark measures. For requests made only of `MetricStat` queries the sandbox indexes
the window's datapoints by metric once and buckets each query's own datapoints into periods, with
moto's statistics; requests with expressions go to moto unchanged. Unlike moto, a query with
dimensions also has to match the namespace, as in CloudWatch.

A `Period` lasts `Period x metric_period_seconds / 60` seconds: AWS's minute unless a benchmark scales the
sandbox's metric time (control `set_metric_period_seconds`; AWS: "Amazon RDS automatically sends metrics to
CloudWatch every minute", RDS User Guide, "Overview of Amazon RDS and Amazon CloudWatch",
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/monitoring-cloudwatch.html).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from dr.sandbox.extensions import _guard
from dr.sandbox.extensions.state import STATE


def install() -> None:
    from moto.cloudwatch import models

    _guard.require_attrs(models, ["Statistics"], "moto.cloudwatch.models")
    _guard.expect_params(models.Dimension.__init__, ["name", "value"], "Dimension")
    _guard.replace(
        models.CloudWatchBackend,
        "get_metric_data",
        _get_metric_data,
        ["queries", "start_time", "end_time", "scan_by"],
    )


def _get_metric_data(
    self: Any,
    queries: list[dict[str, Any]],
    start_time: datetime,
    end_time: datetime,
    scan_by: str = "TimestampAscending",
) -> list[dict[str, Any]]:
    if not queries or any("MetricStat" not in q or "Expression" in q for q in queries):
        return _guard.original(type(self), "get_metric_data")(self, queries, start_time, end_time, scan_by)  # type: ignore[no-any-return]
    from moto.cloudwatch.exceptions import ValidationError

    start, end = start_time.replace(microsecond=0), end_time.replace(microsecond=0)
    if start > end:
        raise ValidationError("The parameter EndTime must be greater than StartTime.")
    if start == end:
        raise ValidationError("The parameter StartTime must not equal parameter EndTime.")
    by_metric: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
    for datum in self.get_all_metrics():
        if start <= datum.timestamp < end:
            by_metric[(datum.namespace, datum.name)].append(datum)
            by_metric[(datum.namespace, datum.name, _dims_key(datum.dimensions))].append(datum)
    results = [_answer(q, by_metric, start, end, scan_by) for q in queries]
    return [r for q, r in zip(queries, results, strict=True) if q.get("ReturnData", True)]


def _dims_key(dimensions: list[Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((d.name, d.value) for d in dimensions))


def _answer(
    query: dict[str, Any], by_metric: dict[tuple[Any, ...], list[Any]], start: datetime, end: datetime, scan_by: str
) -> dict[str, Any]:
    from moto.cloudwatch.models import Statistics

    stat_spec = query["MetricStat"]
    metric = stat_spec["Metric"]
    name, stat, unit = metric["MetricName"], stat_spec["Stat"], stat_spec.get("Unit")
    wanted = tuple(sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions", [])))
    key: tuple[Any, ...] = (metric["Namespace"], name, wanted) if wanted else (metric["Namespace"], name)
    delta = timedelta(seconds=int(stat_spec["Period"]) * STATE.metric_period_seconds / 60.0)
    buckets: dict[int, list[Any]] = defaultdict(list)
    for datum in by_metric.get(key, []):
        if unit and datum.unit != unit:
            continue
        buckets[(datum.timestamp - start) // delta].append(datum)
    values, timestamps = [], []
    for index in sorted(k for k in buckets if start + k * delta <= end):
        stats = Statistics([stat], start + index * delta)
        stats.metric_data = buckets[index]
        values.append(stats.get_statistics_for_type(stat))
        timestamps.append(stats.timestamp)
    if scan_by == "TimestampDescending":
        values.reverse()
        timestamps.reverse()
    return {
        "id": query["Id"],
        "label": query.get("Label") or f"{name} {stat}",
        "values": values,
        "timestamps": timestamps,
        "status_code": "Complete",
    }
