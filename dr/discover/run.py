"""One discovery: list each account's databases in every region that takes part, read the named zones, read the
DR side's application tier, and decide what can be decided (what cannot is said in `decisions`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from dr.config.findings import Finding
from dr.discover import readiness
from dr.discover.dns import DnsReader, zone_values
from dr.discover.inputs import EnvSpec
from dr.discover.model import Discovery, FoundDatabase, FoundEnvironment, FoundRecord
from dr.discover.rds import databases, list_accounts, scan_regions
from dr.discover.reader import Reader

if TYPE_CHECKING:
    from dr.aws.factory import ClientFactory


def discover(specs: Sequence[EnvSpec], clients: ClientFactory, *, zones: Sequence[str] = (),
             dr_regions: Sequence[str] = (), page_size: int | None = None,
             findings: Sequence[Finding] = ()) -> Discovery:
    """Read AWS (reads only, every list paginated) as the environments' roles, through `clients`."""
    reader = Reader(clients, page_size=page_size)
    listings = list_accounts(reader, specs, scan_regions(specs, dr_regions))
    found, decisions = databases(listings, specs)
    specs, inferred = infer_dr_for(specs, found)
    if inferred:
        found, decisions = databases(listings, specs)
        decisions = inferred + decisions
    dns = DnsReader(reader, specs)
    read_zones = [dns.zone(z) for z in dict.fromkeys(zones)]
    records, skipped = dns.propose(read_zones)
    entries = [e for spec in specs if spec.dr_for for e in readiness.read(reader, spec, records)]
    result = Discovery(
        environments={s.name: FoundEnvironment(s.account_id, s.region, clients.topology.environments[s.name].role_arn,
                                               s.dr_for, s.source) for s in specs},
        databases=found, records=records, skipped_records=skipped, readiness=entries,
        existing=listings.existing, zone_values=zone_values(read_zones), patterns=sorted(dns.patterns),
        decisions=[*decisions, *_record_decisions(records), SETTINGS_DECISION], findings=list(findings))
    result.calls = reader.counts()
    return result


SETTINGS_DECISION = ("replica_settings (KMS key, subnet group, security groups, parameter and option groups per "
                     "region) are not discovered: add them under environments.<env>.replica_settings before a "
                     "re-protect needs them (drctl config validate warns of each one missing)")


def _record_decisions(records: Sequence[FoundRecord]) -> list[str]:
    """One line for all the records whose other side was derived by a pattern and not seen: each entry says so."""
    unseen = [r for r in records if r.notes]
    if not unseen:
        return []
    return [f"{len(unseen)} dns entr{'y' if len(unseen) == 1 else 'ies'} have a target derived by a naming pattern "
            "that no record or health check read confirms (each is marked DECIDE): confirm those names answer"]


def infer_dr_for(specs: Sequence[EnvSpec], found: Sequence[FoundDatabase]) -> tuple[list[EnvSpec], list[str]]:
    """When no environment is anyone's DR side: the environment at home in the region that holds an environment's
    replicas is taken as its DR side (said in the decisions: a human confirms it with --dr-for)."""
    if any(s.dr_for for s in specs):
        return list(specs), []
    by_name = {s.name: s for s in specs}
    chosen: dict[str, str] = {}
    for db in found:
        homes = [s.name for s in specs if s.region == db.replica.region and s.name != db.primary.env]
        if len(homes) == 1 and by_name[db.primary.env].region == db.primary.region:
            chosen.setdefault(homes[0], db.primary.env)
    chosen = {dr: src for dr, src in chosen.items() if src not in chosen}  # no chains: a source is nobody's DR side
    notes = [f"{dr} is taken as the DR side of {src}: its region {by_name[dr].region} holds {src}'s replicas "
             f"(confirm with --dr-for {dr}={src})" for dr, src in sorted(chosen.items())]
    return [replace(s, dr_for=chosen.get(s.name)) for s in specs], notes
