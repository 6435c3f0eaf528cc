"""The drill report as Markdown: what a team pastes into its game-day notes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ICONS = {"succeeded": "ok", "already-done": "ok (already done)", "failed": "FAILED", "skipped": "skipped",
         "planned": "planned"}


def _secs(value: Any) -> str:
    return "n/a" if value is None else f"{float(value):.1f} s"


def _met(value: Any) -> str:
    return {True: "met", False: "**MISSED**"}.get(value, "not measured")


def render(report: Mapping[str, Any]) -> str:
    drill = report.get("drill", {})
    lines = [
        f"# DR drill {report['run_id']}",
        "",
        f"- **Result:** {report['status']} (mode `{drill.get('mode')}`, {report['source']} -> {report['target']})",
        f"- **Started:** {report['started_at']}  **Finished:** {report['finished_at']}  "
        f"**Duration:** {_secs(report.get('duration_seconds'))}",
        f"- **RTO:** achieved {_secs(report['rto'].get('elapsed_seconds'))} vs target "
        f"{_secs(report['rto']['target_seconds'])}: {_met(report['rto'].get('met'))} "
        f"({report['rto'].get('measured_as', '')})",
        f"- **RPO:** achieved {_secs(report['rpo'].get('data_loss_window_seconds'))} vs target "
        f"{_secs(report['rpo']['target_seconds'])}: {_met(report['rpo'].get('met'))} "
        f"({report['rpo'].get('measured_as', '')})",
        f"- **Next:** {report.get('next_action', '')}",
        "",
    ]
    lines += _findings(drill.get("findings", []))
    lines += _steps(report.get("steps", []))
    lines += _timeline(drill.get("timeline", []))
    lines += _coverage(drill)
    return "\n".join(lines).rstrip() + "\n"


def _findings(found: list[Mapping[str, Any]]) -> list[str]:
    lines = ["## Findings", ""]
    if not found:
        return [*lines, "None: every step within budget, objectives met.", ""]
    for f in found:
        lines.append(f"- **{f['severity']}** {f['message']}. Fix: {f['fix']}.")
    return [*lines, ""]


def _steps(steps: list[Mapping[str, Any]]) -> list[str]:
    lines = ["## Steps vs budget", "", "| step | resource | status | duration | budget | used | detail |",
             "|---|---|---|---:|---:|---:|---|"]
    for s in steps:
        budget = float(s.get("budget_seconds") or 0.0)
        duration = float(s.get("duration_seconds") or 0.0)
        used = f"{duration / budget:.0%}" if budget else ""
        detail = str(s.get("detail") or "").replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {s['name']} | {s.get('resource', '')} | {ICONS.get(str(s['status']), s['status'])} | "
                     f"{duration:.1f} s | {budget:.0f} s | {used} | {detail} |")
    return [*lines, ""]


def _timeline(rows: list[Mapping[str, Any]]) -> list[str]:
    lines = ["## Timeline", "", "| +seconds | step | status | took |", "|---:|---|---|---:|"]
    lines += [f"| {r['offset_seconds']:.1f} | {r['step']} | {r['status']} | {_secs(r.get('duration_seconds'))} |"
              for r in rows]
    return [*lines, ""]


def _coverage(drill: Mapping[str, Any]) -> list[str]:
    lines = ["## Coverage and cleanup", ""]
    exercised = drill.get("dns_exercised") or []
    lines.append(f"- DNS exercised on drill records: {', '.join(exercised) if exercised else 'none'}")
    for name in drill.get("dns_not_exercised") or []:
        lines.append(f"- DNS not exercised for {name} (no `drill_name`)")
    for clone in drill.get("clones") or []:
        lines.append(f"- clone of {clone['database']}: `{clone['id']}` ({clone['kind']}, {clone['region']})")
    cleanup = drill.get("cleanup")
    if cleanup is not None:
        deleted = ", ".join(f"{d['kind']} {d['id']}" for d in cleanup.get("deleted", [])) or "nothing left over"
        lines.append(f"- cleanup ({cleanup.get('when', 'in run')}): {deleted}")
        lines += [f"- cleanup error: {e}" for e in cleanup.get("errors", [])]
    return [*lines, ""]
