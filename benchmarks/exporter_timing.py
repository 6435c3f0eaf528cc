"""The exporter at the estate's size: one refresh against the sandbox (time, GetMetricData calls per lag
series), then scrape latency of `/metrics` served from memory (p50, p99)."""

from __future__ import annotations

import math
import statistics
import time
import urllib.request
from dataclasses import dataclass

from benchmarks.failover import subtract
from dr.sandbox.session import ServedSandbox, patched_environ

SERIES_PER_CALL = 500
"""CloudWatch GetMetricData takes at most 500 metric queries per request."""


@dataclass(frozen=True)
class ExporterTiming:
    first_refresh_seconds: float
    refresh_seconds: float
    get_metric_data_per_refresh: int
    lag_series: int
    groups: int
    scrape_p50: float
    scrape_p99: float
    scrapes: int
    exposition_bytes: int

    @property
    def expected_get_metric_data(self) -> int:
        return self.groups * math.ceil(self.lag_series / max(self.groups, 1) / SERIES_PER_CALL)


def measure(sandbox: ServedSandbox, scrapes: int = 200) -> ExporterTiming:
    """Refresh twice (the first one also builds clients), then scrape `scrapes` times; the sandbox's latency
    and throttling stay as the scenario set them."""
    from dr.aws.factory import ClientFactory
    from dr.metrics.exporter import Exporter

    topology = sandbox.topology
    groups = {(topology.environments[db.replica.env].account_id, topology.region_of(db.replica))
              for db in topology.databases}
    with patched_environ(sandbox.env()):
        exporter = Exporter(topology, clients=ClientFactory(topology, run_id="bench-exporter"), interval=3600.0)
        started = time.perf_counter()
        exporter.refresh_once()
        first = time.perf_counter() - started
        before = sandbox.control.stats()
        started = time.perf_counter()
        exporter.refresh_once()
        refresh = time.perf_counter() - started
        calls = subtract(sandbox.control.stats(), before).calls.get("cloudwatch", {}).get("GetMetricData", 0)
        host, port = exporter.start(port=0)
        try:
            latencies, size = _scrape(f"http://{host}:{port}/metrics", scrapes)
        finally:
            exporter.stop()
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return ExporterTiming(first, refresh, calls, len(topology.databases), len(groups), statistics.median(latencies),
                          cuts[98], scrapes, size)


def _scrape(url: str, count: int) -> tuple[list[float], int]:
    latencies: list[float] = []
    size = 0
    for _ in range(count):
        started = time.perf_counter()
        with urllib.request.urlopen(url, timeout=10) as response:
            size = len(response.read())
        latencies.append(time.perf_counter() - started)
    return latencies, size
