"""EKS clusters listed in `readiness.ENV.eks_clusters` must be ACTIVE."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dr.aws.errors import describe, is_not_found
from dr.checks.model import CheckKind, CheckResult, failed, passed

if TYPE_CHECKING:
    from dr.aws.factory import ClientFactory

ACTIVE = "ACTIVE"


def check_eks_cluster(clients: ClientFactory, env: str, name: str) -> CheckResult:
    try:
        cluster = clients.client("eks", env).describe_cluster(name=name)["cluster"]
    except Exception as exc:
        if is_not_found(exc):
            return failed(env, CheckKind.EKS_CLUSTER, name, f"EKS cluster {name} not found in {env}")
        return failed(env, CheckKind.EKS_CLUSTER, name, f"could not describe EKS cluster {name}: {describe(exc)}")
    status = cluster.get("status", "UNKNOWN")
    if status == ACTIVE:
        return passed(env, CheckKind.EKS_CLUSTER, name, f"EKS cluster {name} is ACTIVE")
    return failed(env, CheckKind.EKS_CLUSTER, name, f"EKS cluster {name} is {status}, not ACTIVE")
