"""Route53 health checks of an environment's side (`dns[].health_checks[ENV]`) must be healthy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dr.aws.errors import describe
from dr.aws.route53 import read_health_check
from dr.checks.model import CheckKind, CheckResult, failed
from dr.config.model import Topology

if TYPE_CHECKING:
    from dr.aws.factory import ClientFactory


def health_checks_of(topology: Topology, env: str) -> list[tuple[str, str]]:
    """(owning env, health check id) of ENV's side, once each even when several records share one."""
    seen: dict[str, str] = {}
    for record in topology.dns:
        hc = record.health_checks.get(env)
        if hc and hc not in seen:
            seen[hc] = record.env
    return [(owner, hc) for hc, owner in seen.items()]


def check_health(clients: ClientFactory, env: str, owner: str, hc_id: str) -> CheckResult:
    """One health check, read through the account that owns the record's zone."""
    try:
        status = read_health_check(clients, owner, hc_id)
    except Exception as exc:  # an AWS error fails this check with its reason, never a traceback
        return failed(env, CheckKind.HEALTH_CHECK, hc_id, f"could not read health check {hc_id}: {describe(exc)}")
    return CheckResult(env, CheckKind.HEALTH_CHECK, hc_id, status.healthy, status.reason)
