"""`scripts/bench` / `python -m benchmarks`: seed each size into the sandbox server, time a failover (and a
sequential one at the main size), the exporter and start-up; print the tables (Markdown), optionally as JSON."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from benchmarks import exporter_timing, startup
from benchmarks.estate import EstateSize, PromotionTimes, build, scaled
from benchmarks.failover import Scenario, prepare, run_failover
from benchmarks.peers.run import PEERS, run_peer
from benchmarks.report import SizeResult, Tables, render
from benchmarks.report import build as build_tables

QUICK_SIZE = EstateSize(databases=6, records=8, zones=2, eks_clusters=3, ecs_services=3, asgs=1)
QUICK_PROMOTIONS = PromotionTimes(low=0.5, mode=0.8, high=1.5)
"""--quick: a small estate with short promotions, so the whole bench (sequential run included) fits CI."""


@dataclass(frozen=True)
class Plan:
    sizes: list[EstateSize]
    main: int
    """Index in `sizes` of the size whose table is shown (and which gets the sequential run)."""
    scenario: Scenario
    sequential: bool
    peers: bool
    """Run the peers (benchmarks/peers/) and the planned variant at the main size."""
    install_aws: bool
    scrapes: int
    startup_runs: int


def plan_from(args: argparse.Namespace) -> Plan:
    scenario = Scenario(latency_seconds=args.latency_ms / 1000, change_pending_seconds=args.pending,
                        throttle_rate=None if args.no_throttle else 10.0,
                        rds_throttle_rate=None if args.no_throttle else 12.0)
    if args.promotions:
        low, mode, high = args.promotions
        scenario = replace(scenario, promotions=PromotionTimes(low=low, mode=mode, high=high))
    if args.quick:
        return Plan([QUICK_SIZE], 0, replace(scenario, promotions=QUICK_PROMOTIONS), not args.no_sequential,
                    not args.no_peers, install_aws=False, scrapes=50, startup_runs=3)
    sizes = [scaled(n) for n in args.sizes]
    main = args.sizes.index(args.main) if args.main in args.sizes else len(sizes) // 2
    return Plan(sizes, main, scenario, not args.no_sequential, not args.no_peers, install_aws=not args.no_aws_install,
                scrapes=args.scrapes, startup_runs=5)


def measure_size(size: EstateSize, plan: Plan, workdir: Path, *, main: bool) -> SizeResult:
    from dr.sandbox.session import start_unseeded

    topology = build(size)
    sandbox = start_unseeded(workdir / "dr.yaml", config=topology)
    try:
        _log(f"{size.label()}: seeding")
        prepare(sandbox, plan.scenario)
        _log(f"{size.label()}: exporter (steady state)")
        exporter = exporter_timing.measure(sandbox, plan.scenario, plan.scrapes)
        _log(f"{size.label()}: failover (parallel)")
        parallel = run_failover(sandbox, plan.scenario, workdir)
        result = SizeResult(size, sandbox.topology, parallel, exporter)
        if main and plan.sequential:
            _log(f"{size.label()}: reseeding for the sequential run")
            prepare(sandbox, plan.scenario)
            _log(f"{size.label()}: failover (sequential, concurrency 1)")
            result.sequential = run_failover(sandbox, plan.scenario, workdir, sequential=True)
        if main and plan.peers:
            _log(f"{size.label()}: reseeding for the planned run")
            prepare(sandbox, plan.scenario)
            _log(f"{size.label()}: failover (planned: fence, catch-up, promote)")
            result.planned = run_failover(sandbox, plan.scenario, workdir, planned=True)
            for name in PEERS:
                _log(f"{size.label()}: reseeding for peer {name}")
                prepare(sandbox, plan.scenario)
                _log(f"{size.label()}: peer {name}")
                result.peers.append(run_peer(sandbox, plan.scenario, workdir, name))
        return result
    finally:
        sandbox.stop()


def run(plan: Plan) -> Tables:
    results: list[SizeResult] = []
    with tempfile.TemporaryDirectory(prefix="drctl-bench-") as tmp:
        for number, size in enumerate(plan.sizes):
            workdir = Path(tmp) / f"size-{size.databases}"
            workdir.mkdir()
            results.append(measure_size(size, plan, workdir, main=number == plan.main))
    main = results[plan.main]
    _log(f"exporter alone: benchmarks/exporter_bench.py --replicas {main.size.databases}")
    main.isolated = exporter_timing.isolated(main.size.databases, plan.scrapes)
    _log("start-up times")
    times = startup.measure(plan.startup_runs, plan.install_aws)
    return build_tables(results, main, times)


def _log(message: str) -> None:
    sys.stderr.write(f"[bench {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="one small size, short promotions (CI smoke run, ~1.5 min)")
    p.add_argument("--sizes", type=int, nargs="+", default=[10, 60, 200], metavar="DBS",
                   help="database counts; every other dimension scales with them (default: 10 60 200)")
    p.add_argument("--main", type=int, default=60, metavar="DBS", help="the size shown in detail (default: 60)")
    p.add_argument("--latency-ms", type=float, default=30.0, help="per-call latency the sandbox adds (default 30)")
    p.add_argument("--pending", type=float, default=1.0, help="seconds a Route53 change stays PENDING (default 1)")
    p.add_argument("--promotions", type=float, nargs=3, metavar=("LOW", "MODE", "HIGH"),
                   help="promotion seconds, triangular (default 2 3 6; real RDS takes minutes: e.g. 20 30 60 shows "
                        "how the fixed overheads weigh against longer promotions)")
    p.add_argument("--no-throttle", action="store_true",
                   help="turn off API throttling (Route53: 10/s, burst 50 per account; RDS: 12/s, burst 300 per "
                        "account and region)")
    p.add_argument("--no-sequential", action="store_true", help="skip the sequential contrast run")
    p.add_argument("--no-peers", action="store_true",
                   help="skip the planned variant and the peers (by hand with boto3 waiters, DR Orchestrator style)")
    p.add_argument("--no-aws-install", action="store_true", help="never pip-install the AWS CLI for comparison")
    p.add_argument("--scrapes", type=int, default=200, help="exporter scrapes to time (default 200)")
    p.add_argument("--json", type=Path, metavar="PATH", help="also write the tables as JSON to PATH")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    cli = parser()
    args = cli.parse_args(argv)
    if args.promotions and not 0 < args.promotions[0] <= args.promotions[1] <= args.promotions[2]:
        cli.error("--promotions LOW MODE HIGH needs 0 < LOW <= MODE <= HIGH (seconds)")
    plan = plan_from(args)
    tables = run(plan)
    main_size = plan.sizes[plan.main]
    times = plan.scenario.promotions
    title = (f"drctl scale benchmark: {main_size.label()}" + (" (--quick)" if args.quick else "")
             + f", promotions {times.low:g}-{times.high:g} s (mode {times.mode:g})")
    sys.stdout.write(render(tables, title))
    if args.json:
        args.json.write_text(json.dumps(tables.to_json(), indent=2) + "\n", encoding="utf-8")
    return 0
