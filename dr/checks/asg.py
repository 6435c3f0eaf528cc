"""Auto Scaling groups in `readiness.ENV.autoscaling_groups` must have `min_in_service` InService+Healthy
instances."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dr.aws.errors import describe
from dr.checks.model import CheckKind, CheckResult, failed, passed
from dr.config.model import AutoScalingGroup

if TYPE_CHECKING:
    from dr.aws.factory import ClientFactory

MAX_GROUPS_PER_CALL = 50
"""DescribeAutoScalingGroups takes at most 50 names per call (more would need pagination anyway)."""


def check_autoscaling_groups(clients: ClientFactory, env: str, groups: list[AutoScalingGroup]) -> list[CheckResult]:
    results: list[CheckResult] = []
    for i in range(0, len(groups), MAX_GROUPS_PER_CALL):
        results.extend(_check_batch(clients, env, groups[i : i + MAX_GROUPS_PER_CALL]))
    return results


def _check_batch(clients: ClientFactory, env: str, batch: list[AutoScalingGroup]) -> list[CheckResult]:
    try:
        client = clients.client("autoscaling", env)
        described = client.describe_auto_scaling_groups(AutoScalingGroupNames=[g.name for g in batch],
                                                        MaxRecords=100)["AutoScalingGroups"]
    except Exception as exc:
        reason = f"could not describe Auto Scaling groups: {describe(exc)}"
        return [failed(env, CheckKind.AUTOSCALING_GROUP, g.name, reason) for g in batch]
    found = {d["AutoScalingGroupName"]: d for d in described}
    return [_verdict(env, g, found.get(g.name)) for g in batch]


def _verdict(env: str, group: AutoScalingGroup, desc: dict[str, Any] | None) -> CheckResult:
    if desc is None:
        return failed(env, CheckKind.AUTOSCALING_GROUP, group.name, f"Auto Scaling group {group.name} not found")
    instances = desc.get("Instances") or []
    healthy = sum(1 for i in instances if i.get("LifecycleState") == "InService" and i.get("HealthStatus") == "Healthy")
    if healthy >= group.min_in_service:
        return passed(env, CheckKind.AUTOSCALING_GROUP, group.name,
                      f"{group.name}: {healthy} InService+Healthy >= {group.min_in_service}")
    return failed(env, CheckKind.AUTOSCALING_GROUP, group.name,
                  f"{group.name}: {healthy} InService+Healthy < min_in_service {group.min_in_service} "
                  f"({len(instances)} instance(s))")
