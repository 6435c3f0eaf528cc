"""The sandbox's fast GetMetricData answers exactly what moto's own implementation answers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from dr.sandbox.control import LocalControl
from dr.sandbox.extensions import _guard

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WINDOW_START = START.replace(tzinfo=None)
"""moto's backend keeps naive UTC timestamps."""


@pytest.fixture
def backend(aws: None) -> Iterator[Any]:
    """A CloudWatch backend with datapoints of two metrics, several dimension sets, units and minutes."""
    from moto.cloudwatch.models import cloudwatch_backends

    control = LocalControl()
    control.reset()
    client = boto3.client("cloudwatch", region_name="eu-west-1")
    for minute in range(12):
        for db, unit in (("a", "Seconds"), ("b", "Seconds"), ("c", "Milliseconds")):
            client.put_metric_data(
                Namespace="AWS/RDS",
                MetricData=[
                    {
                        "MetricName": "ReplicaLag",
                        "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": db}],
                        "Timestamp": START + timedelta(minutes=minute, seconds=7 * minute % 60),
                        "Value": float(minute * 3 + ord(db) % 5),
                        "Unit": unit,
                    },
                    {
                        "MetricName": "ReplicaLag",
                        "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": db}, {"Name": "Role", "Value": "x"}],
                        "Timestamp": START + timedelta(minutes=minute),
                        "Value": 100.0 + minute,
                    },
                ],
            )
    yield cloudwatch_backends["123456789012"]["eu-west-1"]
    control.reset()


def _query(qid: str, db: str | None, stat: str, period: int = 60, **extra: Any) -> dict[str, Any]:
    dims = [{"Name": "DBInstanceIdentifier", "Value": db}] if db else []
    metric = {"Namespace": "AWS/RDS", "MetricName": "ReplicaLag", "Dimensions": dims}
    return {"Id": qid, "MetricStat": {"Metric": metric, "Period": period, "Stat": stat, **extra}}


QUERIES = [
    _query("a", "a", "Maximum"),
    _query("b", "b", "Average", period=300),
    _query("c", "c", "Sum", period=120, Unit="Milliseconds"),
    _query("u", "a", "Minimum", Unit="Milliseconds"),
    _query("n", None, "SampleCount", period=180),
    _query("missing", "zzz", "Maximum"),
    {**_query("hidden", "a", "Maximum"), "ReturnData": False},
]


class TestFastGetMetricData:
    @pytest.mark.parametrize("scan_by", ["TimestampAscending", "TimestampDescending"])
    def test_answers_match_motos_for_metric_stat_queries(self, backend: Any, scan_by: str) -> None:
        """Values, timestamps, labels and ReturnData handling equal moto's original implementation."""
        original = _guard.original(type(backend), "get_metric_data")
        end = WINDOW_START + timedelta(minutes=11, seconds=30)
        fast = backend.get_metric_data(QUERIES, WINDOW_START, end, scan_by)
        slow = original(backend, QUERIES, WINDOW_START, end, scan_by)
        assert fast == slow
        assert [r["id"] for r in fast] == ["a", "b", "c", "u", "n", "missing"]

    def test_a_math_expression_goes_to_moto(self, backend: Any) -> None:
        """Requests with expressions are answered by moto's own implementation."""
        queries = [{**_query("a", "a", "Maximum"), "ReturnData": False}, {"Id": "e", "Expression": "a * 2"}]
        end = WINDOW_START + timedelta(minutes=12)
        original = _guard.original(type(backend), "get_metric_data")
        assert backend.get_metric_data(queries, WINDOW_START, end) == original(backend, queries, WINDOW_START, end)

    def test_a_window_ending_where_it_starts_is_refused(self, backend: Any) -> None:
        """StartTime equal to EndTime is a ValidationError, as in moto and CloudWatch."""
        from moto.cloudwatch.exceptions import ValidationError

        with pytest.raises(ValidationError):
            backend.get_metric_data(QUERIES, WINDOW_START, WINDOW_START)

    def test_the_compared_answers_are_not_trivial(self, backend: Any) -> None:
        """The equivalence above compares real data: most queries have several values."""
        end = WINDOW_START + timedelta(minutes=11, seconds=30)
        sizes = {r["id"]: len(r["values"]) for r in backend.get_metric_data(QUERIES, WINDOW_START, end)}
        assert sizes == {"a": 12, "b": 3, "c": 6, "u": 0, "n": 4, "missing": 0}
