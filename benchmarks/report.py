"""The benchmark's tables: one row per measurement with its target and verdict, a scaling table across
sizes, and the API calls by service and operation. Plain text (aligned columns) and JSON."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from benchmarks.calls import detection, phase_seconds, rds_describes, rds_throttled, route53_changes
from benchmarks.estate import EstateSize
from benchmarks.exporter_timing import ExporterTiming, IsolatedExporter
from benchmarks.failover import FailoverRun
from benchmarks.peers.run import PEERS, PeerRun
from benchmarks.startup import StartTime
from dr.config.model import Topology

WALL_RATIO_TARGET = 1.10
DETECTION_TARGET = 2.0
SCRAPE_P99_TARGET = 0.050
BURST_P99_TARGET = 0.100
RSS_TARGET_MB = 150.0
RSS_TARGET_AT = 200
"""Peak RSS target of the failover process, at this many databases (issue 19)."""
STARTUP_RATIO_TARGET = 0.5

ROW_NAMES = (
    "failover wall (parallel)", "engine run time (report)", "critical path (slowest promotion + DNS sync)",
    "ratio wall / critical path", "overhead by phase", "failover wall (sequential, concurrency 1)",
    "ratio sequential / critical path",
    "failover wall (planned: fence + catch-up)", "planned: fence / catch-up", "ratio planned / critical path",
    *(f"peer: {name}" for name in PEERS), "peer: drctl on Step Functions",
    "Route53 ChangeResourceRecordSets", "Route53 retries after throttling",
    "RDS retries after throttling", "RDS describes per promotion", "detection latency p50", "detection latency max",
    "API calls total", "peak RSS of the failover process",
    "exporter refresh", "Route53 calls per exporter refresh", "CloudWatch GetMetricData per refresh",
    "scrape latency p50", "scrape latency p99", "scrapes at once (drctl exporter's server)",
    "exporter alone (benchmarks/exporter_bench.py)",
    "drctl --version", "drctl --help", "aws --version",
    "drctl --version / aws --version",
)
"""Every row the main table has, in order (the smoke test checks them)."""


@dataclass
class SizeResult:
    size: EstateSize
    topology: Topology
    parallel: FailoverRun
    exporter: ExporterTiming
    sequential: FailoverRun | None = None
    planned: FailoverRun | None = None
    peers: list[PeerRun] = field(default_factory=list)
    isolated: IsolatedExporter | str = "not run"


@dataclass
class Row:
    name: str
    value: str
    target: str = ""
    verdict: str = ""


@dataclass
class Tables:
    main: list[Row] = field(default_factory=list)
    scaling: list[dict[str, Any]] = field(default_factory=list)
    calls: dict[str, dict[str, int]] = field(default_factory=dict)
    peers: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"main": [asdict(r) for r in self.main], "scaling": self.scaling, "calls": self.calls,
                "peers": self.peers}


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "MISSED")


def _s(seconds: float | None) -> str:
    return "n/a" if seconds is None or math.isnan(seconds) else f"{seconds:.2f} s"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def failover_rows(result: SizeResult) -> list[Row]:
    run = result.parallel
    rows = [
        Row("failover wall (parallel)", f"{_s(run.wall_seconds)} (exit {run.exit_code}, {run.status})"),
        Row("engine run time (report)", _s(run.engine_seconds)),
        Row("critical path (slowest promotion + DNS sync)",
            f"{_s(run.critical_path)} ({run.slowest_promotion:.2f} + {run.dns_sync:.2f})"),
        Row("ratio wall / critical path", f"{run.ratio:.2f}", f"<= {WALL_RATIO_TARGET:.2f}",
            verdict(run.ratio <= WALL_RATIO_TARGET)),
        Row("overhead by phase", ", ".join(f"{k} {v:.2f}" for k, v in phase_seconds(run).items())),
    ]
    seq = result.sequential
    rows += [
        Row("failover wall (sequential, concurrency 1)",
            f"{_s(seq.wall_seconds)} (exit {seq.exit_code}, {seq.status})" if seq else "not run at this size"),
        Row("ratio sequential / critical path", f"{seq.ratio:.2f}" if seq else "n/a"),
    ]
    return rows + planned_rows(result) + peer_rows(result) + _call_rows(result)


def planned_rows(result: SizeResult) -> list[Row]:
    run = result.planned
    if run is None:
        return [Row("failover wall (planned: fence + catch-up)", "not run (--no-peers)"),
                Row("planned: fence / catch-up", "n/a"), Row("ratio planned / critical path", "n/a")]
    phases = phase_seconds(run)
    return [
        Row("failover wall (planned: fence + catch-up)", f"{_s(run.wall_seconds)} (exit {run.exit_code}, {run.status})"
            f"; critical path {_s(run.critical_path)} = catch-up {run.catch_up_floor:.2f} + promotion "
            f"{run.slowest_promotion:.2f} + DNS {run.dns_sync:.2f}"),
        Row("planned: fence / catch-up", f"fence {phases.get('fence', 0.0):.2f} s, catch-up "
            f"{phases.get('catch-up', 0.0):.2f} s (AWS's least: {run.catch_up_floor:.2f} s)"),
        Row("ratio planned / critical path", f"{run.ratio:.2f}", f"<= {WALL_RATIO_TARGET:.2f}",
            verdict(run.ratio <= WALL_RATIO_TARGET)),
    ]


def peer_rows(result: SizeResult) -> list[Row]:
    drctl = result.parallel.wall_seconds
    found = {p.name: p for p in result.peers}
    rows = []
    for name in PEERS:
        peer = found.get(name)
        value = "not run (--no-peers)" if peer is None else (
            f"{_s(peer.wall_seconds)} (exit {peer.exit_code}, {peer.moved}); {peer.ratio:.2f} x critical path; "
            f"drctl / peer {drctl / peer.wall_seconds:.2f}; {peer.stats.total()} API calls")
        rows.append(Row(f"peer: {name}", value))
    rows.append(Row("peer: drctl on Step Functions", "not on this branch (the Step Functions engine has not landed)"))
    return rows


def peer_table(result: SizeResult) -> list[dict[str, Any]]:
    """One row per way of moving the estate, drctl first (unplanned, like the peers' moves)."""
    run = result.parallel
    out = [{"peer": "drctl (local engine)", "wall_s": round(run.wall_seconds, 2),
            "critical_s": round(run.critical_path, 2), "wall_per_critical": round(run.ratio, 2),
            "drctl_per_peer": 1.0, "api_calls": run.stats.total(), "moved": run.status}]
    for peer in result.peers:
        out.append({"peer": f"peer: {peer.name}", "wall_s": round(peer.wall_seconds, 2),
                    "critical_s": round(peer.critical_path, 2), "wall_per_critical": round(peer.ratio, 2),
                    "drctl_per_peer": round(run.wall_seconds / peer.wall_seconds, 2),
                    "api_calls": peer.stats.total(), "moved": peer.moved})
    return out


def _call_rows(result: SizeResult) -> list[Row]:
    run, topology = result.parallel, result.topology
    r53 = route53_changes(run, topology)
    zones = ", ".join(f"{z[-6:]}: {n}" for z, n in sorted(r53.per_zone.items()))
    promotions = max(len(run.events), 1)
    found = detection(run, topology)
    ok_detect = None if math.isnan(found.worst) else found.worst <= DETECTION_TARGET
    unmatched = f" ({len(found.unmatched)} promotions without a finished step)" if found.unmatched else ""
    return [
        Row("Route53 ChangeResourceRecordSets", f"{r53.made} ({zones})", f"= {r53.expected} (Σ zones ⌈2n/1000⌉)",
            verdict(r53.made == r53.expected)),
        Row("Route53 retries after throttling",
            f"{r53.throttled} Throttling + {r53.prior_request_not_complete} PriorRequestNotComplete",
            "reported apart"),
        Row("RDS retries after throttling", f"{rds_throttled(run)} ThrottlingException", "reported apart"),
        Row("RDS describes per promotion", f"{rds_describes(run) / promotions:.1f} "
            f"({rds_describes(run)} describes, {len(run.events)} promotions, prechecks and confirm included)"),
        Row("detection latency p50", _s(found.p50) + unmatched),
        Row("detection latency max", _s(found.worst), f"<= {DETECTION_TARGET:.1f} s", verdict(ok_detect)),
        Row("API calls total", str(run.stats.total())),
    ]


def rss_row(results: list[SizeResult]) -> Row:
    """Peak RSS of the parallel failover at every size; judged at RSS_TARGET_AT databases when measured."""
    sizes = ", ".join(f"{r.size.databases} db {r.parallel.peak_rss_mb:.0f} MiB" for r in results)
    at = next((r.parallel.peak_rss_mb for r in results if r.size.databases == RSS_TARGET_AT), None)
    return Row("peak RSS of the failover process", sizes, f"<= {RSS_TARGET_MB:.0f} MiB at {RSS_TARGET_AT} db",
               verdict(None if at is None or math.isnan(at) else at <= RSS_TARGET_MB))


def burst_row(timing: ExporterTiming) -> Row:
    name = "scrapes at once (drctl exporter's server)"
    burst = timing.burst
    if burst is None:
        return Row(name, "not run", "", verdict(None))
    ok = burst.dropped == 0 and burst.p99 <= BURST_P99_TARGET
    return Row(name, f"{burst.scrapes} at once: p50 {_ms(burst.p50)}, p99 {_ms(burst.p99)}, {burst.dropped} dropped",
               f"p99 <= {BURST_P99_TARGET * 1000:.0f} ms, none dropped", verdict(ok))


def exporter_rows(timing: ExporterTiming) -> list[Row]:
    expected = timing.expected_get_metric_data
    return [
        Row("exporter refresh", _s(timing.refresh_seconds) + " (one refresh of a fresh exporter)"),
        Row("Route53 calls per exporter refresh", str(timing.route53_calls_per_refresh)),
        Row("CloudWatch GetMetricData per refresh",
            f"{timing.get_metric_data_per_refresh} for {timing.lag_series} lag + {timing.health_series} "
            "health-check series",
            f"= {expected} (⌈series/500⌉ per account+region)", verdict(timing.get_metric_data_per_refresh == expected)),
        Row("scrape latency p50", _ms(timing.scrape_p50) + f" ({timing.scrapes} scrapes, {timing.exposition_bytes} B)"),
        Row("scrape latency p99", _ms(timing.scrape_p99), f"<= {SCRAPE_P99_TARGET * 1000:.0f} ms",
            verdict(timing.scrape_p99 <= SCRAPE_P99_TARGET)),
        burst_row(timing),
    ]


def isolated_row(found: IsolatedExporter | str) -> Row:
    name = "exporter alone (benchmarks/exporter_bench.py)"
    if isinstance(found, str):
        return Row(name, found, "", verdict(None))
    ok = found.scrape_p99 <= SCRAPE_P99_TARGET and found.get_metric_data_lag == found.expected_get_metric_data
    return Row(name, f"{found.replicas} replicas: refresh {_s(found.refresh_seconds)}, GetMetricData "
               f"{found.get_metric_data_lag} (lag) / {found.get_metric_data_refresh} (refresh), {found.series} series, "
               f"scrape p99 {_ms(found.scrape_p99)}", f"{found.expected_get_metric_data} call, p99 <= 50 ms",
               verdict(ok))


def startup_rows(times: list[StartTime]) -> list[Row]:
    by = {t.command: t for t in times}
    rows = [Row(t.command, (_s(t.median) + (f" ({t.note})" if t.note else "")) if t.median is not None else t.note)
            for t in times]
    version, aws = by["drctl --version"].median, by["aws --version"].median
    if version is None or aws is None:
        rows.append(Row("drctl --version / aws --version", "n/a (no AWS CLI to compare with)",
                        f"<= {STARTUP_RATIO_TARGET}", verdict(None)))
    else:
        ratio = version / aws
        rows.append(Row("drctl --version / aws --version", f"{ratio:.2f}", f"<= {STARTUP_RATIO_TARGET}",
                        verdict(ratio <= STARTUP_RATIO_TARGET)))
    return rows


def scaling_row(result: SizeResult) -> dict[str, Any]:
    run = result.parallel
    found = detection(run, result.topology)
    r53 = route53_changes(run, result.topology)
    seq = result.sequential
    return {
        "databases": result.size.databases, "records": result.size.records, "zones": result.size.zones,
        "wall_s": round(run.wall_seconds, 2), "critical_s": round(run.critical_path, 2), "ratio": round(run.ratio, 2),
        "sequential_s": round(seq.wall_seconds, 2) if seq else None, "status": run.status,
        "api_calls": run.stats.total(), "rss_mb": round(run.peak_rss_mb, 1), "r53_changes": r53.made,
        "r53_rejected": r53.throttled + r53.prior_request_not_complete, "rds_rejected": rds_throttled(run),
        "detect_max_s": round(found.worst, 2),
        "refresh_s": round(result.exporter.refresh_seconds, 3),
        "scrape_p99_ms": round(result.exporter.scrape_p99 * 1000, 1),
        "burst_p99_ms": round(result.exporter.burst.p99 * 1000, 1) if result.exporter.burst else None,
        "burst_dropped": result.exporter.burst.dropped if result.exporter.burst else None,
    }


def build(results: list[SizeResult], main: SizeResult, startup: list[StartTime]) -> Tables:
    rows = failover_rows(main)
    at = rows.index(next(r for r in rows if r.name == "API calls total")) + 1
    rows.insert(at, rss_row(results))
    return Tables(main=rows + exporter_rows(main.exporter) + [isolated_row(main.isolated)]
                  + startup_rows(startup),
                  scaling=[scaling_row(r) for r in results], calls=main.parallel.stats.calls,
                  peers=peer_table(main) if main.peers else [])


def render(tables: Tables, title: str) -> str:
    lines = [f"## {title}", "", _grid(["measurement", "value", "target", "verdict"],
                                      [[r.name, r.value, r.target, r.verdict] for r in tables.main])]
    if tables.scaling:
        keys = list(tables.scaling[0])
        lines += ["", "## Scaling", "", _grid(keys, [[_cell(row[k]) for k in keys] for row in tables.scaling])]
    if tables.peers:
        keys = list(tables.peers[0])
        lines += ["", "## Peers (main size, same estate and sandbox)", "",
                  _grid(keys, [[_cell(row[k]) for k in keys] for row in tables.peers])]
    calls = [[svc, op, str(n)] for svc, ops in sorted(tables.calls.items()) for op, n in sorted(ops.items())]
    lines += ["", "## API calls of the parallel failover (main size)", "",
              _grid(["service", "operation", "calls"], calls)]
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def _grid(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table (readable as plain text too)."""
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in rows]
    return "\n".join(out)
