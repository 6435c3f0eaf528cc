"""DNS entries from the named hosted zones: records whose value points at one side of a DR pair and whose
counterpart names the other side, by naming patterns that are reported, with their health checks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dr.aws.arc import CONTROL_CONFIG_REGION, CONTROL_CONFIG_SERVICE
from dr.discover.inputs import EnvSpec
from dr.discover.model import FoundRecord, SkippedRecord
from dr.discover.reader import Reader
from dr.errors import UsageError

VALUE_TYPES = ("A", "AAAA", "CNAME")
"""Record types a topology `dns` entry can hold (with values, not aliases)."""
ROUTING_KEYS = ("Weight", "Region", "GeoLocation", "GeoProximityLocation", "MultiValueAnswer", "CidrRoutingConfig")


Skip = Callable[[str], SkippedRecord]
Proposal = FoundRecord | SkippedRecord


@dataclass
class Zone:
    id: str
    env: str
    """The environment of the account that owns the zone (and its health checks)."""
    name: str
    record_sets: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Side:
    """How a value names an environment: its region as a label, or its name as a label."""

    env: str
    label: str
    pattern: str


class DnsReader:
    """Reads zones and health checks; proposes records for the DR pairs (source, dr side)."""

    def __init__(self, reader: Reader, specs: Sequence[EnvSpec]) -> None:
        self.reader = reader
        self.specs = list(specs)
        self.pairs = [(s.dr_for, s.name) for s in specs if s.dr_for]
        self.checks: dict[str, dict[str, dict[str, Any]]] = {}
        """env -> health check id -> HealthCheckConfig."""
        self.patterns: set[str] = set()

    def zone(self, zone_id: str) -> Zone:
        """The zone and every record set in it, from the first account (production environments first) that has it."""
        zone_id = zone_id.rsplit("/", 1)[-1]
        from botocore.exceptions import ClientError

        ordered = sorted({s.account_id: s for s in reversed(self.specs)}.values(), key=lambda s: bool(s.dr_for))
        for spec in ordered:
            route53 = self.reader.client("route53", spec.name)
            try:
                found = self.reader.call(route53, "get_hosted_zone", Id=zone_id)["HostedZone"]
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") in ("NoSuchHostedZone", "AccessDenied", "InvalidInput"):
                    continue
                raise
            zone = Zone(zone_id, spec.name, str(found["Name"]))
            for page in self.reader.pages(route53, "list_resource_record_sets", HostedZoneId=zone_id):
                zone.record_sets.extend(page.get("ResourceRecordSets") or [])
            return zone
        accounts = ", ".join(f"{s.name} ({s.account_id})" for s in ordered)
        raise UsageError(f"hosted zone {zone_id} is in none of the accounts of {accounts}; check the zone id "
                         "(aws route53 list-hosted-zones) and the environments' accounts")

    def health_checks(self, env: str) -> dict[str, dict[str, Any]]:
        """Every health check of env's account (listed once, every page): id -> its configuration."""
        if env not in self.checks:
            route53 = self.reader.client("route53", env)
            self.checks[env] = {str(hc["Id"]): hc.get("HealthCheckConfig") or {}
                                for page in self.reader.pages(route53, "list_health_checks")
                                for hc in page.get("HealthChecks") or []}
        return self.checks[env]

    def propose(self, zones: Sequence[Zone]) -> tuple[list[FoundRecord], list[SkippedRecord]]:
        names = {str(rs["Name"]).lower() for z in zones for rs in z.record_sets}
        found: list[FoundRecord] = []
        skipped: list[SkippedRecord] = []
        for zone in zones:
            groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
            for rs in zone.record_sets:
                if rs["Type"] in VALUE_TYPES:
                    groups.setdefault((str(rs["Name"]), str(rs["Type"])), []).append(rs)
            for (name, rtype), sets in groups.items():
                result = self._record(zone, name, rtype, sets, names)
                if isinstance(result, FoundRecord):
                    found.append(result)
                else:
                    skipped.append(result)
        return found, [s for s in skipped if s.reason]

    def _record(self, zone: Zone, name: str, rtype: str, sets: list[dict[str, Any]],
                names: set[str]) -> Proposal:
        def skip(reason: str) -> SkippedRecord:
            return SkippedRecord(zone.id, name, rtype, reason)

        if not self.pairs:
            return skip("no DR pair is known: pass --dr-for DR=SOURCE")
        if any("AliasTarget" in rs for rs in sets):
            return skip("alias record: a topology dns entry holds values; point a CNAME at the alias target or "
                        "add the entry by hand")
        if any(key in rs for rs in sets for key in ROUTING_KEYS):
            return skip("weighted, latency, geo or multivalue routing: drctl switches simple and failover records")
        if any(len(rs.get("ResourceRecords") or []) != 1 for rs in sets):
            return skip("more than one value: drctl switches records of one value")
        if all("Failover" in rs for rs in sets) and len(sets) == 2:
            return self._failover(zone, name, rtype, sets, skip)
        if len(sets) != 1 or "SetIdentifier" in sets[0]:
            return skip("a set of record sets drctl does not know how to switch")
        return self._simple(zone, name, rtype, sets[0], names, skip)

    def _failover(self, zone: Zone, name: str, rtype: str, sets: list[dict[str, Any]], skip: Skip) -> Proposal:
        targets: dict[str, str] = {}
        checks: dict[str, str] = {}
        for rs in sorted(sets, key=lambda r: r["Failover"] != "PRIMARY"):
            value = _value(rs)
            env = self._env_of_set(rs, value)
            if env is None:
                return skip(f"failover set {rs.get('SetIdentifier')!r} ({value}) names no environment")
            targets[env.env] = value
            if rs.get("HealthCheckId"):
                checks[env.env] = str(rs["HealthCheckId"])
        pair = next(((s, d) for s, d in self.pairs if {s, d} == set(targets)), None)
        if pair is None:
            return skip(f"its sides {sorted(targets)} are not a DR pair")
        if pair[0] not in checks:
            return skip(f"failover-routing without a health check on {pair[0]}: drctl needs one there")
        source = (f"failover record sets {', '.join(str(s.get('SetIdentifier')) for s in sets)} "
                  f"in zone {zone.id} ({zone.name})")
        arc = self._arc(zone.env, checks)
        if arc is not None:  # RECOVERY_CONTROL health checks: the record moves with ARC routing controls
            return FoundRecord(zone.id, zone.env, name, rtype, int(sets[0].get("TTL", 60)), "arc-routing-control",
                               _ordered(targets, pair), _ordered(checks, pair),
                               f"{source}; RECOVERY_CONTROL health checks on routing controls of {arc['cluster_arn']}",
                               arc=arc)
        return FoundRecord(zone.id, zone.env, name, rtype, int(sets[0].get("TTL", 60)), "failover-routing",
                           _ordered(targets, pair), _ordered(checks, pair), source)

    def _arc(self, env: str, checks: dict[str, str]) -> dict[str, Any] | None:
        """The `arc` section when every side's health check is RECOVERY_CONTROL: each side's routing control
        (from the health check) and their cluster, read from ARC's control-config API (DescribeRoutingControl
        names the control panel, DescribeControlPanel its cluster)."""
        configs = self.health_checks(env)
        controls = {side: str(configs.get(hc, {}).get("RoutingControlArn") or "") for side, hc in checks.items()}
        if not controls or any(configs.get(hc, {}).get("Type") != "RECOVERY_CONTROL" for hc in checks.values()) \
                or not all(controls.values()):
            return None
        config = self.reader.client(CONTROL_CONFIG_SERVICE, env, CONTROL_CONFIG_REGION)
        first = next(iter(controls.values()))
        panel = self.reader.call(config, "describe_routing_control", RoutingControlArn=first)["RoutingControl"]
        cluster = self.reader.call(config, "describe_control_panel",
                                   ControlPanelArn=panel["ControlPanelArn"])["ControlPanel"]["ClusterArn"]
        return {"cluster_arn": str(cluster), "routing_controls": controls,
                "control_panel_arn": str(panel["ControlPanelArn"])}

    def _env_of_set(self, rs: dict[str, Any], value: str) -> Side | None:
        ident = str(rs.get("SetIdentifier", ""))
        if any(s.name == ident for s in self.specs):
            self.patterns.add("failover set identifier = environment name")
            return Side(ident, ident, "set identifier")
        return self._side(value)

    def _side(self, value: str) -> Side | None:
        """The environment a value names: its region as a label first, else its name as a label."""
        labels = value.lower().rstrip(".").split(".")
        sides = {s for pair in self.pairs for s in pair}
        for spec in self.specs:
            if spec.name in sides and spec.region in labels:
                return Side(spec.name, spec.region, "region")
        for spec in self.specs:
            if spec.name in sides and spec.name.lower() in labels:
                return Side(spec.name, spec.name.lower(), "environment name")
        return None

    def _simple(  # noqa: PLR0917 - the record's parts, as _record has them
        self, zone: Zone, name: str, rtype: str, rs: dict[str, Any], names: set[str], skip: Skip,
    ) -> Proposal:
        value = _value(rs)
        side = self._side(value)
        if side is None:
            return skip("")  # a record that names no DR side is not a DR record: left out, counted in the report
        pair = next((p for p in self.pairs if side.env in p), None)
        assert pair is not None  # _side only answers sides of pairs
        other = pair[1] if side.env == pair[0] else pair[0]
        other_label = self._label(other, side.pattern)
        counterpart = ".".join(other_label if lab == side.label else lab for lab in value.rstrip(".").split("."))
        self.patterns.add(f"{side.pattern} as a DNS label: {self._label(pair[0], side.pattern)} <-> "
                          f"{self._label(pair[1], side.pattern)}")
        targets = {side.env: value, other: counterpart}
        checks = {env: hc for env, target in targets.items() if (hc := self._check_for(zone.env, target))}
        notes = [] if counterpart.lower() + "." in names or counterpart.lower() in names or other in checks else [
            f"{other}'s target {counterpart} was derived from {value} ({side.pattern} label); no record or health "
            "check of that name was read: confirm it answers"]
        return FoundRecord(zone.id, zone.env, name, rtype, int(rs.get("TTL", 60)), "upsert",
                           _ordered(targets, pair), _ordered(checks, pair),
                           f"record in zone {zone.id} ({zone.name}) serving {side.env}; {other}'s target by the "
                           f"{side.pattern} pattern", tuple(notes))

    def _label(self, env: str, pattern: str) -> str:
        spec = next(s for s in self.specs if s.name == env)
        return spec.region if pattern == "region" else spec.name.lower()

    def _check_for(self, env: str, target: str) -> str | None:
        """The health check of env's account that probes `target` (by domain name or IP address)."""
        want = target.lower().rstrip(".")
        for hc_id, config in sorted(self.health_checks(env).items()):
            probed = str(config.get("FullyQualifiedDomainName") or config.get("IPAddress") or "")
            if probed.lower().rstrip(".") == want:
                return hc_id
        return None


def _value(rs: dict[str, Any]) -> str:
    return str(rs["ResourceRecords"][0]["Value"])


def _ordered(values: dict[str, str], pair: tuple[str, str]) -> dict[str, str]:
    return {env: values[env] for env in pair if env in values}


def zone_values(zones: Sequence[Zone]) -> dict[tuple[str, str, str], dict[str, str]]:
    """(zone, fqdn, type) -> set identifier ('' for a simple record) -> value, for drift."""
    out: dict[tuple[str, str, str], dict[str, str]] = {}
    for zone in zones:
        for rs in zone.record_sets:
            if rs["Type"] in VALUE_TYPES and rs.get("ResourceRecords"):
                key = (zone.id, str(rs["Name"]).lower(), str(rs["Type"]))
                out.setdefault(key, {})[str(rs.get("SetIdentifier", ""))] = _value(rs)
    return out
