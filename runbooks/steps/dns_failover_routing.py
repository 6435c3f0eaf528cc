"""Move a `failover-routing` record (a PRIMARY and a SECONDARY record set) to the target side.

Leaving the PRIMARY, planned: invert the PRIMARY's health check so Route53 answers the SECONDARY
(`aws route53 update-health-check --health-check-id H --inverted`); unplanned: the source is already unhealthy
and Route53 has failed over by itself, so only verify. Returning to the PRIMARY: restore an inverted health
check (`--no-inverted`). Verify that Route53 answers the target's value: ask the zone's name servers
(`dig +norecurse @<a name server of the zone> N T`; `aws route53 get-hosted-zone --id Z` lists them), or
`aws route53 test-dns-answer --hosted-zone-id Z --record-name N --record-type T` where DNS cannot reach them
(`DRCTL_DNS_VERIFY`, see dr/aws/dns_answers.py).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from dr.aws.dns_answers import DnsUnavailable, DnsVerify, ZoneServers, query, verify_mode
from dr.aws.route53 import ZoneListing
from dr.config.model import DnsRecord
from dr.engine.step import PreconditionFailed, RunContext, Step
from runbooks.steps._common import FACT_PLANNED, Waits, call, inverted_fact, planned


class RoutingView:
    """What one run knows of its failover-routing records, read once and shared by the run's steps: each hosted
    zone's record sets (one paged listing per zone) and each account's health-check `Inverted` flags (one
    ListHealthChecks per account). Route53 allows about 10 requests/s per account: per-record reads made a
    60-database failover wait on throttling (docs/benchmarks.md). Steps only change health checks, never record
    sets, and note the flags they change, so the view stays true for the run."""

    def __init__(self, verify: DnsVerify | None = None) -> None:
        self._listing: ZoneListing | None = None
        self._flags: dict[str, dict[str, bool]] = {}
        self._lock = threading.Lock()
        self.verify = verify if verify is not None else verify_mode()
        self.servers = ZoneServers(self.verify)

    def record_sets(self, ctx: RunContext, record: DnsRecord) -> list[dict[str, Any]]:
        """The failover record sets of `record` (its name and type) in its zone."""
        with self._lock:
            if self._listing is None:  # calls retried on throttling with the run's clock
                self._listing = ZoneListing(invoke=lambda fn, **kwargs: call(ctx, fn, **kwargs))
            listing = self._listing
        sets = listing.record_sets(ctx.clients.route53(record.env), record.zone_id, record.fqdn, record.type)
        return [r for r in sets if r.get("Failover")]

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


class FailoverRoutingRecord(Waits, Step):
    """Make Route53 answer the target side of one failover-routing record."""

    budget = 120.0
    api_family = "route53"
    max_attempts = 5
    poll_initial = 0.5
    poll_max = 2.0

    def __init__(self, record: DnsRecord, view: RoutingView | None = None) -> None:
        self.record = record
        self.view = view or RoutingView()
        self.name = f"dns:{record.zone_id}:{record.fqdn}"
        self.resource = f"{record.fqdn} {record.type} failover routing ({record.zone_id})"
        self._primary_seen: tuple[str, str] | None = None
        self._answered_by = ""

    def _client(self, ctx: RunContext) -> Any:
        return ctx.clients.route53(self.record.env)

    def _value(self, side: str) -> str:
        return self.record.targets[side].rstrip(".").lower()

    def _primary(self, ctx: RunContext) -> tuple[str, str]:
        """(side the PRIMARY record set points at, its health check id), listed once per run of the step: the
        step changes health checks, never record sets, and Route53 allows only 10 requests/s per account."""
        if self._primary_seen is None:
            self._primary_seen = self._list_primary(ctx)
        return self._primary_seen

    def _list_primary(self, ctx: RunContext) -> tuple[str, str]:
        for rrset in self.view.record_sets(ctx, self.record):
            if rrset["Failover"] != "PRIMARY":
                continue
            values = {str(v["Value"]).rstrip(".").lower() for v in rrset.get("ResourceRecords", [])}
            side = next((s for s in self.record.targets if self._value(s) in values), "")
            health_check = str(rrset.get("HealthCheckId") or self.record.health_checks.get(side, ""))
            return side, health_check
        raise PreconditionFailed(f"{self.record.fqdn}: no PRIMARY failover record set in zone "
                                 f"{self.record.zone_id}; create the PRIMARY/SECONDARY pair first")

    def _inverted(self, ctx: RunContext, health_check: str) -> bool:
        return self.view.inverted(ctx, self.record.env, health_check)

    def _set_inverted(self, ctx: RunContext, health_check: str, value: bool) -> None:
        call(ctx, self._client(ctx).update_health_check, HealthCheckId=health_check, Inverted=value)
        self.view.note_inverted(self.record.env, health_check, value)
        ctx.set_fact(inverted_fact(health_check), value)

    def _answer(self, ctx: RunContext) -> set[str]:
        values, self._answered_by = self.view.answer(ctx, self.record)
        return values

    def describe(self, ctx: RunContext) -> Sequence[str]:
        return (f"route53:ListResourceRecordSets {self.record.zone_id} {self.record.fqdn}",
                "route53:UpdateHealthCheck Inverted (planned move off the PRIMARY, or restoring it on return)",
                f"{self.view.verify.describe()}: {self.record.fqdn} {self.record.type} "
                f"(poll until it answers {self.record.targets[ctx.target]})")

    def is_done(self, ctx: RunContext) -> bool:
        self.start_waiting(ctx)
        side, health_check = self._primary(ctx)
        inverted = bool(health_check) and self._inverted(ctx, health_check)
        if side == ctx.target and inverted:
            return False
        if side != ctx.target and health_check and not inverted and ctx.facts.get(FACT_PLANNED) is True:
            return False  # a planned move off the PRIMARY is made by inverting its check: not made yet
        return self._answer(ctx) == {self._value(ctx.target)}

    def act(self, ctx: RunContext) -> str | None:
        side, health_check = self._primary(ctx)
        if side == ctx.target:
            if health_check and self._inverted(ctx, health_check):
                self._set_inverted(ctx, health_check, False)
                return f"restored health check {health_check} of the PRIMARY ({ctx.target})"
            return f"the PRIMARY is {ctx.target}: Route53 answers it once its health check is healthy"
        if not planned(ctx):
            return "source unhealthy: Route53 fails over to the SECONDARY by itself; verifying"
        if not health_check:
            raise PreconditionFailed(f"{self.record.fqdn}: the PRIMARY record set has no health check to invert; "
                                     "attach one (health_checks in dr.yaml) or move the record by hand")
        self._set_inverted(ctx, health_check, True)
        return f"inverted health check {health_check} of the PRIMARY ({side}) to force the SECONDARY"

    def waiting_on(self, ctx: RunContext) -> str | None:
        answer = self._answer(ctx)
        if answer == {self._value(ctx.target)}:
            return None
        return (f"Route53 still answers {', '.join(sorted(answer)) or 'nothing'} for {self.record.fqdn} "
                f"(read via {self._answered_by}; check the health checks of both sides)")
