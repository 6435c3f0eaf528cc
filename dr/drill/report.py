"""The drill report: the run report (docs/reference.md) (runbook "drill"), with the achieved RTO and RPO
measured by the drill, a timeline, findings and cleanup, under the additive `drill` key.

Achieved RTO (clone mode): the sum, phase by phase, of the slowest step of the steps that stand for a
failover's critical path (prechecks, lag read, clone promotion, DNS on the drill records, verification).
Achieved RPO: the largest replication lag at drill start. A missed objective makes the drill `failed`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dr.clock import parse_iso
from dr.drill.findings import findings

OK_STATUSES = ("succeeded", "already-done")
LAG_PREFIX = "drill.lag."
PROMOTE_PREFIX = "drill.promote_seconds."


@dataclass
class DrillFacts:
    """What the drill knows beyond the run report: mode, DNS coverage, clones, cleanup."""

    mode: str
    dns_exercised: list[str] = field(default_factory=list)
    dns_not_exercised: list[str] = field(default_factory=list)
    clones: list[dict[str, Any]] = field(default_factory=list)
    cleanup: dict[str, Any] | None = None
    parts: dict[str, Any] = field(default_factory=dict)
    """Full mode: the failover and failback run reports."""


def achieved_rto(steps: Sequence[Mapping[str, Any]], groups: Sequence[Sequence[str]]) -> float | None:
    """Sum of each group's slowest step; None when a critical-path step did not succeed."""
    total = 0.0
    for prefixes in groups:
        members = [s for s in steps if str(s["name"]).startswith(tuple(prefixes))]
        if any(s["status"] not in OK_STATUSES for s in members):
            return None
        total += max((float(s.get("duration_seconds") or 0.0) for s in members), default=0.0)
    return round(total, 3)


def lag_rpo(facts: Mapping[str, Any], target: float) -> dict[str, Any]:
    """RPO from the lag each database had at drill start (`drill.lag.<db>` facts)."""
    per_db: dict[str, float | None] = {}
    for key, value in facts.items():
        if key.startswith(LAG_PREFIX) and isinstance(value, Mapping):
            seconds = value.get("seconds")
            per_db[key[len(LAG_PREFIX):]] = None if seconds is None or seconds < 0 else float(seconds)
    unknown = sorted(db for db, s in per_db.items() if s is None)
    known = [s for s in per_db.values() if s is not None]
    window = max(known) if known else None
    met: bool | None = None
    if per_db:
        met = False if unknown else bool(window is not None and window <= target)
    return {"target_seconds": target, "data_loss_window_seconds": window, "met": met,
            "per_database": per_db, "unknown": unknown, "measured_as": "replication lag at drill start"}


def promotion_seconds(steps: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    return {str(s["name"]).split(":", 1)[1]: float(s.get("duration_seconds") or 0.0)
            for s in steps if str(s["name"]).startswith("drill-promote:") and s["status"] in OK_STATUSES}


def timeline(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The run's steps in the order they started, with their offset from the start of the drill."""
    start = parse_iso(str(report["started_at"]))
    rows = [s for s in report.get("steps", []) if s.get("started_at") and s.get("status") != "planned"]
    rows.sort(key=lambda s: str(s["started_at"]))
    return [{"offset_seconds": round((parse_iso(str(s["started_at"])) - start).total_seconds(), 3),
            "at": s["started_at"], "step": s["name"], "status": s["status"],
            "duration_seconds": s.get("duration_seconds"), "budget_seconds": s.get("budget_seconds")} for s in rows]


def verdict(engine_status: str, rto: Mapping[str, Any], rpo: Mapping[str, Any], cleanup: Mapping[str, Any] | None
            ) -> str:
    """The drill's status: the run's, except that a run which worked but missed an objective (or left
    resources behind) failed as a drill."""
    if engine_status not in OK_STATUSES:
        return engine_status
    if rto.get("met") is False or rpo.get("met") is False or (cleanup and cleanup.get("errors")):
        return "failed"
    return "succeeded"


def build(run_report: Mapping[str, Any], facts: Mapping[str, Any], drill: DrillFacts,
          rto_groups: Sequence[Sequence[str]]) -> dict[str, Any]:
    """The drill report from the engine's run report of the drill (clone or dry-run mode)."""
    report = dict(run_report)
    engine_status = str(report["status"])
    rto = dict(report["rto"])
    rto["run_elapsed_seconds"] = rto.get("elapsed_seconds")
    if drill.mode == "clone":
        achieved = achieved_rto(report.get("steps", []), rto_groups)
        rto.update(elapsed_seconds=achieved, measured_as="prechecks + lag read + slowest clone promotion + "
                   "drill DNS + verification", met=None if engine_status in ("refused", "interrupted")
                   else achieved is not None and achieved <= float(rto["target_seconds"]))
    else:
        rto.update(elapsed_seconds=None, met=None, measured_as="not measured in dry-run mode (nothing is promoted)")
    rpo = lag_rpo(facts, float(report["rpo"]["target_seconds"]))
    return finalize(report, engine_status, rto, rpo, drill)


def finalize(report: dict[str, Any], engine_status: str, rto: dict[str, Any], rpo: dict[str, Any],
             drill: DrillFacts) -> dict[str, Any]:
    report.update(runbook="drill", rto=rto, rpo=rpo)
    status = verdict(engine_status, rto, rpo, drill.cleanup)
    report["status"] = status
    found = findings(report, drill.dns_not_exercised, drill.cleanup)
    report["drill"] = {
        "mode": drill.mode, "run_status": engine_status,
        "objectives_met": rto.get("met") is not False and rpo.get("met") is not False,
        "dns_exercised": drill.dns_exercised, "dns_not_exercised": drill.dns_not_exercised,
        "promotion_seconds": promotion_seconds(report.get("steps", [])), "clones": drill.clones,
        "cleanup": drill.cleanup, "timeline": timeline(report),
        "findings": [f.to_dict() for f in found],
        **({"parts": drill.parts} if drill.parts else {}),
    }
    if status == "failed" and engine_status in OK_STATUSES:
        report["next_action"] = "the drill ran but missed its objectives: see the findings, fix, drill again"
    elif status == "interrupted" and drill.mode == "clone":
        report["next_action"] = ("the drill was interrupted and its resources were cleaned up; start a new drill"
                                 if drill.cleanup and not drill.cleanup.get("errors") else
                                 f"run `drctl drill cleanup --run-id {report['run_id']}`, then a new drill")
    return report


def build_full(failover: Mapping[str, Any], failback: Mapping[str, Any] | None, drill: DrillFacts,
               run_id: str) -> dict[str, Any]:
    """The drill report of a full game day: the real failover's RTO and RPO, both runs' steps."""
    last = failback or failover
    steps = [{**s, "name": f"failover/{s['name']}"} for s in failover.get("steps", [])]
    steps += [{**s, "name": f"failback/{s['name']}"} for s in (failback or {}).get("steps", [])]
    started, finished = parse_iso(str(failover["started_at"])), parse_iso(str(last["finished_at"]))
    statuses = [str(failover["status"])] + ([str(failback["status"])] if failback else [])
    engine_status = next((s for s in statuses if s not in OK_STATUSES), statuses[0])
    report: dict[str, Any] = {
        "run_id": run_id, "source": failover["source"], "target": failover["target"], "mode": "drill",
        "started_at": failover["started_at"], "finished_at": last["finished_at"],
        "clock_started_at": failover["clock_started_at"],
        "duration_seconds": round((finished - started).total_seconds(), 3), "steps": steps,
        "journal": failover.get("journal", ""), "next_action": last.get("next_action", ""),
    }
    rto = {**failover["rto"], "measured_as": "the real failover's elapsed time"}
    rpo = {**failover["rpo"], "measured_as": "the real failover's data-loss window"}
    drill.parts = {"failover": dict(failover), **({"failback": dict(failback)} if failback else {})}
    return finalize(report, engine_status, rto, rpo, drill)
