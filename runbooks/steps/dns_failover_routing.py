"""Move a `failover-routing` record (a PRIMARY and a SECONDARY record set) to the target side.

Leaving the PRIMARY, planned: invert the PRIMARY's health check so Route53 answers the SECONDARY
(`aws route53 update-health-check --health-check-id H --inverted`); unplanned: the source is already unhealthy
and Route53 has failed over by itself, so only verify. Returning to the PRIMARY: restore an inverted health
check (`--no-inverted`). Verify with `aws route53 test-dns-answer --hosted-zone-id Z --record-name N
--record-type T`, which must answer the target's value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dr.config.model import DnsRecord
from dr.engine.step import PreconditionFailed, RunContext, Step
from runbooks.steps._common import Waits, call, inverted_fact, planned


class FailoverRoutingRecord(Waits, Step):
    """Make Route53 answer the target side of one failover-routing record."""

    budget = 120.0
    api_family = "route53"
    max_attempts = 5
    poll_initial = 0.5
    poll_max = 2.0

    def __init__(self, record: DnsRecord) -> None:
        self.record = record
        self.name = f"dns:{record.zone_id}:{record.fqdn}"
        self.resource = f"{record.fqdn} {record.type} failover routing ({record.zone_id})"
        self._primary_seen: tuple[str, str] | None = None

    def _client(self, ctx: RunContext) -> Any:
        return ctx.clients.route53(self.record.env)

    def _value(self, side: str) -> str:
        return self.record.targets[side].rstrip(".").lower()

    def _record_sets(self, ctx: RunContext) -> list[dict[str, Any]]:
        page = call(ctx, self._client(ctx).list_resource_record_sets, HostedZoneId=self.record.zone_id,
                    StartRecordName=self.record.fqdn, StartRecordType=self.record.type, MaxItems="10")
        return [r for r in page.get("ResourceRecordSets", [])
                if str(r["Name"]).lower() == self.record.fqdn.lower() and r["Type"] == self.record.type
                and r.get("Failover")]

    def _primary(self, ctx: RunContext) -> tuple[str, str]:
        """(side the PRIMARY record set points at, its health check id), listed once per run of the step: the
        step changes health checks, never record sets, and Route53 allows only 10 requests/s per account."""
        if self._primary_seen is None:
            self._primary_seen = self._list_primary(ctx)
        return self._primary_seen

    def _list_primary(self, ctx: RunContext) -> tuple[str, str]:
        for rrset in self._record_sets(ctx):
            if rrset["Failover"] != "PRIMARY":
                continue
            values = {str(v["Value"]).rstrip(".").lower() for v in rrset.get("ResourceRecords", [])}
            side = next((s for s in self.record.targets if self._value(s) in values), "")
            health_check = str(rrset.get("HealthCheckId") or self.record.health_checks.get(side, ""))
            return side, health_check
        raise PreconditionFailed(f"{self.record.fqdn}: no PRIMARY failover record set in zone "
                                 f"{self.record.zone_id}; create the PRIMARY/SECONDARY pair first")

    def _inverted(self, ctx: RunContext, health_check: str) -> bool:
        found = call(ctx, self._client(ctx).get_health_check, HealthCheckId=health_check)
        return bool(found["HealthCheck"]["HealthCheckConfig"].get("Inverted", False))

    def _answer(self, ctx: RunContext) -> set[str]:
        found = call(ctx, self._client(ctx).test_dns_answer, HostedZoneId=self.record.zone_id,
                     RecordName=self.record.fqdn, RecordType=self.record.type)
        return {str(v).rstrip(".").lower() for v in found.get("RecordData", [])}

    def describe(self, ctx: RunContext) -> Sequence[str]:
        return (f"route53:ListResourceRecordSets {self.record.zone_id} {self.record.fqdn}",
                "route53:UpdateHealthCheck Inverted (planned move off the PRIMARY, or restoring it on return)",
                f"route53:TestDNSAnswer {self.record.fqdn} (poll until it answers {self.record.targets[ctx.target]})")

    def is_done(self, ctx: RunContext) -> bool:
        self.start_waiting(ctx)
        side, health_check = self._primary(ctx)
        if side == ctx.target and health_check and self._inverted(ctx, health_check):
            return False
        return self._answer(ctx) == {self._value(ctx.target)}

    def act(self, ctx: RunContext) -> str | None:
        side, health_check = self._primary(ctx)
        if side == ctx.target:
            if health_check and self._inverted(ctx, health_check):
                call(ctx, self._client(ctx).update_health_check, HealthCheckId=health_check, Inverted=False)
                ctx.set_fact(inverted_fact(health_check), False)
                return f"restored health check {health_check} of the PRIMARY ({ctx.target})"
            return f"the PRIMARY is {ctx.target}: Route53 answers it once its health check is healthy"
        if not planned(ctx):
            return "source unhealthy: Route53 fails over to the SECONDARY by itself; verifying"
        if not health_check:
            raise PreconditionFailed(f"{self.record.fqdn}: the PRIMARY record set has no health check to invert; "
                                     "attach one (health_checks in dr.yaml) or move the record by hand")
        call(ctx, self._client(ctx).update_health_check, HealthCheckId=health_check, Inverted=True)
        ctx.set_fact(inverted_fact(health_check), True)
        return f"inverted health check {health_check} of the PRIMARY ({side}) to force the SECONDARY"

    def waiting_on(self, ctx: RunContext) -> str | None:
        answer = self._answer(ctx)
        if answer == {self._value(ctx.target)}:
            return None
        return (f"Route53 still answers {', '.join(sorted(answer)) or 'nothing'} for {self.record.fqdn} "
                f"(check the health checks of both sides)")
