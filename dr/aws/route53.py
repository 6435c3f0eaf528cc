"""Route53 reads: health-check status, and which side (environment) a record's answer serves today.

Route53's data plane (answers, health checks) is global; these calls go to its API in us-east-1 through the
account that owns the record's zone (`dns[].env`), which also owns the record's health checks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from dr.aws.route53_health import MAX_NESTING, CheckConfig, ConfigReader
from dr.config.model import DnsRecord, DnsStrategy, Topology

if TYPE_CHECKING:
    from dr.aws.factory import ClientFactory
    from dr.clock import Clock

HEALTHY_FRACTION = 0.18
"""Route53 considers an endpoint healthy when MORE than 18% of its checkers report it healthy (Developer
Guide, "How Route 53 determines whether a health check is healthy"); drctl applies the same rule to the
per-checker observations GetHealthCheckStatus returns. No observation at all counts as unhealthy, inverted or not
(nothing was measured: it vouches for nothing)."""


class HealthSource(StrEnum):
    """Where a health status came from."""

    CHECKERS = "checkers"
    """Route53's per-checker observations (GetHealthCheckStatus)."""
    CLOUDWATCH = "cloudwatch"
    """CloudWatch's HealthCheckStatus, as Route53 publishes it."""
    ERROR = "error"
    """Neither could be read: unhealthy, with the error as the detail."""
    DISABLED = "disabled"
    """The check is disabled: Route53 considers it healthy (unhealthy when also inverted), whatever it measures."""
    CALCULATED = "calculated"
    """A calculated check, decided from its child checks (GetHealthCheckStatus does not serve calculated checks)."""


@dataclass(frozen=True)
class HealthStatus:
    id: str
    healthy: bool
    healthy_checkers: int
    checkers: int
    detail: str
    """The first failing checker's report when unhealthy (what the endpoint answered), else ''."""
    via: HealthSource = HealthSource.CHECKERS
    inverted: bool = False
    """The check is inverted: the checkers' successes made it unhealthy, their failures healthy."""

    @property
    def reason(self) -> str:
        verdict = "healthy" if self.healthy else "unhealthy"
        if self.via is HealthSource.ERROR:
            return self.detail
        if self.via is not HealthSource.CHECKERS:
            return f"health check {self.id} {verdict}: {self.detail}"
        text = f"health check {self.id} {verdict}: {self.healthy_checkers} of {self.checkers} checkers report success"
        if self.inverted and self.checkers:
            return f"{text}, and the check is inverted"
        return f"{text} ({self.detail})" if self.detail and not self.healthy else text


ChildReader = Callable[[Sequence[str]], dict[str, HealthStatus]]
"""Reads the statuses of a calculated check's children (batched where the caller can)."""


def read_health_check(
    clients: ClientFactory, env: str, hc_id: str, *, configs: ConfigReader | None = None,
    children: ChildReader | None = None, depth: int = 0,
) -> HealthStatus:
    """The health check's status as Route53 decides it: its configuration (Disabled, Inverted, calculated) applied
    to its checkers' observations, or to its children's statuses (dr.aws.route53_health has the rules).

    `configs` shares configuration reads between checks; `children` reads a calculated check's children
    (default: one by one, this way)."""
    client = clients.route53(env)
    config = (configs or ConfigReader(client)).get(hc_id)
    if config.disabled:
        detail = "disabled: Route53 considers a disabled check healthy" + (", and it is inverted" if config.inverted
                                                                             else "")
        return HealthStatus(hc_id, config.considered(True), 0, 0, detail, via=HealthSource.DISABLED)
    if config.calculated:
        return _calculated(clients, env, config, configs=configs, children=children, depth=depth)
    observations = client.get_health_check_status(HealthCheckId=hc_id)["HealthCheckObservations"]
    reports = [str((o.get("StatusReport") or {}).get("Status", "")) for o in observations]
    good = sum(1 for r in reports if r.startswith("Success"))
    failure = next((r for r in reports if not r.startswith("Success")), "")
    healthy = bool(reports) and config.considered(good / len(reports) > HEALTHY_FRACTION)
    return HealthStatus(hc_id, healthy, good, len(reports), failure if reports else "no checker observations",
                        inverted=config.inverted)


def _calculated(
    clients: ClientFactory, env: str, config: CheckConfig, *, configs: ConfigReader | None,
    children: ChildReader | None, depth: int,
) -> HealthStatus:
    """A calculated check: healthy when at least HealthThreshold children are, then Inverted."""
    if depth >= MAX_NESTING:
        return HealthStatus(config.id, False, 0, 0, f"could not read health check {config.id}: calculated checks "
                            f"nested deeper than {MAX_NESTING} levels", via=HealthSource.ERROR)
    if children is not None:
        statuses = children(config.children)
    else:
        shared = configs or ConfigReader(clients.route53(env))
        statuses = {c: _read_or_unhealthy(clients, env, c, configs=shared, depth=depth + 1) for c in config.children}
    healthy = sorted(c for c in config.children if c in statuses and statuses[c].healthy)
    detail = (f"{len(healthy)} of {len(config.children)} child checks healthy, {config.health_threshold} needed"
              + (" (inverted)" if config.inverted else ""))
    unhealthy = [statuses[c].reason for c in config.children if c in statuses and not statuses[c].healthy]
    if unhealthy:
        detail += f"; {unhealthy[0]}"
    return HealthStatus(config.id, config.calculated_verdict(len(healthy)), 0, 0, detail,
                        via=HealthSource.CALCULATED, inverted=config.inverted)


def health_check_status(clients: ClientFactory, env: str, hc_id: str) -> bool:
    """True iff Route53 would consider the health check healthy (see HEALTHY_FRACTION)."""
    return read_health_check(clients, env, hc_id).healthy


HEALTH_METRIC = ("AWS/Route53", "HealthCheckStatus", "HealthCheckId")
"""Route53 publishes each health check's status (1 healthy, 0 unhealthy, after Inverted/Disabled) to
CloudWatch in us-east-1, every minute, in the health check's account."""
HEALTH_METRIC_MAX_AGE = 150.0
"""A status datapoint older than this (its one-minute period start) is not trusted: ask Route53 directly."""


def read_health_checks(
    clients: ClientFactory, env: str, ids: Sequence[str], clock: Clock, *, _depth: int = 0
) -> dict[str, HealthStatus]:
    """The status of many health checks of one account in one batched CloudWatch read (<= 500 per call).

    Route53's control plane allows about 10 requests a second: one GetHealthCheckStatus per check would make
    a large estate's prechecks, readiness and exporter wait on throttling. A check without a fresh datapoint
    (new, or CloudWatch lagging) falls back to Route53 itself (`read_health_check`: its configuration, then
    GetHealthCheckStatus, or its children for a calculated check), so staleness never becomes a verdict.
    """
    from dr.aws.cloudwatch import MetricQuery, latest_datapoints

    unique = list(dict.fromkeys(ids))
    if not unique:
        return {}
    namespace, metric, dimension = HEALTH_METRIC
    now = clock.now()
    queries = [MetricQuery(hc, namespace, metric, ((dimension, hc),), stat="Minimum") for hc in unique]
    try:
        points = latest_datapoints(clients.client("cloudwatch", env, "us-east-1"), queries,
                                   now - timedelta(minutes=10), now + timedelta(minutes=1))
    except Exception:  # CloudWatch unavailable: Route53 itself still answers, one check at a time
        points = {}
    out: dict[str, HealthStatus] = {}
    stale = []
    for hc in unique:
        point = points.get(hc)
        if point is not None and (now - point.timestamp).total_seconds() <= HEALTH_METRIC_MAX_AGE:
            healthy = point.value >= 1.0
            out[hc] = HealthStatus(hc, healthy, 0, 0, f"CloudWatch HealthCheckStatus {point.value:g} "
                                   f"at {point.timestamp.strftime('%H:%M')}Z", via=HealthSource.CLOUDWATCH)
        else:
            stale.append(hc)
    if stale:
        configs = ConfigReader(clients.route53(env))
        configs.prefetch(stale)

        known: dict[str, HealthStatus] = {}

        def children(child_ids: Sequence[str]) -> dict[str, HealthStatus]:
            """Children read once per call, batched; a child also asked for directly is not read again."""
            missing = [c for c in child_ids if c not in out and c not in known]
            if missing:
                known.update(read_health_checks(clients, env, missing, clock, _depth=_depth + 1))
            return {c: out[c] if c in out else known[c] for c in child_ids}

        for hc in stale:
            out[hc] = _read_or_unhealthy(clients, env, hc, configs=configs, children=children, depth=_depth)
    return out


def _read_or_unhealthy(
    clients: ClientFactory, env: str, hc_id: str, *, configs: ConfigReader | None = None,
    children: ChildReader | None = None, depth: int = 0,
) -> HealthStatus:
    """Route53's own verdict; an unreadable check is unhealthy with the error as its reason (it vouches for nothing)."""
    from dr.aws.errors import describe

    try:
        return read_health_check(clients, env, hc_id, configs=configs, children=children, depth=depth)
    except Exception as exc:
        return HealthStatus(hc_id, False, 0, 0, f"could not read health check {hc_id}: {describe(exc)}",
                            via=HealthSource.ERROR)


@dataclass(frozen=True)
class RecordAnswer:
    """What a record answers now and which environment's target that is (None: nobody's, or no record)."""

    name: str
    strategy: DnsStrategy
    side: str | None
    value: str | None
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "strategy": str(self.strategy), "side": self.side, "value": self.value,
                "detail": self.detail}


def record_side(clients: ClientFactory, topology: Topology, record: DnsRecord) -> str | None:
    """The environment whose target the record answers with now, or None when it matches no side."""
    return read_record(clients, topology, record).side


def list_zone(client: Any, zone_id: str, invoke: Callable[..., Any] | None = None) -> list[dict[str, Any]]:
    """Every record set of a hosted zone, 300 a page. `invoke(fn, **kwargs)` wraps each call (e.g. retries)."""
    run = invoke or (lambda fn, **kwargs: fn(**kwargs))
    request: dict[str, str] = {"HostedZoneId": zone_id, "MaxItems": "300"}
    out: list[dict[str, Any]] = []
    while True:
        page = run(client.list_resource_record_sets, **request)
        out.extend(page.get("ResourceRecordSets", []))
        if not page.get("IsTruncated"):
            return out
        request["StartRecordName"] = str(page["NextRecordName"])
        request["StartRecordType"] = str(page["NextRecordType"])
        if page.get("NextRecordIdentifier"):
            request["StartRecordIdentifier"] = str(page["NextRecordIdentifier"])
        else:
            request.pop("StartRecordIdentifier", None)


class ZoneListing:
    """Each hosted zone listed once, for as long as this object is used (one exporter refresh, one run's
    DNS steps): Route53 allows about 10 requests a second, and one listing per record does not scale."""

    def __init__(self, invoke: Callable[..., Any] | None = None) -> None:
        self._invoke = invoke
        self._zones: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def record_sets(self, client: Any, zone_id: str, fqdn: str, rtype: str) -> list[dict[str, Any]]:
        """The record sets named `fqdn` of type `rtype` in the zone."""
        with self._lock:
            if zone_id not in self._zones:
                self._zones[zone_id] = list_zone(client, zone_id, self._invoke)
            listing = self._zones[zone_id]
        name = _norm(fqdn)
        return [r for r in listing if _norm(str(r["Name"])) == name and r["Type"] == rtype]


def read_record(
    clients: ClientFactory, topology: Topology, record: DnsRecord, name: str | None = None,
    healthy: Callable[[str], bool] | None = None, *, listing: ZoneListing | None = None,
) -> RecordAnswer:
    """Read the record (or its drill clone `name`) and resolve which side it serves, for both strategies.

    `healthy(hc_id)` answers for the health checks of failover records (default: ask Route53); pass a cache
    when the statuses were just read, to spare Route53's small GetHealthCheckStatus rate limit. `listing`
    shares one listing per zone between many records.
    """
    fqdn = _norm(name or record.fqdn)
    client = clients.route53(record.env)
    if listing is not None:
        sets = listing.record_sets(client, record.zone_id, fqdn, record.type)
    else:
        sets = _record_sets(client, record.zone_id, fqdn, record.type)
    if record.strategy in (DnsStrategy.FAILOVER_ROUTING, DnsStrategy.ARC_ROUTING_CONTROL):
        # an arc-routing-control pair's RECOVERY_CONTROL checks follow its routing controls: read like any other
        ask = healthy or (lambda hc: health_check_status(clients, record.env, hc))
        return _failover_answer(record, fqdn, sets, ask)
    plain = [s for s in sets if "SetIdentifier" not in s]
    if not plain:
        return RecordAnswer(fqdn, record.strategy, None, None, f"no {record.type} record {fqdn} in {record.zone_id}")
    value = _value(plain[0])
    side = side_of(record, value)
    return RecordAnswer(fqdn, record.strategy, side, value, f"{record.type} -> {value}")


def side_of(record: DnsRecord, value: str | None) -> str | None:
    """The environment whose target is `value` (DNS names compare without case and trailing dot)."""
    if value is None:
        return None
    wanted = _norm_value(value)
    return next((env for env, target in record.targets.items() if _norm_value(target) == wanted), None)


def _failover_answer(
    record: DnsRecord, fqdn: str, sets: list[dict[str, Any]], healthy: Callable[[str], bool]
) -> RecordAnswer:
    """Route53 answers PRIMARY while it is healthy, else a healthy SECONDARY, else PRIMARY anyway."""
    by_role = {s.get("Failover"): s for s in sets if s.get("Failover") in ("PRIMARY", "SECONDARY")}
    primary, secondary = by_role.get("PRIMARY"), by_role.get("SECONDARY")
    if primary is None and secondary is None:
        return RecordAnswer(fqdn, record.strategy, None, None, f"no failover records {fqdn} in {record.zone_id}")

    def is_healthy(rrset: dict[str, Any]) -> bool:
        hc = rrset.get("HealthCheckId")
        return True if not hc else healthy(str(hc))  # without a health check Route53 treats it as healthy

    chosen, why = primary, "PRIMARY healthy"
    if primary is None:
        chosen, why = secondary, "only SECONDARY exists"
    elif not is_healthy(primary):
        if secondary is not None and is_healthy(secondary):
            chosen, why = secondary, "PRIMARY unhealthy, SECONDARY healthy"
        else:
            why = "PRIMARY and SECONDARY unhealthy: Route53 answers PRIMARY"
    assert chosen is not None
    value = _value(chosen)
    return RecordAnswer(fqdn, record.strategy, side_of(record, value), value, f"{why} -> {value}")


def _record_sets(client: Any, zone_id: str, fqdn: str, rtype: str) -> list[dict[str, Any]]:
    """All record sets named `fqdn` of type `rtype` (failover records come as a PRIMARY/SECONDARY pair)."""
    found: list[dict[str, Any]] = []
    request: dict[str, Any] = {"HostedZoneId": zone_id, "StartRecordName": fqdn, "StartRecordType": rtype,
                               "MaxItems": "100"}
    while True:
        page = client.list_resource_record_sets(**request)
        for rrset in page.get("ResourceRecordSets", []):
            if _norm(rrset["Name"]) != fqdn or rrset["Type"] != rtype:
                return found
            found.append(rrset)
        if not page.get("IsTruncated"):
            return found
        request.update(StartRecordName=page["NextRecordName"], StartRecordType=page.get("NextRecordType", rtype))
        if page.get("NextRecordIdentifier"):
            request["StartRecordIdentifier"] = page["NextRecordIdentifier"]


def _value(rrset: dict[str, Any]) -> str | None:
    alias = rrset.get("AliasTarget")
    if alias:
        return str(alias.get("DNSName", "")) or None
    records = rrset.get("ResourceRecords") or []
    return str(records[0]["Value"]) if records else None


def _norm(name: str) -> str:
    name = name.lower().replace("\\052", "*")
    return name if name.endswith(".") else name + "."


def _norm_value(value: str) -> str:
    value = value.lower().rstrip(".")
    return value.removeprefix("dualstack.")
