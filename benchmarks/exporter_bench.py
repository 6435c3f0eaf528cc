"""Benchmark of `drctl exporter` at scale: one refresh of N replicas and the scrape latency of the result.

Runs against moto in-process (never real AWS). Importable: `run_benchmark(replicas=200)` returns an
`ExporterBench`; `python benchmarks/exporter_bench.py [--replicas 200] [--scrapes 200]` prints it as JSON.
What it reports: GetMetricData calls per refresh (the lag read alone, and the whole refresh including the
readiness checks, which read the lag of each environment's members again), AWS calls per refresh, refresh
wall time, p50/p99 latency of `GET /metrics` over HTTP one after another, and of a burst of `--burst` (default
200) simultaneous scrapes: all released at once from a separate client process (as Prometheus servers and
dashboards are separate processes), each counted served only with a 200 and a full exposition.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dr.aws.factory import ClientFactory
    from dr.config.model import Topology

PUT_BATCH = 500
"""Lag datapoints per PutMetricData call when publishing the synthetic lag."""


@dataclass(frozen=True)
class ExporterBench:
    replicas: int
    seeded_databases: bool
    refresh_seconds: float
    get_metric_data_calls_lag: int
    """GetMetricData calls of the exporter's lag read (the issue's bound: one per 500 series)."""
    get_metric_data_calls_refresh: int
    """GetMetricData calls of a whole refresh (lag + readiness of both DR sides)."""
    aws_calls_refresh: int
    series: int
    exposition_bytes: int
    scrapes: int
    scrape_p50_ms: float
    scrape_p99_ms: float
    scrape_max_ms: float
    burst: int = 0
    """Simultaneous scrapes released at once (0: not measured)."""
    burst_served: int = 0
    burst_p50_ms: float = 0.0
    burst_p99_ms: float = 0.0
    burst_max_ms: float = 0.0


def topology_of(replicas: int) -> Topology:
    """`replicas` RDS pairs: primaries in prod/eu-central-1, replicas in prod's account in eu-west-1."""
    from dr.config.model import Topology

    return Topology.model_validate({
        "version": 1,
        "environments": {"prod": {"account_id": "111111111111", "region": "eu-central-1"},
                         "qa": {"account_id": "222222222222", "region": "eu-west-1", "dr_for": "prod"}},
        "databases": [{"name": f"db{i:04d}", "engine": "rds-instance", "primary": {"env": "prod", "id": f"db{i}"},
                       "replica": {"env": "prod", "region": "eu-west-1", "id": f"db{i}-euw1"}}
                      for i in range(replicas)],
    })


def create_rds_pairs(topology: Topology, clients: ClientFactory) -> None:
    """Each database as a primary in eu-central-1 and a cross-region read replica in eu-west-1."""
    primary_rds = clients.client("rds", "prod", "eu-central-1")
    replica_rds = clients.client("rds", "prod", "eu-west-1")
    for db in topology.databases:
        arn = primary_rds.create_db_instance(
            DBInstanceIdentifier=db.primary.id, Engine="postgres", DBInstanceClass="db.t3.micro",
            MasterUsername="admin", MasterUserPassword="password1", AllocatedStorage=20)["DBInstance"]["DBInstanceArn"]
        replica_rds.create_db_instance_read_replica(DBInstanceIdentifier=db.replica.id,
                                                    SourceDBInstanceIdentifier=arn, SourceRegion="eu-central-1")


def publish_lag(topology: Topology, clients: ClientFactory) -> None:
    """One lag datapoint (30 s old) per replica, in batches."""
    cw = clients.client("cloudwatch", "prod", "eu-west-1")
    stamp = datetime.now(UTC) - timedelta(seconds=30)
    data = [{"MetricName": "ReplicaLag", "Value": float(i % 120), "Timestamp": stamp,
             "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": db.replica.id}]}
            for i, db in enumerate(topology.databases)]
    for start in range(0, len(data), PUT_BATCH):
        cw.put_metric_data(Namespace="AWS/RDS", MetricData=data[start:start + PUT_BATCH])


def run_benchmark(replicas: int = 200, scrapes: int = 200, *, seed_databases: bool = True,
                  burst: int = 0) -> ExporterBench:
    """Create `replicas` RDS pairs in moto (or only their lag metrics), refresh once, then scrape `scrapes` times."""
    from moto import mock_aws

    from dr.aws.factory import ClientFactory
    from dr.aws.faults import Faults
    from dr.clock import SYSTEM_CLOCK
    from dr.metrics._sources import AwsSources
    from dr.metrics.exporter import Exporter

    topology = topology_of(replicas)
    with _fake_credentials(), mock_aws():
        faults = Faults()
        clients = ClientFactory(topology, run_id="exporter", faults=faults)
        if seed_databases:
            create_rds_pairs(topology, ClientFactory(topology, run_id="bench-seed"))
        publish_lag(topology, clients)
        exporter = Exporter(topology, clients=clients, interval=3600)
        exporter.refresh_once()  # warm-up: clients, assumed roles, moto's lazy imports
        faults.calls.clear()
        started = time.perf_counter()
        exporter.refresh_once()
        refresh_seconds = time.perf_counter() - started
        refresh_gmd = faults.count("cloudwatch", "GetMetricData")
        refresh_calls = faults.count()
        faults.calls.clear()
        AwsSources(topology, clients, SYSTEM_CLOCK, 600).lags()
        lag_gmd = faults.count("cloudwatch", "GetMetricData")
        latencies, body, bursts = _scrape(exporter, scrapes, burst)
    served = [seconds for seconds in bursts if seconds is not None]
    return ExporterBench(
        replicas=replicas, seeded_databases=seed_databases, refresh_seconds=round(refresh_seconds, 3),
        get_metric_data_calls_lag=lag_gmd, get_metric_data_calls_refresh=refresh_gmd,
        aws_calls_refresh=refresh_calls,
        series=sum(1 for line in body.splitlines() if line and not line.startswith(b"#")),
        exposition_bytes=len(body), scrapes=scrapes,
        scrape_p50_ms=round(_percentile(latencies, 50) * 1000, 3),
        scrape_p99_ms=round(_percentile(latencies, 99) * 1000, 3),
        scrape_max_ms=round(max(latencies) * 1000, 3),
        burst=burst, burst_served=len(served),
        burst_p50_ms=round(_percentile(served, 50) * 1000, 3) if served else 0.0,
        burst_p99_ms=round(_percentile(served, 99) * 1000, 3) if served else 0.0,
        burst_max_ms=round(max(served) * 1000, 3) if served else 0.0,
    )


def _scrape(exporter: object, scrapes: int, burst: int = 0) -> tuple[list[float], bytes, list[float | None]]:
    from dr.metrics.exporter import Exporter

    assert isinstance(exporter, Exporter)
    _, port = exporter.serve("127.0.0.1", 0)
    url = f"http://127.0.0.1:{port}/metrics"
    latencies: list[float] = []
    body = b""
    try:
        for _ in range(scrapes):
            started = time.perf_counter()
            with urllib.request.urlopen(url, timeout=10) as response:
                body = response.read()
            latencies.append(time.perf_counter() - started)
        bursts = _burst(url, burst, len(body)) if burst else []
    finally:
        exporter.stop()
    return latencies, body, bursts


_BURST_CLIENT = """
import json, socket, sys, threading, time
host, port, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
request = f"GET /metrics HTTP/1.0\\r\\nHost: {host}:{port}\\r\\n\\r\\n".encode()
gate = threading.Barrier(count)
out = [None] * count
def scrape(i):
    gate.wait()
    started = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=10) as conn:
            conn.sendall(request)
            chunks = []
            while chunk := conn.recv(65536):
                chunks.append(chunk)
        head, _, body = b"".join(chunks).partition(b"\\r\\n\\r\\n")
        ok = head.startswith(b"HTTP/1.0 200") and len(body) >= size * 0.9
    except OSError:
        ok = False
    out[i] = time.perf_counter() - started if ok else None
threads = [threading.Thread(target=scrape, args=(i,)) for i in range(count)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(out))
"""
"""A client as light as Prometheus's: raw HTTP/1.0 over a socket (urllib's own CPU per request would be measured
along with the server's), one thread per scrape, all released by one barrier."""


def _burst(url: str, count: int, size: int) -> list[float | None]:
    """`count` scrapes released together by a barrier in a separate process: each one's seconds, None if failed."""
    import subprocess

    host, port = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
    done = subprocess.run([sys.executable, "-c", _BURST_CLIENT, host, port, str(count), str(size)],
                          capture_output=True, text=True, timeout=120, check=True)
    result: list[float | None] = json.loads(done.stdout)
    return result


def _percentile(values: list[float], pct: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


@contextmanager
def _fake_credentials() -> Iterator[None]:
    """moto needs credentials to sign requests; never let a real profile or endpoint take part."""
    saved = dict(os.environ)
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        os.environ.pop(var, None)
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_DEFAULT_REGION": "us-east-1"})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--replicas", type=int, default=200)
    parser.add_argument("--scrapes", type=int, default=200)
    parser.add_argument("--no-seed", action="store_true", help="no RDS instances (no lag is read)")
    parser.add_argument("--burst", type=int, default=200, help="simultaneous scrapes (0: none)")
    args = parser.parse_args(argv)
    result = run_benchmark(args.replicas, args.scrapes, seed_databases=not args.no_seed, burst=args.burst)
    sys.stdout.write(json.dumps(asdict(result), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
