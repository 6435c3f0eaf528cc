"""The result of one readiness check, and the small, stable set of check kinds (a metric label)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class CheckKind(StrEnum):
    """The `check` label of `drctl_readiness_ok{env,check}`: keep this set small and stable."""

    REPLICA_EXISTS = "replica-exists"
    REPLICA_SOURCE = "replica-source"
    REPLICA_AVAILABLE = "replica-available"
    REPLICATION_RUNNING = "replication-running"
    WRITER_LINEAGE = "writer-lineage"
    """The copy is the current writer or replicates from it: not a stale writable copy (split brain)."""
    LAG_WITHIN_RPO = "lag-within-rpo"
    REPLICA_SETTINGS = "replica-settings"
    HEALTH_CHECK = "health-check"
    EKS_CLUSTER = "eks-cluster"
    ECS_SERVICE = "ecs-service"
    AUTOSCALING_GROUP = "autoscaling-group"
    DR_BACKUP = "dr-backup"
    """The newest restorable backup copy in this environment's region is younger than its max_age."""
    ARC_CLUSTER = "arc-cluster"
    """An ARC cluster of arc-routing-control records: it exists, its endpoints, the named safety rules."""
    ARC_ENDPOINTS = "arc-endpoints"
    ARC_ROUTING_CONTROL = "arc-routing-control"
    """A side's routing control, its RECOVERY_CONTROL health check and the record set using it."""
    STATE_MACHINE = "state-machine"
    """A drctl Step Functions machine moving into ENV, deployed, was generated from the current topology."""


@dataclass(frozen=True)
class CheckResult:
    """One named check of one resource in one environment: pass or fail, and why, in words."""

    env: str
    check: CheckKind
    resource: str
    ok: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"env": self.env, "check": str(self.check), "resource": self.resource, "ok": self.ok,
                "reason": self.reason}


def passed(env: str, check: CheckKind, resource: str, reason: str) -> CheckResult:
    return CheckResult(env, check, resource, True, reason)


def failed(env: str, check: CheckKind, resource: str, reason: str) -> CheckResult:
    return CheckResult(env, check, resource, False, reason)


def all_ok(results: list[CheckResult]) -> bool:
    """Ready means every check passed, and there was at least one thing to check."""
    return bool(results) and all(r.ok for r in results)


def human_seconds(seconds: float) -> str:
    """600 -> "10 min", 90 -> "90 s": durations as an operator reads them."""
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)} min"
    return f"{seconds:.0f} s"
