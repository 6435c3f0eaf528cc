"""Database pairs from RDS listings: cross-Region read replicas, replica clusters, and global clusters.

Each account of the given environments is listed in every region that takes part (the environments' home
regions and the DR regions named): instances, clusters and global clusters, every page. A pair is read from the
replica's side (`ReadReplicaSourceDBInstanceIdentifier`, `ReplicationSourceIdentifier`: the source's ARN when it
is in another Region) and from each global cluster's members (`IsWriter`). Same-Region replicas are not DR.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from dr.config.model import Engine
from dr.discover.inputs import EnvSpec
from dr.discover.model import Copy, FoundDatabase
from dr.discover.reader import Reader

NAME_TAG = "drctl:database"
"""A primary tagged with this key names its database entry (drctl's sandbox and re-protect tag copies so)."""


@dataclass(frozen=True)
class Arn:
    account: str
    region: str
    kind: str
    id: str

    @classmethod
    def parse(cls, text: str) -> Arn | None:
        """`arn:aws:rds:eu-central-1:111111111111:db:orders-db` -> its parts; None for a plain identifier."""
        parts = text.split(":")
        if len(parts) < 7 or parts[0] != "arn" or parts[2] != "rds":
            return None
        return cls(parts[4], parts[3], parts[5], ":".join(parts[6:]))


@dataclass
class Listings:
    """Every instance, cluster and global cluster read, by ARN (globals by (account, id))."""

    items: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    """ARN -> (kind `db` or `cluster`, the listing's entry)."""
    globals: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    existing: dict[tuple[str, str], set[str]] = field(default_factory=dict)


def scan_regions(specs: Sequence[EnvSpec], dr_regions: Sequence[str]) -> list[str]:
    return sorted({s.region for s in specs} | set(dr_regions))


def list_accounts(reader: Reader, specs: Sequence[EnvSpec], regions: Sequence[str]) -> Listings:
    """List every account of `specs` in every region of `regions` (through one env of that account each)."""
    out = Listings()
    for account, env in _one_env_per_account(specs).items():
        for region in regions:
            rds = reader.client("rds", env, region)
            ids = out.existing.setdefault((account, region), set())
            for page in reader.pages(rds, "describe_db_instances"):
                for item in page.get("DBInstances") or []:
                    out.items[str(item["DBInstanceArn"])] = ("db", item)
                    ids.add(str(item["DBInstanceIdentifier"]))
            for page in reader.pages(rds, "describe_db_clusters"):
                for item in page.get("DBClusters") or []:
                    out.items[str(item["DBClusterArn"])] = ("cluster", item)
                    ids.add(str(item["DBClusterIdentifier"]))
            for page in reader.pages(rds, "describe_global_clusters"):
                for item in page.get("GlobalClusters") or []:
                    out.globals.setdefault((account, str(item["GlobalClusterIdentifier"])), item)
    return out


def _one_env_per_account(specs: Sequence[EnvSpec]) -> dict[str, str]:
    out: dict[str, str] = {}
    for spec in specs:
        out.setdefault(spec.account_id, spec.name)
    return out


@dataclass(frozen=True)
class _Pair:
    engine: Engine
    primary: Arn
    replica: Arn
    global_id: str | None
    source: str


def pairs(listings: Listings) -> list[_Pair]:
    """Every cross-Region (primary, replica) pair the listings show."""
    global_members = {str(m["DBClusterArn"]) for g in listings.globals.values()
                      for m in g.get("GlobalClusterMembers") or []}
    out: list[_Pair] = []
    for arn_text, (kind, item) in listings.items.items():
        replica = Arn.parse(arn_text)
        if replica is None:
            continue
        if kind == "db" and not item.get("DBClusterIdentifier"):
            field_name, engine = "ReadReplicaSourceDBInstanceIdentifier", Engine.RDS_INSTANCE
        elif kind == "cluster" and arn_text not in global_members:
            field_name, engine = "ReplicationSourceIdentifier", Engine.AURORA_CLUSTER
        else:
            continue
        primary = Arn.parse(str(item.get(field_name) or ""))
        if primary is not None and primary.region != replica.region:
            where = f"{field_name} of {replica.id} ({replica.account}, {replica.region})"
            out.append(_Pair(engine, primary, replica, None, where))
    for (_, global_id), item in sorted(listings.globals.items()):
        members = item.get("GlobalClusterMembers") or []
        writer = next((Arn.parse(str(m["DBClusterArn"])) for m in members if m.get("IsWriter")), None)
        for member in members:
            secondary = Arn.parse(str(member["DBClusterArn"]))
            if writer is None or secondary is None or member.get("IsWriter") or secondary.region == writer.region:
                continue
            out.append(_Pair(Engine.AURORA_GLOBAL, writer, secondary, global_id,
                             f"GlobalClusterMembers of global cluster {global_id}"))
    return out


def databases(listings: Listings, specs: Sequence[EnvSpec]) -> tuple[list[FoundDatabase], list[str]]:
    """One database entry per primary (its replica in the DR side's region when it has several), and the
    decisions left to a human."""
    decisions: list[str] = []
    by_primary: dict[Arn, list[_Pair]] = {}
    for pair in pairs(listings):
        by_primary.setdefault(pair.primary, []).append(pair)
    out: list[FoundDatabase] = []
    for primary, found in sorted(by_primary.items(), key=lambda kv: (kv[0].region, kv[0].id)):
        p_env, r_envs = _env_of(specs, primary), [_env_of(specs, p.replica) for p in found]
        if p_env is None or None in r_envs:
            decisions.append(f"{primary.id} ({primary.account}, {primary.region}) has a replica but its account is "
                             "not among the environments given: add it with --env to include it")
            continue
        chosen = _choose(found, specs, p_env)
        notes: list[str] = []
        if len(found) > 1:
            others = ", ".join(f"{p.replica.id} ({p.replica.region})" for p in found if p is not chosen)
            notes.append(f"{primary.id} also replicates to {others}: only {chosen.replica.id} is listed; "
                         "a topology entry has one replica")
            decisions.append(notes[-1])
        name, named_by = _name(listings, primary, chosen)
        out.append(FoundDatabase(
            name=name, engine=chosen.engine, primary=Copy(p_env, primary.region, primary.id),
            replica=Copy(_env_of(specs, chosen.replica) or p_env, chosen.replica.region, chosen.replica.id),
            global_cluster_id=chosen.global_id, source=f"{chosen.source}; name {named_by}", notes=tuple(notes)))
    return _unique_names(out), decisions


def _choose(found: list[_Pair], specs: Sequence[EnvSpec], p_env: str) -> _Pair:
    """Of several replicas of one primary: the one in the region of the environment that is DR for it."""
    dr_regions = [s.region for s in specs if s.dr_for == p_env]
    ordered = sorted(found, key=lambda p: (p.replica.region not in dr_regions, p.replica.region, p.replica.id))
    return ordered[0]


def _env_of(specs: Sequence[EnvSpec], arn: Arn) -> str | None:
    """The environment of a copy: its account's, the one at home in the copy's region first."""
    mine = [s for s in specs if s.account_id == arn.account]
    mine.sort(key=lambda s: s.region != arn.region)
    return mine[0].name if mine else None


def _name(listings: Listings, primary: Arn, pair: _Pair) -> tuple[str, str]:
    arn = next((a for a, (_, item) in listings.items.items() if Arn.parse(a) == primary), None)
    item = listings.items[arn][1] if arn else {}
    for tag in item.get("TagList") or []:
        if tag.get("Key") == NAME_TAG and tag.get("Value"):
            return str(tag["Value"]), f"from the primary's tag {NAME_TAG}"
    return primary.id, "= the primary's identifier (rename freely)"


def _unique_names(found: list[FoundDatabase]) -> list[FoundDatabase]:
    seen: dict[str, int] = {}
    out = []
    for db in found:
        seen[db.name] = seen.get(db.name, 0) + 1
        if seen[db.name] > 1:
            db = replace(db, name=f"{db.name}-{db.primary.region}-{db.primary.id}",  # noqa: PLW2901 - renamed copy
                         notes=(*db.notes, f"name {db.name} was taken: renamed"))
        out.append(db)
    return out
