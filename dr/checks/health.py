"""Route53 health checks of an environment's side (`dns[].health_checks[ENV]`) must be healthy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dr.aws.errors import describe
from dr.aws.route53 import read_health_check
from dr.checks.model import CheckKind, CheckResult, failed
from dr.config.model import Topology

if TYPE_CHECKING:
    from dr.aws.factory import ClientFactory


@dataclass(frozen=True)
class SideHealthCheck:
    """A health check of ENV's side, the environment owning it (the record's zone owner) and its records."""

    owner: str
    id: str
    records: tuple[str, ...]


def health_checks_of(topology: Topology, env: str) -> list[SideHealthCheck]:
    """ENV's health checks, once each even when several records share one."""
    seen: dict[str, SideHealthCheck] = {}
    for record in topology.dns:
        hc = record.health_checks.get(env)
        if hc:
            before = seen.get(hc)
            names = (*before.records, record.fqdn) if before else (record.fqdn,)
            seen[hc] = SideHealthCheck(before.owner if before else record.env, hc, names)
    return list(seen.values())


def check_health(clients: ClientFactory, env: str, hc: SideHealthCheck) -> CheckResult:
    """One health check, read through the account that owns the record's zone."""
    used_by = f" (for {', '.join(hc.records)})"
    try:
        status = read_health_check(clients, hc.owner, hc.id)
    except Exception as exc:  # an AWS error fails this check with its reason, never a traceback
        return failed(env, CheckKind.HEALTH_CHECK, hc.id, f"could not read health check {hc.id}{used_by}: "
                      f"{describe(exc)}")
    return CheckResult(env, CheckKind.HEALTH_CHECK, hc.id, status.healthy, status.reason + used_by)
