"""Drill steps for DNS: exercise each record's `drill_name` (never the real name) in the same hosted zone.

The drill UPSERTs `drill_name` with the DR side's value, waits for INSYNC (the failover's own zone-batch
step, reused), reads it back, and at the end DELETEs it. Records without `drill_name` are not exercised;
the report says so. By hand: `aws route53 change-resource-record-sets` with an UPSERT (then a DELETE)
of `drill-api.example.com.` in the record's zone, and `aws route53 get-change` until INSYNC.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from dr.config.model import DnsRecord
from dr.engine.step import FailurePolicy, PreconditionFailed, RunContext, Step
from dr.iam import needs
from dr.iam.grants import Grant
from runbooks.steps._common import call, records
from runbooks.steps.dns_upsert import UpsertZone, batches


def drill_records(ctx: RunContext) -> list[DnsRecord]:
    """The move's records that have a `drill_name`, renamed to it (a plain record: no routing policy)."""
    return [r.model_copy(update={"name": r.drill_name, "drill_name": None}) for r in records(ctx) if r.drill_name]


def not_exercised(ctx: RunContext) -> list[str]:
    """Names of the move's records without a `drill_name`: the drill cannot exercise their DNS."""
    return [r.fqdn for r in records(ctx) if not r.drill_name]


def by_zone(recs: Sequence[DnsRecord]) -> dict[str, list[DnsRecord]]:
    zones: dict[str, list[DnsRecord]] = defaultdict(list)
    for record in recs:
        zones[record.zone_id].append(record)
    return dict(zones)


def delete_change_fact(zone_id: str) -> str:
    return f"drill.dns.delete_changes.{zone_id}"


class DrillUpsertZone(UpsertZone):
    """UPSERT the zone's drill records to the DR value, wait for INSYNC, read them back."""

    only_what_differs = False  # every drill times a change, even over a drill record an earlier drill left

    def __init__(self, zone_id: str, zone_records: Sequence[DnsRecord]) -> None:
        super().__init__(zone_id, zone_records)
        self.name = f"drill-dns:{zone_id}"

    def is_done(self, ctx: RunContext) -> bool:
        """Never skipped: a drill record left by an earlier drill must not make this one's DNS time zero.
        Repeating the UPSERT (e.g. on resume) is harmless."""
        return False


class VerifyDrillZone(DrillUpsertZone):
    """Read-only: the drill records answer with the DR value."""

    mutating = False
    max_attempts = 2
    budget = 60.0

    def __init__(self, zone_id: str, zone_records: Sequence[DnsRecord]) -> None:
        super().__init__(zone_id, zone_records)
        self.name = f"drill-verify-dns:{zone_id}"

    def describe(self, ctx: RunContext) -> Sequence[str]:
        return (f"route53:ListResourceRecordSets {self.zone_id}",)

    def is_done(self, ctx: RunContext) -> bool:
        return False

    def act(self, ctx: RunContext) -> str | None:
        if not self._pointing_at_target(ctx):
            raise PreconditionFailed(f"drill records in {self.zone_id} do not answer with {ctx.target}'s value")
        return f"{len(self.records)} drill record(s) answer with {ctx.target}'s value"

    def verify(self, ctx: RunContext) -> bool:
        return True


class DeleteDrillZone(Step):
    """DELETE the zone's drill records (whatever value they hold now), wait for INSYNC. Cleanup: continues."""

    budget = 180.0
    api_family = "route53"
    policy = FailurePolicy.CONTINUE
    poll_initial = 0.5

    def permissions(self, ctx: RunContext) -> list[Grant]:
        """The AWS calls of this step (dr.iam): what the generated IAM policy grants it."""
        return needs.zone(self.env, self.zone_id, change=True)

    def __init__(self, zone_id: str, zone_records: Sequence[DnsRecord]) -> None:
        self.zone_id = zone_id
        self.records = list(zone_records)
        self.env = self.records[0].env
        self.name = f"drill-dns-delete:{zone_id}"
        self.resource = f"{zone_id}: " + ", ".join(r.fqdn for r in self.records)

    def describe(self, ctx: RunContext) -> Sequence[str]:
        return (f"route53:ListResourceRecordSets {self.zone_id}",
                f"route53:ChangeResourceRecordSets {self.zone_id} (DELETE {len(self.records)} drill record(s))",
                "route53:GetChange (poll until INSYNC)")

    def _existing(self, ctx: RunContext) -> list[dict[str, Any]]:
        return existing_record_sets(ctx, self.env, self.zone_id, {(r.fqdn.lower(), r.type) for r in self.records})

    def is_done(self, ctx: RunContext) -> bool:
        return not self._existing(ctx) and self._insync(ctx)

    def act(self, ctx: RunContext) -> str | None:
        found = self._existing(ctx)
        client = ctx.clients.route53(self.env)
        ids: list[str] = []
        for part in batches([{"Action": "DELETE", "ResourceRecordSet": rrset} for rrset in found]):
            response = call(ctx, client.change_resource_record_sets, HostedZoneId=self.zone_id, ChangeBatch={
                "Comment": f"drctl drill cleanup run {ctx.run_id}", "Changes": part})
            ids.append(str(response["ChangeInfo"]["Id"]))
            ctx.set_fact(delete_change_fact(self.zone_id), list(ids))
        return f"deleted {len(found)} drill record(s)"

    def _insync(self, ctx: RunContext) -> bool:
        client = ctx.clients.route53(self.env)
        return all(call(ctx, client.get_change, Id=cid)["ChangeInfo"]["Status"] == "INSYNC"
                   for cid in ctx.facts.get(delete_change_fact(self.zone_id), []))

    def verify(self, ctx: RunContext) -> bool:
        return self._insync(ctx) and not self._existing(ctx)


def existing_record_sets(ctx: RunContext, env: str, zone_id: str, wanted: set[tuple[str, str]]) -> list[dict[str, Any]]:
    """The zone's record sets whose (name, type) is wanted, exactly as Route53 holds them (for DELETE)."""
    from dr.drill.leftovers import matching_record_sets

    return matching_record_sets(ctx.clients.route53(env), zone_id, wanted,
                                lambda fn, **kw: call(ctx, fn, **kw))
