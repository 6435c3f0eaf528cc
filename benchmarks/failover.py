"""One timed failover of a seeded estate: `drctl failover` as a subprocess against the sandbox server.

The sandbox is reseeded before each run, then given the scenario's timings (per-database promotion times,
Route53 PENDING time, per-call latency, Route53 throttling). The run is measured from outside: process wall
time, the run report, the server's call counts, and the sandbox's promotion events.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from benchmarks.estate import TARGET, PromotionTimes, promoted_ids
from dr.clock import parse_iso
from dr.config.model import Engine, Topology
from dr.sandbox.control import SandboxControl
from dr.sandbox.extensions.state import CallStats, PromotionEvent
from dr.sandbox.seed import DEFAULT_LAG_SECONDS, ENGINES
from dr.sandbox.session import ServedSandbox, drctl_command, subprocess_env

POSTGRES = ("postgres", "aurora-postgresql")


@dataclass(frozen=True)
class Scenario:
    """What the sandbox does during the run."""

    latency_seconds: float = 0.030
    change_pending_seconds: float = 1.0
    throttle_rate: float | None = 10.0
    throttle_burst: int = 50
    rds_throttle_rate: float | None = 12.0
    """RDS API bucket per account and region (the RDS User Guide's defaults: 12/s sustained, burst 300)."""
    rds_throttle_burst: int = 300
    promotions: PromotionTimes = field(default_factory=PromotionTimes)

    @property
    def metric_period(self) -> float:
        """CloudWatch's minute in a planned run: 60 s scaled like the promotions (1 s by default)."""
        return 60.0 * self.promotions.time_scale


@dataclass
class FailoverRun:
    """What one run measured."""

    concurrency: str
    exit_code: int
    status: str
    wall_seconds: float
    """Process start to exit of `drctl failover` (interpreter start-up included)."""
    engine_seconds: float
    """The run report's duration (the engine's own clock, first step to last)."""
    slowest_promotion: float
    dns_sync: float
    stats: CallStats
    events: list[PromotionEvent]
    report: dict[str, Any]
    stderr: str = ""
    peak_rss_mb: float = float("nan")
    """Peak resident memory of the drctl process (MiB)."""
    catch_up_floor: float = 0.0
    """Planned runs: the least time AWS lets a catch-up take after the fence (see `catch_up_floor`); 0 unplanned."""

    @property
    def critical_path(self) -> float:
        return self.catch_up_floor + self.slowest_promotion + self.dns_sync

    @property
    def ratio(self) -> float:
        return self.wall_seconds / self.critical_path if self.critical_path else float("nan")

    def step_finish(self, name: str) -> datetime | None:
        for step in self.report.get("steps", []):
            if step["name"] == name and step.get("started_at"):
                return parse_iso(step["started_at"]) + timedelta(seconds=float(step["duration_seconds"]))
        return None


def prepare(sandbox: ServedSandbox, scenario: Scenario) -> dict[str, float]:
    """Reseed the sandbox and apply the scenario; returns the promotion time given to each replica id."""
    topology = sandbox.seed()
    control = sandbox.control
    times = scenario.promotions.draw(promoted_ids(topology))
    for identifier, seconds in times.items():
        control.set_promotion_seconds_for(identifier, seconds)
    control.set_change_pending_seconds(scenario.change_pending_seconds)
    control.set_latency(scenario.latency_seconds)
    return times


def throttle(control: SandboxControl, scenario: Scenario) -> None:
    """Turn on the scenario's Route53 and RDS throttling. Setting a throttle starts it with full buckets, so
    what runs next finds the APIs at rest, as a failover on AWS would."""
    control.set_route53_throttle(scenario.throttle_rate, scenario.throttle_burst)
    control.set_rds_throttle(scenario.rds_throttle_rate, scenario.rds_throttle_burst)


def unthrottle(control: SandboxControl) -> None:
    control.set_route53_throttle(None)
    control.set_rds_throttle(None)


def catch_up_floor(topology: Topology, scenario: Scenario) -> float:
    """The least time AWS lets a planned move's catch-up take, from the fence to the evidence (catch_up.py's rules
    on the sandbox's metrics, CloudWatch's minute scaled): the replica applies its lag (the seeded lag,
    `DEFAULT_LAG_SECONDS`), then a MySQL-family replica's next datapoint reads 0, while a PostgreSQL one needs a
    second period in which its replay timestamp stands still. Aurora global databases have no fence (their
    switchover is the planned move)."""
    floors = [DEFAULT_LAG_SECONDS + (scenario.metric_period if ENGINES[db.engine].engine.startswith(POSTGRES) else 0)
              for db in topology.databases if db.engine is not Engine.AURORA_GLOBAL]
    return max(floors, default=0.0)


def run_failover(sandbox: ServedSandbox, scenario: Scenario, workdir: Path, *, sequential: bool = False,
                 planned: bool = False, timeout: float = 1800.0) -> FailoverRun:
    """Run `drctl failover --to qa --yes --unplanned -o json` on a `prepare`d sandbox and collect what it did.

    Unplanned: the critical path is the slowest promotion plus DNS, as in every earlier result. `planned`: without
    `--unplanned`, so drctl fences each source and waits for its replica to catch up before promoting; the sandbox's
    CloudWatch minute is scaled like the promotions for the run, and the critical path adds `catch_up_floor`."""
    control = sandbox.control
    before = control.stats()
    state = "state-seq" if sequential else ("state-planned" if planned else "state-par")
    env = {**sandbox.env(), "DRCTL_STATE_DIR": str(workdir / state)}
    if sequential:
        env["DRCTL_MAX_CONCURRENCY"] = "1"
    command = [*drctl_command(), "failover", "--to", TARGET, "--yes", *([] if planned else ["--unplanned"]),
               "-o", "json"]
    if planned:
        control.set_metric_period_seconds(scenario.metric_period)
    throttle(control, scenario)
    started = time.perf_counter()
    done, peak_rss = run_measured(command, subprocess_env(env), timeout)
    wall = time.perf_counter() - started
    stats = subtract(control.stats(), before)
    events = control.promotion_events()
    control.set_latency(0.0)
    control.set_metric_period_seconds(60.0)
    unthrottle(control)
    report = _report(done.stdout)
    durations = [(e.done_at - e.requested_at).total_seconds() for e in events]
    return FailoverRun(
        concurrency="1 (sequential)" if sequential else "default", exit_code=done.returncode,
        status=str(report.get("status", "no report")), wall_seconds=wall,
        engine_seconds=float(report.get("duration_seconds", float("nan"))),
        slowest_promotion=max(durations, default=0.0), dns_sync=scenario.change_pending_seconds,
        stats=stats, events=events, report=report, stderr=done.stderr[-4000:],
        catch_up_floor=catch_up_floor(sandbox.topology, scenario) if planned else 0.0, peak_rss_mb=peak_rss,
    )


def run_measured(command: list[str], env: dict[str, str], timeout: float) -> tuple[Completed, float]:
    """Run `command` to its end; its output, exit code and peak resident memory in MiB: the high-water mark of the
    process's own memory after its exec (`VmHWM` of /proc/PID/status, read every 10 ms while it runs).

    Not `wait4`'s `ru_maxrss`: Linux carries the high-water mark of the memory a child had *before* its exec into
    it, and a child forked (or vforked) from this process starts with this process's memory — the sandbox server
    with moto and the seeded estate, ~300 MiB. Until 6 December 2026 the benchmark reported that (`/bin/true`
    started from a 300 MiB Python process reports a 314 MiB `ru_maxrss`)."""
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out: dict[str, str] = {}
    peak = {"kib": 0}

    def drain(name: str, stream: IO[str]) -> None:
        out[name] = stream.read()

    def watch_memory() -> None:
        while (kib := _high_water_kib(proc.pid)) is not None:
            peak["kib"] = max(peak["kib"], kib)
            time.sleep(0.01)

    readers = [threading.Thread(target=drain, args=(n, s), daemon=True)
               for n, s in (("stdout", proc.stdout), ("stderr", proc.stderr)) if s is not None]
    readers.append(threading.Thread(target=watch_memory, daemon=True))
    for reader in readers:
        reader.start()
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        _, status, _ = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join(30)
    return Completed(proc.returncode, out.get("stdout", ""), out.get("stderr", "")), peak["kib"] / 1024


def _high_water_kib(pid: int) -> int | None:
    """The process's peak resident memory so far (KiB), or None once it has exited (a zombie has no memory)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str


def _report(stdout: str) -> dict[str, Any]:
    try:
        document = json.loads(stdout)
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def subtract(after: CallStats, before: CallStats) -> CallStats:
    """The calls made between two snapshots of the server's counters."""
    out = CallStats()
    for service, ops in after.calls.items():
        for op, n in ops.items():
            delta = n - before.calls.get(service, {}).get(op, 0)
            if delta:
                out.calls.setdefault(service, {})[op] = delta
    for zone, n in after.route53_changes_by_zone.items():
        delta = n - before.route53_changes_by_zone.get(zone, 0)
        if delta:
            out.route53_changes_by_zone[zone] = delta
    for code, ops in after.rejected.items():
        for op, n in ops.items():
            delta = n - before.rejected.get(code, {}).get(op, 0)
            if delta:
                out.rejected.setdefault(code, {})[op] = delta
    return out
