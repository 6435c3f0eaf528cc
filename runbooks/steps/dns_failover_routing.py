"""What a move needs to know of `failover-routing` records (a PRIMARY and a SECONDARY record set).

The zone step (dns_upsert.UpsertZone) re-points each record's PRIMARY record set at the target side — its
value and its health check — in the zone's change batch, then verifies that Route53 answers the target's
value: it asks the zone's name servers (`dig +norecurse @<a name server of the zone> N T`;
`aws route53 get-hosted-zone --id Z` lists them), or
`aws route53 test-dns-answer --hosted-zone-id Z --record-name N --record-type T` where DNS cannot reach them
(`DRCTL_DNS_VERIFY`, see dr/aws/dns_answers.py).
"""

from __future__ import annotations

import threading
from typing import Any

from dr.aws.dns_answers import DnsUnavailable, DnsVerify, ZoneServers, query, verify_mode
from dr.config.model import DnsRecord
from dr.engine.step import RunContext
from runbooks.steps._common import call


def primary_of(listing: list[dict[str, Any]], record: DnsRecord) -> dict[str, Any] | None:
    """The PRIMARY record set of `record` in its zone's listing, or None."""
    name = record.fqdn.lower()
    return next((r for r in listing if str(r["Name"]).lower() == name and r["Type"] == record.type
                 and r.get("Failover") == "PRIMARY"), None)


def primary_problem(listing: list[dict[str, Any]], record: DnsRecord) -> str | None:
    """Why drctl cannot move `record` by re-pointing its PRIMARY record set, or None: the PRIMARY must exist and
    hold values, as dr.yaml describes the record (an alias target is not something drctl can re-point)."""
    primary = primary_of(listing, record)
    if primary is None:
        return (f"{record.fqdn}: no PRIMARY failover record set in zone {record.zone_id}; create the "
                "PRIMARY/SECONDARY pair first")
    if "AliasTarget" in primary:
        return (f"{record.fqdn}: its PRIMARY record set is an alias ({primary['AliasTarget'].get('DNSName', '?')}); "
                "drctl re-points value records as dr.yaml describes them: make the pair value records, or move "
                "this record by hand (failover.md, step 4)")
    return None


def primary_toward(record: DnsRecord, primary: dict[str, Any], side: str) -> dict[str, Any]:
    """The PRIMARY record set naming `side`: its value and its health check (none if `side` has none), the
    rest (SetIdentifier, TTL) kept. Equal to `primary` when it already names `side`."""
    wanted = {k: v for k, v in primary.items() if k not in ("ResourceRecords", "HealthCheckId")}
    wanted.setdefault("TTL", record.ttl)
    wanted["ResourceRecords"] = [{"Value": record.targets[side]}]
    if record.health_checks.get(side):
        wanted["HealthCheckId"] = record.health_checks[side]
    current_values = {str(v["Value"]).rstrip(".").lower() for v in primary.get("ResourceRecords", [])}
    if (current_values == {record.targets[side].rstrip(".").lower()}
            and primary.get("HealthCheckId") == wanted.get("HealthCheckId")):
        return primary
    return wanted


class RoutingView:
    """What one run knows of its failover-routing records, read once and shared by the run's zone steps: each
    account's health-check `Inverted` flags (one ListHealthChecks per account) and each zone's name servers.
    Route53 allows about 10 requests/s per account: per-record reads made a 60-database failover wait on
    throttling (docs/benchmarks.md). A step that restores a flag notes it, so the view stays true for the run."""

    def __init__(self, verify: DnsVerify | None = None) -> None:
        self._flags: dict[str, dict[str, bool]] = {}
        self._lock = threading.Lock()
        self.verify = verify if verify is not None else verify_mode()
        self.servers = ZoneServers(self.verify)

    def inverted(self, ctx: RunContext, env: str, health_check: str) -> bool:
        from runbooks.steps.prechecks import inverted_flags

        with self._lock:
            if env not in self._flags:
                self._flags[env] = inverted_flags(ctx, {env})
            return self._flags[env].get(health_check, False)

    def note_inverted(self, env: str, health_check: str, value: bool) -> None:
        with self._lock:
            self._flags.setdefault(env, {})[health_check] = value

    def answer(self, ctx: RunContext, record: DnsRecord) -> tuple[set[str], str]:
        """What Route53 answers for `record` (values lower-case, no final dot) and where that was read: the
        zone's name servers (the data plane, no API quota) or, when they cannot answer here, TestDNSAnswer."""
        client = ctx.clients.route53(record.env)
        try:
            servers = self.servers.servers(record.zone_id,
                                           lambda: call(ctx, client.get_hosted_zone, Id=record.zone_id))
            return query(servers, record.fqdn, record.type), "name servers"
        except DnsUnavailable as exc:
            self.servers.unreachable(record.zone_id, str(exc))  # the zone's later polls go straight to the API
            found = call(ctx, client.test_dns_answer, HostedZoneId=record.zone_id, RecordName=record.fqdn,
                         RecordType=record.type)
            return ({str(v).rstrip(".").lower() for v in found.get("RecordData", [])},
                    "TestDNSAnswer" if self.verify.control_plane else f"TestDNSAnswer ({exc})")
