"""Findings of a drill: what was slow against its budget, what failed, which objective was missed, what
the drill could not exercise, and what to fix. Pure functions over the drill report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SLOW_FRACTION = 0.8
"""A step that used more than this share of its budget is a warning: the next drill may miss it."""


@dataclass(frozen=True)
class Finding:
    severity: str
    """`critical` (the drill failed or missed an objective), `warning` (close to a limit), `info`."""
    kind: str
    subject: str
    message: str
    fix: str

    def to_dict(self) -> dict[str, str]:
        return {"severity": self.severity, "kind": self.kind, "subject": self.subject, "message": self.message,
                "fix": self.fix}


def step_findings(steps: Sequence[Mapping[str, Any]]) -> list[Finding]:
    out: list[Finding] = []
    for step in steps:
        name, status = str(step.get("name")), str(step.get("status"))
        duration = float(step.get("duration_seconds") or 0.0)
        budget = float(step.get("budget_seconds") or 0.0)
        if status == "failed":
            out.append(Finding("critical", "step-failed", name, f"{name} failed: {step.get('detail') or 'no detail'}",
                               "read the step's detail and the journal (`drctl runs show RUN_ID`); fix the cause "
                               "and run the drill again"))
        elif budget and duration > budget:
            out.append(Finding("critical", "over-budget", name,
                               f"{name} took {duration:.1f} s, over its {budget:.0f} s budget",
                               "find what made it slow (AWS throttling, instance size, pending changes) or raise "
                               "the budget knowingly and check that the RTO still holds"))
        elif budget and duration > SLOW_FRACTION * budget:
            out.append(Finding("warning", "slow", name,
                               f"{name} took {duration:.1f} s, {duration / budget:.0%} of its {budget:.0f} s budget",
                               "it is close to its budget: investigate before it misses"))
    return out


def objective_findings(rto: Mapping[str, Any], rpo: Mapping[str, Any]) -> list[Finding]:
    out: list[Finding] = []
    if rto.get("met") is False:
        achieved = rto.get("elapsed_seconds")
        text = "not measured (the drill did not get that far)" if achieved is None else f"{achieved:.1f} s"
        out.append(Finding("critical", "rto-missed", "rto",
                           f"achieved RTO {text}, target {rto['target_seconds']:.0f} s",
                           "shorten the slowest critical-path step (promotion, DNS) shown above, or revisit the RTO"))
    if rpo.get("unknown"):
        out.append(Finding("critical", "rpo-unknown", "rpo",
                           "replication lag unknown (no datapoint, or replication broken) for: "
                           + ", ".join(rpo["unknown"]),
                           "make sure the lag metric is published (CloudWatch ReplicaLag) and replication runs"))
    elif rpo.get("met") is False:
        out.append(Finding("critical", "rpo-missed", "rpo",
                           f"replication lag {rpo.get('data_loss_window_seconds')} s, target "
                           f"{rpo['target_seconds']:.0f} s",
                           "find why replication lags (write load, replica class, network) before relying on DR"))
    return out


def coverage_findings(not_exercised: Sequence[str], cleanup: Mapping[str, Any] | None) -> list[Finding]:
    out: list[Finding] = []
    for name in not_exercised:
        out.append(Finding("info", "dns-not-exercised", name,
                           f"DNS of {name} was not exercised: the record has no drill_name",
                           "add `drill_name: drill-<name>` to the record in dr.yaml so drills exercise its zone"))
    for error in (cleanup or {}).get("errors", []):
        out.append(Finding("critical", "cleanup-failed", "cleanup", f"cleanup incomplete: {error}",
                           "run `drctl drill cleanup --run-id RUN_ID` (it finds leftovers by tag) and check costs"))
    return out


def findings(report: Mapping[str, Any], not_exercised: Sequence[str], cleanup: Mapping[str, Any] | None
             ) -> list[Finding]:
    """Every finding, the critical ones first."""
    found = (objective_findings(report["rto"], report["rpo"]) + step_findings(report.get("steps", []))
             + coverage_findings(not_exercised, cleanup))
    rank = {"critical": 0, "warning": 1, "info": 2}
    return sorted(found, key=lambda f: rank.get(f.severity, 3))
