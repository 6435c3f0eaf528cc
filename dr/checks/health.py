"""Route53 health checks of an environment's side (`dns[].health_checks[ENV]`) must be healthy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dr.aws.errors import describe
from dr.aws.route53 import HealthStatus, read_health_checks
from dr.checks.model import CheckKind, CheckResult, failed
from dr.config.model import Topology

if TYPE_CHECKING:
    from dr.aws.factory import ClientFactory
    from dr.clock import Clock


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
        if record.arc is not None:  # a RECOVERY_CONTROL check follows its routing control: dr/checks/arc.py
            continue
        hc = record.health_checks.get(env)
        if hc:
            before = seen.get(hc)
            names = (*before.records, record.fqdn) if before else (record.fqdn,)
            seen[hc] = SideHealthCheck(before.owner if before else record.env, hc, names)
    return list(seen.values())


HealthReader = Callable[[str, list[str]], dict[str, HealthStatus]]
"""Reads the status of health checks of one owning account (the exporter passes one that reuses its read)."""


def check_health_batch(clients: ClientFactory, clock: Clock, env: str, hcs: list[SideHealthCheck],
                       reader: HealthReader | None = None) -> list[CheckResult]:
    """Health checks owned by one account, read in one batched CloudWatch call (Route53 fallback per check)."""
    if not hcs:
        return []
    owner = hcs[0].owner
    ids = [hc.id for hc in hcs]
    try:
        statuses = reader(owner, ids) if reader is not None else read_health_checks(clients, owner, ids, clock)
    except Exception as exc:  # an AWS error fails these checks with its reason, never a traceback
        return [failed(env, CheckKind.HEALTH_CHECK, hc.id, f"could not read health check {hc.id} "
                       f"(for {', '.join(hc.records)}): {describe(exc)}") for hc in hcs]
    return [CheckResult(env, CheckKind.HEALTH_CHECK, hc.id, statuses[hc.id].healthy,
                        f"{statuses[hc.id].reason} (for {', '.join(hc.records)})") for hc in hcs]


def by_owner(hcs: list[SideHealthCheck]) -> list[list[SideHealthCheck]]:
    """Health checks grouped by the account that owns them (one batched read each)."""
    groups: dict[str, list[SideHealthCheck]] = {}
    for hc in hcs:
        groups.setdefault(hc.owner, []).append(hc)
    return list(groups.values())
