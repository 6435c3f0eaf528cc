"""Seed Route53: one hosted zone per zone id of the topology, its health checks, records in steady state.

moto generates real zone and health-check ids; the placeholders of the topology are mapped to them.
Drill records (`drill_name`) are not created: drills create and delete them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from dr.aws.factory import ClientFactory
from dr.aws.route53_batches import batches
from dr.config.model import DnsRecord, DnsStrategy, Topology
from dr.errors import DrError

REGION_TAG = "drctl:region"
"""Tag on each health check naming the region of the endpoint it watches (a sandbox outage fails it)."""


class SeedError(DrError):
    """The topology cannot be recreated in the sandbox as written (e.g. a zone holding two domains)."""


@dataclass
class DnsIds:
    """Placeholder -> real id, for hosted zones and health checks."""

    zones: dict[str, str] = field(default_factory=dict)
    health_checks: dict[str, str] = field(default_factory=dict)


def zone_name(names: Iterable[str]) -> str:
    """The hosted-zone name for records: their common DNS suffix, kept above a record name when it can be."""
    labels = [n.rstrip(".").lower().split(".") for n in names]
    common: list[str] = []
    for parts in zip(*(list(reversed(x)) for x in labels), strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    suffix = list(reversed(common))
    if suffix in labels and len(suffix) > 2:
        suffix = suffix[1:]  # a record at the apex is odd (and a CNAME there is invalid): use the parent domain
    if not suffix:
        raise SeedError(f"records {sorted(set(names))} share no DNS suffix: one hosted zone holds one domain")
    return ".".join(suffix) + "."


def serving_sides(topology: Topology, rec: DnsRecord) -> tuple[str, str | None]:
    """(side that serves in steady state, its DR side): the record env's DR pair when it has one."""
    pairs = [(e.dr_for, name) for name, e in topology.environments.items() if e.dr_for]
    covered = [(src, dr) for src, dr in pairs if src in rec.targets and dr in rec.targets]
    # the record env's own pair first, then pairs whose source is nobody's DR side (the production site)
    covered.sort(key=lambda pair: (pair[0] != rec.env, bool(topology.environments[pair[0]].dr_for)))
    if covered:
        return covered[0]
    sides = list(rec.targets)
    return sides[0], (sides[1] if len(sides) > 1 else None)


class DnsSeeder:
    """Creates zones, health checks and records in the account of each record's `env`."""

    def __init__(self, topology: Topology, clients: ClientFactory, ids: DnsIds | None = None) -> None:
        self.topology = topology
        self.clients = clients
        self.ids = ids or DnsIds()
        """Health checks already created (the RECOVERY_CONTROL ones of dr/sandbox/_seed_arc.py) are reused."""

    def seed(self) -> DnsIds:
        by_zone: dict[str, list[DnsRecord]] = {}
        for rec in self.topology.dns:
            by_zone.setdefault(rec.zone_id, []).append(rec)
        for placeholder, records in by_zone.items():
            self._zone(placeholder, records)
        return self.ids

    def _zone(self, placeholder: str, records: list[DnsRecord]) -> None:
        owner = records[0].env  # a zone lives in one account: the first record's env owns it
        route53 = self.clients.route53(owner)
        names = [r.fqdn for r in records] + [r.drill_name for r in records if r.drill_name]
        name = zone_name(names)
        zone = route53.create_hosted_zone(
            Name=name, CallerReference=f"drctl-seed-{placeholder}",
            HostedZoneConfig={"Comment": f"drctl sandbox: {placeholder}", "PrivateZone": False},
        )["HostedZone"]
        zone_id = zone["Id"].rsplit("/", 1)[-1]
        self.ids.zones[placeholder] = zone_id
        changes: list[dict[str, Any]] = []
        for rec in records:
            for side in rec.health_checks:
                self._health_check(route53, rec, side)
            changes.extend(self._changes(rec))
        for part in batches(changes):  # a large zone takes several requests, as in AWS
            route53.change_resource_record_sets(
                HostedZoneId=zone_id, ChangeBatch={"Comment": "drctl sandbox steady state", "Changes": part})

    def _health_check(self, route53: Any, rec: DnsRecord, side: str) -> None:
        placeholder = rec.health_checks[side]
        if placeholder in self.ids.health_checks:
            return
        target = rec.targets[side]
        config: dict[str, Any] = {"Type": "HTTPS", "Port": 443, "ResourcePath": "/health",
                                  "RequestInterval": 10, "FailureThreshold": 3}
        config["IPAddress" if _is_ip(target) else "FullyQualifiedDomainName"] = target
        check = route53.create_health_check(CallerReference=f"drctl-seed-{placeholder}",
                                            HealthCheckConfig=config)["HealthCheck"]
        region = self.topology.environments[side].region if side in self.topology.environments else None
        tags = [{"Key": "Name", "Value": placeholder}] + ([{"Key": REGION_TAG, "Value": region}] if region else [])
        route53.change_tags_for_resource(ResourceType="healthcheck", ResourceId=check["Id"], AddTags=tags)
        self.ids.health_checks[placeholder] = check["Id"]

    def _changes(self, rec: DnsRecord) -> list[dict[str, Any]]:
        primary, secondary = serving_sides(self.topology, rec)
        if rec.strategy is DnsStrategy.UPSERT or secondary is None:
            return [_upsert(_record_set(rec, primary))]
        return [
            _upsert(self._failover_set(rec, primary, "PRIMARY")),
            _upsert(self._failover_set(rec, secondary, "SECONDARY")),
        ]

    def _failover_set(self, rec: DnsRecord, side: str, role: str) -> dict[str, Any]:
        record = _record_set(rec, side) | {"SetIdentifier": side, "Failover": role}
        if side in rec.health_checks:
            record["HealthCheckId"] = self.ids.health_checks[rec.health_checks[side]]
        return record


def _record_set(rec: DnsRecord, side: str) -> dict[str, Any]:
    # Route53 names are case-insensitive and AWS lists them in lower case (moto compares them as written).
    return {"Name": rec.fqdn.lower(), "Type": rec.type, "TTL": rec.ttl,
            "ResourceRecords": [{"Value": rec.targets[side]}]}


def _upsert(record: dict[str, Any]) -> dict[str, Any]:
    return {"Action": "UPSERT", "ResourceRecordSet": record}


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
