"""ECS services listed in `readiness.ENV.ecs_services` must run at least `min_running` tasks."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from dr.aws.errors import describe
from dr.checks.model import CheckKind, CheckResult, failed, passed
from dr.config.model import EcsService

if TYPE_CHECKING:
    from dr.aws.factory import ClientFactory

MAX_SERVICES_PER_CALL = 10
"""DescribeServices takes at most 10 services per call."""


def check_ecs_services(clients: ClientFactory, env: str, services: list[EcsService]) -> list[CheckResult]:
    """All services of ENV, described in batches per cluster; one result per configured service."""
    by_cluster: dict[str, list[EcsService]] = defaultdict(list)
    for svc in services:
        by_cluster[svc.cluster].append(svc)
    results: dict[tuple[str, str], CheckResult] = {}
    for cluster, wanted in by_cluster.items():
        for i in range(0, len(wanted), MAX_SERVICES_PER_CALL):
            batch = wanted[i : i + MAX_SERVICES_PER_CALL]
            for svc, result in zip(batch, _check_batch(clients, env, cluster, batch), strict=True):
                results[(svc.cluster, svc.service)] = result
    return [results[(s.cluster, s.service)] for s in services]


def _check_batch(clients: ClientFactory, env: str, cluster: str, batch: list[EcsService]) -> list[CheckResult]:
    try:
        response = clients.client("ecs", env).describe_services(cluster=cluster, services=[s.service for s in batch])
    except Exception as exc:
        reason = f"could not describe ECS services in {cluster}: {describe(exc)}"
        return [failed(env, CheckKind.ECS_SERVICE, _name(s), reason) for s in batch]
    found = {d["serviceName"]: d for d in response.get("services", [])}
    for d in response.get("services", []):
        found.setdefault(str(d.get("serviceArn", "")).rsplit("/", 1)[-1], d)
    return [_verdict(env, s, found.get(s.service)) for s in batch]


def _verdict(env: str, svc: EcsService, desc: dict[str, Any] | None) -> CheckResult:
    name = _name(svc)
    if desc is None or desc.get("status") == "INACTIVE":
        return failed(env, CheckKind.ECS_SERVICE, name, f"ECS service {name} not found (or INACTIVE) in {env}")
    running = int(desc.get("runningCount", 0))
    if running >= svc.min_running:
        return passed(env, CheckKind.ECS_SERVICE, name, f"ECS service {name}: {running} running >= {svc.min_running}")
    return failed(env, CheckKind.ECS_SERVICE, name,
                  f"ECS service {name}: {running} running < min_running {svc.min_running}")


def _name(svc: EcsService) -> str:
    return f"{svc.cluster}/{svc.service}"
