"""The exporter at the estate's size: one refresh against the sandbox (time, GetMetricData calls per lag
series), then scrape latency of `/metrics` served from memory (p50, p99)."""

from __future__ import annotations

import math
import statistics
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

from benchmarks.failover import Scenario, subtract, throttle, unthrottle
from dr.sandbox.session import ServedSandbox, patched_environ

SERIES_PER_CALL = 500
"""CloudWatch GetMetricData takes at most 500 metric queries per request."""


BURST = 200
"""Simultaneous scrapes of `drctl exporter`'s own server (issue 19: p99 <= 100 ms, none dropped)."""


@dataclass(frozen=True)
class Burst:
    """`BURST` scrapes started at once against the exporter's server (`Exporter.serve`: its bounded worker pool and
    listen backlog): their latencies and how many failed (refused, reset, timed out or not 200)."""

    scrapes: int
    p50: float
    p99: float
    dropped: int


@dataclass(frozen=True)
class ExporterTiming:
    refresh_seconds: float
    get_metric_data_per_refresh: int
    route53_calls_per_refresh: int
    lag_series: int
    groups: int
    """(account, region) groups of the lag series."""
    health_series: int
    health_groups: int
    """Accounts owning health checks: their HealthCheckStatus series are read in us-east-1, a group each."""
    scrape_p50: float
    scrape_p99: float
    scrapes: int
    exposition_bytes: int
    burst: Burst | None = None

    @property
    def expected_get_metric_data(self) -> int:
        lag = self.groups * math.ceil(self.lag_series / max(self.groups, 1) / SERIES_PER_CALL)
        health = self.health_groups * math.ceil(self.health_series / max(self.health_groups, 1) / SERIES_PER_CALL)
        return lag + health


def measure(sandbox: ServedSandbox, scenario: Scenario, scrapes: int = 200) -> ExporterTiming:
    """One refresh (a fresh exporter: clients are built in it, as after a restart), then `scrapes` scrapes.

    The sandbox adds the scenario's latency and throttling (the token buckets full, as at rest). One
    refresh only: at 200 databases a refresh spends minutes waiting for Route53 tokens (docs/benchmarks.md)."""
    from dr.aws.factory import ClientFactory
    from dr.metrics.exporter import Exporter

    topology = sandbox.topology
    groups = {(topology.environments[db.replica.env].account_id, topology.region_of(db.replica))
              for db in topology.databases}
    health = {hc for record in topology.dns for hc in record.health_checks.values()}
    owners = {topology.environments[record.env].account_id for record in topology.dns if record.health_checks}
    control = sandbox.control
    control.set_latency(scenario.latency_seconds)
    throttle(control, scenario)
    with patched_environ(sandbox.env()):
        exporter = Exporter(topology, clients=ClientFactory(topology, run_id="bench-exporter"), interval=3600.0)
        before = sandbox.control.stats()
        started = time.perf_counter()
        exporter.refresh_once()
        refresh = time.perf_counter() - started
        delta = subtract(sandbox.control.stats(), before)
        latencies, size = _serve_and_scrape(exporter.wsgi_app, scrapes)
        burst = scrape_burst(exporter, BURST)
    unthrottle(control)
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return ExporterTiming(refresh, delta.calls.get("cloudwatch", {}).get("GetMetricData", 0),
                          delta.total("route53"), len(topology.databases), len(groups), len(health),
                          len(owners), statistics.median(latencies), cuts[98], scrapes, size, burst)


def scrape_burst(exporter: Any, count: int) -> Burst:
    """`count` clients scrape `/metrics` at the same moment (a barrier), as many Prometheus servers or a
    federation fan-out would; the exporter's own server answers (`serve`: no background refresher)."""
    _, port = exporter.serve("127.0.0.1", 0)
    url = f"http://127.0.0.1:{port}/metrics"
    gate = threading.Barrier(count)
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def one() -> None:
        gate.wait()
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                response.read()
                ok = response.status == 200
        except OSError as err:
            ok, why = False, type(err).__name__
        else:
            why = "not 200"
        with lock:
            if ok:
                latencies.append(time.perf_counter() - started)
            else:
                failures.append(why)

    threads = [threading.Thread(target=one, name=f"bench-scrape-{i}") for i in range(count)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        exporter.stop()
    cuts = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else [math.nan] * 99
    return Burst(count, statistics.median(latencies) if latencies else math.nan, cuts[98], len(failures))


def _serve_and_scrape(app: Any, count: int) -> tuple[list[float], int]:
    """Serve the exporter's WSGI app as `drctl exporter` does (a thread per request), without its background
    refresher: a refresh running during the failover would spend the same Route53 budget and skew its counts."""
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = make_server("127.0.0.1", 0, app, Server, handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, name="bench-exporter-http", daemon=True)
    thread.start()
    try:
        return _scrape(f"http://127.0.0.1:{server.server_address[1]}/metrics", count)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _scrape(url: str, count: int) -> tuple[list[float], int]:
    latencies: list[float] = []
    size = 0
    for _ in range(count):
        started = time.perf_counter()
        with urllib.request.urlopen(url, timeout=10) as response:
            size = len(response.read())
        latencies.append(time.perf_counter() - started)
    return latencies, size


@dataclass(frozen=True)
class IsolatedExporter:
    """`benchmarks/exporter_bench.py` (the monitoring side's benchmark): the exporter alone, on in-process moto
    with only the databases' lag (no latency, no throttling, no DNS): what the exporter itself costs."""

    replicas: int
    refresh_seconds: float
    get_metric_data_lag: int
    get_metric_data_refresh: int
    series: int
    scrape_p99: float

    @property
    def expected_get_metric_data(self) -> int:
        return math.ceil(self.replicas / SERIES_PER_CALL)


def isolated(replicas: int, scrapes: int) -> IsolatedExporter | str:
    """Run exporter_bench.py in its own process (it mocks AWS in-process, which must not touch the sandbox
    server's backends here); the reason as text when it cannot run."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).with_name("exporter_bench.py")
    if not script.exists():
        return f"skipped: {script.name} not found"
    done = subprocess.run([sys.executable, str(script), "--replicas", str(replicas), "--scrapes", str(scrapes)],
                          capture_output=True, text=True, timeout=600, check=False)
    try:
        data = json.loads(done.stdout)
        return IsolatedExporter(int(data["replicas"]), float(data["refresh_seconds"]),
                                int(data["get_metric_data_calls_lag"]), int(data["get_metric_data_calls_refresh"]),
                                int(data["series"]), float(data["scrape_p99_ms"]) / 1000)
    except (ValueError, KeyError, TypeError):
        return f"failed: exit {done.returncode}: {done.stderr.strip()[-300:]}"
