"""The moves a peer makes, written from the seeded topology: each database's replica to promote (as the role of
the account it lives in), and each hosted zone's UPSERTs toward the DR side (a plain record's value; a
failover-routing record's PRIMARY record set naming the DR side's value and health check, as drctl moves it).
An SRE keeps the same list beside the runbook; a peer reads it instead of drctl's topology file."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from dr.config.model import DnsRecord, DnsStrategy, Topology


def _change(record: DnsRecord, source: str, target: str) -> dict[str, Any]:
    record_set: dict[str, Any] = {"Name": record.fqdn.lower(), "Type": record.type, "TTL": record.ttl,
                                  "ResourceRecords": [{"Value": record.targets[target]}]}
    if record.strategy is DnsStrategy.FAILOVER_ROUTING:
        record_set |= {"SetIdentifier": source, "Failover": "PRIMARY"}
        if record.health_checks.get(target):
            record_set["HealthCheckId"] = record.health_checks[target]
    return {"Action": "UPSERT", "ResourceRecordSet": record_set}


def build(topology: Topology, source: str, target: str, scale: float) -> dict[str, Any]:
    def role(env: str) -> str:
        return str(topology.environments[env].role_arn)

    databases = [{"name": db.name, "engine": db.engine.value, "id": db.replica.id, "role_arn": role(db.replica.env),
                  "region": db.replica.region or topology.environments[db.replica.env].region,
                  "global_cluster_id": db.global_cluster_id} for db in topology.databases]
    by_zone: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for record in topology.dns:
        by_zone[(record.zone_id, record.env)].append(_change(record, source, target))
    zones = [{"zone_id": zone, "role_arn": role(env), "changes": changes} for (zone, env), changes in by_zone.items()]
    return {"time_scale": scale, "databases": databases, "zones": zones}


def write(topology: Topology, source: str, target: str, scale: float, path: Path) -> Path:
    path.write_text(json.dumps(build(topology, source, target, scale), indent=1) + "\n", encoding="utf-8")
    return path
