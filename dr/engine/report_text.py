"""The run report as text for the operator: a summary, the RTO/RPO verdicts, one line per step."""

from __future__ import annotations

from typing import Any


def _verdict(met: object) -> str:
    return {True: "met", False: "MISSED"}.get(met, "n/a") if isinstance(met, bool) else "n/a"


def render_text(report: dict[str, Any]) -> str:
    rto, rpo = report["rto"], report["rpo"]
    window = rpo.get("data_loss_window_seconds")
    lines = [
        f"run {report['run_id']}: {report['runbook']} {report['source']} -> {report['target']} "
        f"({report['mode']}) {report['status'].upper()}",
        f"  RTO {_verdict(rto['met'])}: {rto['elapsed_seconds']:.1f}s of {rto['target_seconds']:g}s "
        f"(clock started {report['clock_started_at']})",
        f"  RPO {_verdict(rpo['met'])}: data-loss window "
        f"{'unknown' if window is None else f'{window:.1f}s'} of {rpo['target_seconds']:g}s",
        "",
    ]
    width = max((len(s["name"]) for s in report["steps"]), default=4)
    for step in report["steps"]:
        lines.append(f"  {step['status']:<12} {step['name']:<{width}} {step['duration_seconds']:7.1f}s"
                     f"/{step['budget_seconds']:g}s  x{step['attempts']}  {step['detail']}")
    if report.get("in_flight"):
        lines.append(f"  in flight when the journal ends (outcome unknown): {', '.join(report['in_flight'])}")
    lines += ["", f"journal: {report.get('journal', '')}", f"next: {report.get('next_action', '')}"]
    return "\n".join(lines)
