"""The run report as text for the operator: a summary, the RTO/RPO verdicts, one line per step (its outcome:
what happened to AWS), and the timeline a post-incident review can copy as is."""

from __future__ import annotations

from typing import Any


def _verdict(met: object) -> str:
    return {True: "met", False: "MISSED"}.get(met, "n/a") if isinstance(met, bool) else "n/a"


def _rto(rto: dict[str, Any], clock_started_at: str) -> str:
    if rto.get("note"):
        return f"  RTO {rto['note']}"
    return (f"  RTO {_verdict(rto['met'])}: {rto['elapsed_seconds']:.1f}s of {rto['target_seconds']:g}s "
            f"(clock started {clock_started_at})")


def _rpo(rpo: dict[str, Any]) -> str:
    if rpo.get("note"):
        return f"  RPO {rpo['note']}"
    window = rpo.get("data_loss_window_seconds")
    return (f"  RPO {_verdict(rpo['met'])}: data-loss window "
            f"{'unknown' if window is None else f'{window:.1f}s'} of {rpo['target_seconds']:g}s")


def render_timeline(timeline: dict[str, Any]) -> list[str]:
    origin = "the incident start" if timeline.get("origin") == "incident-start" else "the declaration"
    lines = [f"  timeline (offsets from {origin}):"]
    for event in timeline.get("events", []):
        at = event["at"] or "-"
        offset = "" if event["offset_seconds"] is None else f"+{event['offset_seconds']:.1f}s"
        detail = f" — {event['detail']}" if event.get("detail") else ""
        lines.append(f"    {at:<24} {offset:>10}  {event['label']}{detail}")
    return lines


def render_text(report: dict[str, Any]) -> str:
    lines = [
        f"run {report['run_id']}: {report['runbook']} {report['source']} -> {report['target']} "
        f"({report['mode']}) {report['status'].upper()}",
        _rto(report["rto"], report["clock_started_at"]),
        _rpo(report["rpo"]),
        "",
    ]
    width = max((len(s["name"]) for s in report["steps"]), default=4)
    for step in report["steps"]:
        lines.append(f"  {step.get('outcome', step['status']):<12} {step['name']:<{width}} "
                     f"{step['duration_seconds']:7.1f}s/{step['budget_seconds']:g}s  x{step['attempts']}  "
                     f"{step['detail']}")
    if report.get("in_flight"):
        lines.append(f"  in flight when the journal ends (outcome unknown): {', '.join(report['in_flight'])}")
    if report.get("timeline"):
        lines += ["", *render_timeline(report["timeline"])]
    lines += ["", f"journal: {report.get('journal', '')}", f"next: {report.get('next_action', '')}"]
    return "\n".join(lines)
