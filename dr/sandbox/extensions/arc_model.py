"""Route53 ARC routing control as the sandbox keeps it: clusters, control panels, routing controls, safety rules.

moto implements neither `route53-recovery-control-config` nor `route53-recovery-cluster`; this is their state and
their rules, served by `arc_api`. What it follows, from AWS's documentation:
- a cluster is "a set of five redundant Regional endpoints" (ARC Developer Guide, "AWS Region availability for
  routing control", https://docs.aws.amazon.com/r53recovery/latest/dg/introduction-regions-routing.html); its
  endpoints are listed by `DescribeCluster` (`ClusterEndpoints`: `Endpoint`, `Region`), and a client that finds
  one unavailable tries another ("Getting and updating routing control states using the ARC API",
  https://docs.aws.amazon.com/r53recovery/latest/dg/routing-control.update.api.html);
- creating a cluster creates its default control panel (`DefaultControlPanel`, botocore's model of
  `ControlPanel`); a new routing control is Off;
- safety rules (AWS CloudFormation, "AWS::Route53RecoveryControl::SafetyRule" and its "RuleConfig",
  https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-route53recoverycontrol-safetyrule-ruleconfig.html):
  a `RuleConfig` is `ATLEAST` (at least `Threshold` controls On), `AND` (all On) or `OR` (one On), `Inverted`
  negating it. An assertion rule "enforces that, when a routing control state is changed, the criteria set by
  the rule configuration is met. Otherwise, the change to the routing control state is not accepted" — judged on
  the states the transaction leaves. A gating rule lets its `TargetControls` change only while its
  `GatingControls` satisfy its config (judged here on the states the transaction leaves too).
  `UpdateRoutingControlStates` changes all its entries or none, and `SafetyRulesToOverride` skips the named
  rules (API Reference, "UpdateRoutingControlStates",
  https://docs.aws.amazon.com/routing-control/latest/APIReference/API_UpdateRoutingControlStates.html). A
  violated rule is refused with `ConflictException` (one of that operation's documented errors, HTTP 400 on
  that page); its message here names the rule (the wording is the sandbox's).
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

ENDPOINT_REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1", "ap-southeast-2")
"""The five Regions of a cluster's endpoints (the sandbox's choice of five)."""
ON, OFF = "On", "Off"


class ArcError(Exception):
    """An ARC API error: its code (botocore's shape name), HTTP status and message."""

    def __init__(self, code: str, status: int, message: str, resource: str = "", kind: str = "") -> None:
        super().__init__(message)
        self.code, self.status, self.message, self.resource, self.kind = code, status, message, resource, kind


def not_found(arn: str, kind: str, status: int = 404) -> ArcError:
    return ArcError("ResourceNotFoundException", status, f"{kind} {arn} does not exist", arn, kind)


@dataclass
class Cluster:
    arn: str
    name: str
    owner: str
    endpoints: list[dict[str, str]]


@dataclass
class Panel:
    arn: str
    name: str
    cluster_arn: str
    owner: str
    default: bool


@dataclass
class Control:
    arn: str
    name: str
    panel_arn: str
    owner: str
    state: str = OFF


@dataclass
class Rule:
    """An assertion rule (`controls` are its AssertedControls) or a gating rule (`controls` gate `targets`)."""

    arn: str
    name: str
    kind: str  # ASSERTION | GATING
    panel_arn: str
    owner: str
    config: dict[str, Any]
    controls: list[str]
    targets: list[str] = field(default_factory=list)
    wait_ms: int = 0


def satisfied(config: dict[str, Any], states: list[str]) -> bool:
    """A RuleConfig over the given states: ATLEAST Threshold On, AND all On, OR one On; Inverted negates."""
    on = sum(1 for s in states if s == ON)
    kind = str(config.get("Type", "ATLEAST"))
    if kind == "AND":
        result = on == len(states)
    elif kind == "OR":
        result = on >= 1
    else:
        result = on >= int(config.get("Threshold", 1))
    return result != bool(config.get("Inverted", False))


class ArcStore:
    """Every ARC resource the sandbox holds, across accounts (ARNs carry the account)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clusters: dict[str, Cluster] = {}
        self.panels: dict[str, Panel] = {}
        self.controls: dict[str, Control] = {}
        self.rules: dict[str, Rule] = {}

    def forget(self) -> None:
        """Drop every resource (moto reset its backends: a new world)."""
        with self.lock:
            self.clusters.clear()
            self.panels.clear()
            self.controls.clear()
            self.rules.clear()

    def create_cluster(self, owner: str, name: str, endpoint_base: str) -> Cluster:
        """A cluster with five regional endpoints under `endpoint_base` (format-able with region and id) and its
        default control panel."""
        short = uuid.uuid4().hex[:12]
        arn = f"arn:aws:route53-recovery-control::{owner}:cluster/{short}"
        endpoints = [{"Endpoint": endpoint_base.format(region=r, id=short), "Region": r} for r in ENDPOINT_REGIONS]
        with self.lock:
            cluster = self.clusters[arn] = Cluster(arn, name, owner, endpoints)
            self._panel(owner, f"DefaultControlPanel-{short}", arn, default=True)
        return cluster

    def create_panel(self, owner: str, name: str, cluster_arn: str) -> Panel:
        with self.lock:
            self.cluster(cluster_arn)
            return self._panel(owner, name, cluster_arn, default=False)

    def _panel(self, owner: str, name: str, cluster_arn: str, *, default: bool) -> Panel:
        arn = f"arn:aws:route53-recovery-control::{owner}:controlpanel/{uuid.uuid4().hex}"
        panel = self.panels[arn] = Panel(arn, name, cluster_arn, owner, default)
        return panel

    def create_control(self, owner: str, name: str, cluster_arn: str, panel_arn: str | None) -> Control:
        with self.lock:
            self.cluster(cluster_arn)
            if panel_arn is None:
                panel_arn = next(p.arn for p in self.panels.values() if p.cluster_arn == cluster_arn and p.default)
            panel = self.panel(panel_arn)
            arn = f"{panel.arn}/routingcontrol/{uuid.uuid4().hex[:16]}"
            control = self.controls[arn] = Control(arn, name, panel.arn, owner)
            return control

    def create_rule(self, owner: str, kind: str, spec: dict[str, Any]) -> Rule:
        with self.lock:
            panel = self.panel(str(spec.get("ControlPanelArn", "")))
            controls = list(spec.get("AssertedControls" if kind == "ASSERTION" else "GatingControls") or [])
            targets = list(spec.get("TargetControls") or []) if kind == "GATING" else []
            for arn in controls + targets:
                self.control(arn, status=400)
            arn = f"{panel.arn}/safetyrule/{uuid.uuid4().hex[:16]}"
            rule = Rule(arn, str(spec.get("Name", "")), kind, panel.arn, owner, dict(spec.get("RuleConfig") or {}),
                        controls, targets, int(spec.get("WaitPeriodMs") or 0))
            self.rules[arn] = rule
            return rule

    def cluster(self, arn: str) -> Cluster:
        found = self.clusters.get(arn)
        if found is None:
            raise not_found(arn, "cluster")
        return found

    def panel(self, arn: str) -> Panel:
        found = self.panels.get(arn)
        if found is None:
            raise not_found(arn, "control panel")
        return found

    def control(self, arn: str, status: int = 404) -> Control:
        found = self.controls.get(arn)
        if found is None:
            raise not_found(arn, "routing control", status)
        return found

    def control_state(self, arn: str) -> str | None:
        """The state of a routing control, None when there is none (a health check naming a deleted control)."""
        with self.lock:
            found = self.controls.get(arn)
            return found.state if found else None

    def update_states(self, cluster_arn: str, entries: dict[str, str], overrides: set[str]) -> None:
        """Set every entry or none: refused with ConflictException naming the first violated safety rule."""
        with self.lock:
            for arn in entries:
                control = self.control(arn, status=400)
                if self.panel(control.panel_arn).cluster_arn != cluster_arn:
                    raise not_found(arn, "routing control", 400)
            after = {arn: c.state for arn, c in self.controls.items()} | entries
            changed = {arn for arn, state in entries.items() if self.controls[arn].state != state}
            for rule in self.rules.values():
                if rule.arn in overrides or not self._applies(rule, changed):
                    continue
                if not satisfied(rule.config, [after.get(a, OFF) for a in rule.controls]):
                    raise ArcError("ConflictException", 400, _violation(rule), rule.arn, "SafetyRule")
            for arn, state in entries.items():
                self.controls[arn].state = state

    @staticmethod
    def _applies(rule: Rule, changed: set[str]) -> bool:
        watched = rule.controls if rule.kind == "ASSERTION" else rule.targets
        return bool(changed & set(watched))


def _violation(rule: Rule) -> str:
    config = rule.config
    kind = str(config.get("Type", "ATLEAST"))
    what = {"AND": "all of its controls On", "OR": "at least one of its controls On"}.get(
        kind, f"at least {int(config.get('Threshold', 1))} of its controls On")
    if config.get("Inverted"):
        what = f"not ({what})"
    role = "assertion" if rule.kind == "ASSERTION" else "gating"
    return (f"Cannot update routing control states: the request violates {role} rule {rule.name!r} "
            f"({rule.arn}), which requires {what}")


ARC = ArcStore()
"""The sandbox's one ARC store (reset with moto's backends, dr/sandbox/extensions/lifecycle.py)."""
