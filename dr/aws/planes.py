"""Is an AWS call a control-plane or a data-plane call? For `drctl plan`'s marking of each step's calls.

AWS's guidance (Route 53 Developer Guide, "Best practices for Amazon Route 53 DNS": rely on the data plane for
failover; ARC Developer Guide, "Getting and updating routing control states using the ARC API"): Route53's API
(hosted in us-east-1) and ARC's control-config API (us-west-2) are control planes that favour consistency over
availability; DNS answers, health checks and ARC routing-control states on the cluster's regional endpoints are
the data plane. A regional service's API (RDS, CloudWatch, EKS, ECS, Auto Scaling) is that region's own control
plane: it lives in the region the failover moves to, so it is marked regional, not global.
"""

from __future__ import annotations

from dataclasses import dataclass

CONTROL, DATA = "control", "data"


@dataclass(frozen=True)
class CallPlane:
    plane: str
    """CONTROL or DATA."""
    scope: str
    """global (a single-region control plane every region depends on) or regional (the region called)."""
    why: str

    @property
    def global_control(self) -> bool:
        return self.plane == CONTROL and self.scope == "global"

    def label(self) -> str:
        return f"{self.plane} plane, {self.scope}: {self.why}"

    def to_dict(self) -> dict[str, str]:
        return {"plane": self.plane, "scope": self.scope, "why": self.why}


BEST_EFFORT = "best effort: "
"""Prefix of a call line whose failure does not stop the step (not on the critical path)."""


def is_call(line: str) -> bool:
    """A describe line naming an AWS call ("service:Operation ...") or a DNS query, not a note."""
    text = line.strip().removeprefix(BEST_EFFORT)
    head = text.split(" ", 1)[0]
    return text.startswith("DNS query") or (":" in head and head.split(":", 1)[0].replace("-", "").isalnum())


def on_critical_path(line: str) -> bool:
    return not line.strip().startswith(BEST_EFFORT)


def plane_of(call: str) -> CallPlane:
    """Classify one call line of `Step.describe` ("service:Operation ..." or "DNS query ...")."""
    text = call.strip().removeprefix(BEST_EFFORT)
    if text.startswith("DNS query"):
        if "route53:" in text:
            return CallPlane(CONTROL, "global", "finds the zone's name servers with Route53's API (us-east-1)")
        return CallPlane(DATA, "global", "DNS answers of the name servers")
    service = text.split(":", 1)[0].split(" ")[0].lower() if ":" in text else ""
    if service == "route53":
        return CallPlane(CONTROL, "global", "Route53 API, hosted in us-east-1")
    if service == "route53-recovery-control-config":
        return CallPlane(CONTROL, "global", "ARC control-config API, hosted in us-west-2")
    if service == "route53-recovery-cluster":
        return CallPlane(DATA, "global", "ARC cluster, five regional endpoints tried in turn")
    if service in ("", "sts"):
        return CallPlane(DATA, "regional", "STS or local work in the region called")
    return CallPlane(CONTROL, "regional", f"{service} API of the region it calls")
