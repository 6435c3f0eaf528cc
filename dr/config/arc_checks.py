"""Validation of `arc-routing-control` records: the routing controls, health checks and cluster they need."""

from __future__ import annotations

from collections.abc import Sequence

from dr.config.findings import Finding, name_list
from dr.config.model import DnsRecord, DnsStrategy, Environment


def _account_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""


def arc_findings(path: str, rec: DnsRecord, envs: dict[str, Environment], sides: Sequence[str]) -> list[Finding]:
    """Every problem of one record's `arc` section (or of its absence), with its path and a fix."""
    arc = rec.arc
    if rec.strategy is not DnsStrategy.ARC_ROUTING_CONTROL:
        return [] if arc is None else [Finding(f"{path}.arc", f"arc is only read for strategy arc-routing-control, "
                                                              f"not {rec.strategy}",
                                               "remove it, or set strategy: arc-routing-control")]
    if arc is None:
        return [Finding(f"{path}.arc", "an arc-routing-control record needs arc: its cluster and a routing control "
                                       "per side",
                        "add arc: {cluster_arn: ..., routing_controls: {<env>: <routing control ARN>, ...}}")]
    out: list[Finding] = []
    for side in sorted(set(rec.targets) & set(sides)):
        if side not in arc.routing_controls:
            out.append(Finding(f"{path}.arc.routing_controls", f"no routing control for {side}: the record cannot "
                                                               "be switched to that side",
                               f"add routing_controls.{side}: <routing control ARN>"))
        if side not in rec.health_checks:
            out.append(Finding(f"{path}.health_checks", f"no health check for {side}: each side's record set needs "
                                                        "the RECOVERY_CONTROL health check of its routing control",
                               f"add health_checks.{side}: <health-check-id>"))
    for side, control in arc.routing_controls.items():
        if side not in rec.targets:
            out.append(Finding(f"{path}.arc.routing_controls.{side}", f"routing control for {side!r}, which is not "
                                                                      "a side of this record",
                               f"use one of the record's sides: {name_list(rec.targets)}"))
        panel = arc.control_panel_arn
        if panel and not control.startswith(panel + "/routingcontrol/"):
            out.append(Finding(f"{path}.arc.routing_controls.{side}", f"{control} is not in control panel {panel}",
                               "name a routing control of that panel, or correct control_panel_arn"))
    owner = envs.get(rec.env)
    account = _account_of(arc.cluster_arn)
    if owner is not None and account != owner.account_id:
        out.append(Finding(f"{path}.arc.cluster_arn", f"cluster {arc.cluster_arn} is in account {account}, but "
                                                      f"drctl calls it as {rec.env} ({owner.account_id})",
                           f"use a cluster of account {owner.account_id}, or set the record's env to the "
                           "environment of the cluster's account"))
    if not arc.endpoints:
        out.append(Finding(f"{path}.arc.endpoints", "no cluster endpoints listed: a move reads them with "
                                                    "DescribeCluster, a control-plane call on the critical path",
                           "run `drctl readiness --env <target>` and copy the endpoints it lists here",
                           "warning"))
    return out
