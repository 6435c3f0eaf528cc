"""Find and remove what drills left behind: RDS instances and clusters tagged `drctl:drill=true` in every
account and region of the topology, and the `drill_name` DNS records. Used after a failed or interrupted
drill (for its run id) and by `drctl drill cleanup` (for one run id, or all)."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dr.aws.errors import describe
from dr.drill import clones
from dr.drill.tags import RUN_ID_TAG, is_drill_resource, tag_map

if TYPE_CHECKING:
    from dr.aws.factory import ClientFactory
    from dr.config.model import Topology

Caller = Callable[..., Any]


@dataclass(frozen=True)
class Leftover:
    """One resource a drill created: kind is `db-instance`, `db-cluster` or `dns-record`."""

    kind: str
    env: str
    region: str
    ident: str
    run_id: str | None = None
    record: dict[str, Any] | None = field(default=None, compare=False)
    zone_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "env": self.env, "region": self.region, "id": self.ident, "run_id": self.run_id,
                **({"zone_id": self.zone_id} if self.zone_id else {})}


@dataclass
class CleanupResult:
    deleted: list[Leftover] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {"deleted": [d.to_dict() for d in self.deleted], "errors": list(self.errors)}


def locations(topology: Topology) -> list[tuple[str, str]]:
    """Every (environment, region) where a drill may have created a database: each database's member
    locations plus each environment's home region."""
    found = {(name, env.region) for name, env in topology.environments.items()}
    for db in topology.databases:
        for loc in (db.primary, db.replica):
            found.add((loc.env, topology.region_of(loc)))
    return sorted(found)


def find_databases(clients: ClientFactory, env: str, region: str, run_id: str | None) -> list[Leftover]:
    """Drill-tagged instances and clusters in one account and region (of `run_id`, or of any drill)."""
    client = clients.client("rds", env, region)
    out: list[Leftover] = []
    for kind, op, key, ident_key in (("db-cluster", "describe_db_clusters", "DBClusters", "DBClusterIdentifier"),
                                     ("db-instance", "describe_db_instances", "DBInstances", "DBInstanceIdentifier")):
        for page in client.get_paginator(op).paginate():
            for item in page.get(key, []):
                tags = tag_map(item.get("TagList"))
                if is_drill_resource(tags, run_id) and clones.status(item) not in clones.GONE_STATUSES:
                    out.append(Leftover(kind, env, region, str(item[ident_key]), tags.get(RUN_ID_TAG)))
    return out


def matching_record_sets(client: Any, zone_id: str, wanted: set[tuple[str, str]],
                         caller: Caller | None = None) -> list[dict[str, Any]]:
    """Record sets of the zone whose (lower-case fqdn, type) is in `wanted`, as Route53 returns them."""
    call = caller or (lambda fn, **kw: fn(**kw))
    out: list[dict[str, Any]] = []
    for name in sorted({n for n, _ in wanted}):
        kwargs: dict[str, Any] = {"HostedZoneId": zone_id, "StartRecordName": name}
        page = call(client.list_resource_record_sets, **kwargs)
        for rrset in page.get("ResourceRecordSets", []):
            if str(rrset["Name"]).lower() != name:
                break
            if (name, str(rrset["Type"])) in wanted:
                out.append(rrset)
    return out


def find_records(clients: ClientFactory, topology: Topology) -> list[Leftover]:
    """Every `drill_name` record that exists. The names are reserved for drills, so any is a leftover."""
    wanted: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for record in topology.dns:
        if record.drill_name:
            fqdn = record.drill_name if record.drill_name.endswith(".") else record.drill_name + "."
            wanted.setdefault((record.env, record.zone_id), set()).add((fqdn.lower(), record.type))
    out: list[Leftover] = []
    for (env, zone_id), names in sorted(wanted.items()):
        for rrset in matching_record_sets(clients.route53(env), zone_id, names):
            out.append(Leftover("dns-record", env, "global", str(rrset["Name"]), record=rrset, zone_id=zone_id))
    return out


def find_leftovers(topology: Topology, clients: ClientFactory, run_id: str | None = None,
                   places: list[tuple[str, str]] | None = None) -> tuple[list[Leftover], list[str]]:
    """Everything drills left behind (in `places`, default every account and region of the topology),
    and the locations that could not be read (with the reason)."""
    found: list[Leftover] = []
    errors: list[str] = []
    places = locations(topology) if places is None else places
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(places)))) as pool:
        futures = {place: pool.submit(find_databases, clients, place[0], place[1], run_id) for place in places}
    for (env, region), future in futures.items():
        try:
            found.extend(future.result())
        except Exception as exc:
            errors.append(f"{env}/{region}: cannot list databases: {describe(exc)}")
    try:
        found.extend(find_records(clients, topology))
    except Exception as exc:
        errors.append(f"route53: cannot list drill records: {describe(exc)}")
    return found, errors


def delete_leftovers(clients: ClientFactory, leftovers: list[Leftover],
                     sleep: Callable[[float], None] = time.sleep) -> CleanupResult:
    """Delete DNS records first (traffic), then clusters (their instances, a wait, the cluster), then lone
    instances. `sleep` waits while a cluster's instances are being deleted."""
    result = CleanupResult()
    order = {"dns-record": 0, "db-cluster": 1, "db-instance": 2}
    for item in sorted(leftovers, key=lambda x: order[x.kind]):
        try:
            if _delete(clients, item, sleep):
                result.deleted.append(item)
        except Exception as exc:
            result.errors.append(f"{item.kind} {item.ident} ({item.env}/{item.region}): {describe(exc)}")
    return result


def _delete(clients: ClientFactory, item: Leftover, sleep: Callable[[float], None]) -> bool:
    if item.kind == "dns-record":
        client = clients.route53(item.env)
        change = client.change_resource_record_sets(HostedZoneId=item.zone_id, ChangeBatch={
            "Comment": "drctl drill cleanup", "Changes": [{"Action": "DELETE", "ResourceRecordSet": item.record}]})
        return bool(change)
    client = clients.client("rds", item.env, item.region)
    if item.kind == "db-cluster":
        return clones.delete_cluster_and_members(client, item.ident, sleep)
    return clones.delete_instance(client, item.ident)


def cleanup(topology: Topology, clients: ClientFactory, run_id: str | None = None,
            places: list[tuple[str, str]] | None = None, sleep: Callable[[float], None] = time.sleep
            ) -> CleanupResult:
    """Find and delete the leftovers of `run_id` (or of every drill); unreadable places are errors."""
    found, errors = find_leftovers(topology, clients, run_id, places)
    result = delete_leftovers(clients, found, sleep)
    result.errors[:0] = errors
    return result
