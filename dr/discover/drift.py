"""Drift: where dr.yaml and AWS disagree. `drift` compares a topology with a discovery (a pure function, for
`drctl config diff` and for plan evaluation); `detect_drift` runs the discovery the topology implies first."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from dr.discover.inputs import EnvSpec
from dr.discover.model import Discovery

if TYPE_CHECKING:
    from dr.aws.factory import ClientFactory
    from dr.config.model import DbLocation, Topology


class DriftKind(StrEnum):
    UNLISTED_DATABASE = "unlisted-database"
    """AWS has a primary with a cross-Region replica that no topology entry names."""
    MISSING_COPY = "missing-copy"
    """A topology entry's primary or replica no longer exists in its account and region."""
    RECORD_ELSEWHERE = "record-elsewhere"
    """A record answers a value that is none of its topology targets."""
    MISSING_RECORD = "missing-record"
    """A topology record is not in its hosted zone."""


@dataclass(frozen=True)
class Drift:
    kind: DriftKind
    path: str
    """Where in the topology (`databases[3].replica`, `dns[0]`), or `databases` for an entry it lacks."""
    message: str
    hint: str

    def to_dict(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items()}


def specs_of(topology: Topology) -> list[EnvSpec]:
    return [EnvSpec(name, e.account_id, e.region, e.dr_for, source="the topology")
            for name, e in topology.environments.items()]


def detect_drift(topology: Topology, clients: ClientFactory, *, page_size: int | None = None
                 ) -> tuple[list[Drift], Discovery]:
    """Discover what `topology` describes (its accounts, the regions its databases use, its zones); compare."""
    from dr.discover.run import discover

    regions = sorted({topology.region_of(loc) for db in topology.databases for loc in (db.primary, db.replica)})
    zones = list(dict.fromkeys(r.zone_id for r in topology.dns))
    found = discover(specs_of(topology), clients, zones=zones, dr_regions=regions, page_size=page_size)
    return drift(topology, found), found


def drift(topology: Topology, found: Discovery) -> list[Drift]:
    """Every disagreement between `topology` and `found`, databases first, then records."""
    return [*_databases(topology, found), *_records(topology, found)]


def _key(topology: Topology, loc: DbLocation) -> tuple[str, str, str]:
    return topology.environments[loc.env].account_id, topology.region_of(loc), loc.id


def _databases(topology: Topology, found: Discovery) -> list[Drift]:
    out: list[Drift] = []
    known = {_key(topology, loc) for db in topology.databases for loc in (db.primary, db.replica)}
    accounts = {name: env.account_id for name, env in found.environments.items()}
    for db in found.databases:
        copies = [(accounts[c.env], c.region, c.id) for c in (db.primary, db.replica)]
        if not any(c in known for c in copies):
            out.append(Drift(DriftKind.UNLISTED_DATABASE, "databases",
                             f"{db.primary.id} ({db.primary.env}, {db.primary.region}) replicates to "
                             f"{db.replica.id} ({db.replica.region}), which the topology lacks",
                             "add it (drctl config discover proposes the entry), or delete the replica if unwanted"))
    for i, entry in enumerate(topology.databases):
        for side in ("primary", "replica"):
            account, region, ident = _key(topology, getattr(entry, side))
            listed = found.existing.get((account, region))
            if listed is not None and ident not in listed:
                out.append(Drift(DriftKind.MISSING_COPY, f"databases[{i}].{side}",
                                 f"{entry.name}: {side} {ident} no longer exists in account {account}, {region}",
                                 f"re-create it (drctl failback --phase reprotect) or correct databases[{i}].{side}"))
    return out


def _records(topology: Topology, found: Discovery) -> list[Drift]:
    out: list[Drift] = []
    zones = {zone for zone, _, _ in found.zone_values}
    for i, rec in enumerate(topology.dns):
        if rec.zone_id not in zones:
            continue
        values = found.zone_values.get((rec.zone_id, rec.fqdn.lower(), rec.type))
        if values is None:
            out.append(Drift(DriftKind.MISSING_RECORD, f"dns[{i}]", f"{rec.fqdn} {rec.type} is not in zone "
                             f"{rec.zone_id}", "create it, or remove the entry"))
            continue
        wanted = {v.lower().rstrip(".") for v in rec.targets.values()}
        for ident, value in sorted(values.items()):
            if value.lower().rstrip(".") not in wanted:
                which = f" (set {ident})" if ident else ""
                out.append(Drift(DriftKind.RECORD_ELSEWHERE, f"dns[{i}]",
                                 f"{rec.fqdn} {rec.type}{which} answers {value}, none of its targets "
                                 f"({', '.join(f'{k}: {v}' for k, v in rec.targets.items())})",
                                 "correct the record, or its targets in the topology"))
    return out

