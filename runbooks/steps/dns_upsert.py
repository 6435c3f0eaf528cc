"""Point the `upsert`-strategy records of one hosted zone at the target side, in as few change batches as AWS allows.

By hand: `aws route53 change-resource-record-sets --hosted-zone-id Z --change-batch file://batch.json` with one
UPSERT per record (value = the target side's name), then `aws route53 get-change --id C` until `INSYNC`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dr.config.model import DnsRecord
from dr.engine.step import RunContext, Step
from runbooks.steps._common import Waits, call

MAX_BATCH_WEIGHT = 1000
"""Route53 accepts at most 1,000 changes per batch, and an UPSERT counts as two."""
UPSERT_WEIGHT = 2
MAX_BATCH_CHARS = 32000
"""Route53 also caps the summed length of all record values in one batch."""


def change_fact(zone_id: str) -> str:
    return f"dns.changes.{zone_id}"


def batches(changes: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Split UPSERT changes into batches within Route53's per-request limits, preserving order."""
    out: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    weight = chars = 0
    for change in changes:
        size = sum(len(r["Value"]) for r in change["ResourceRecordSet"].get("ResourceRecords", []))
        if current and (weight + UPSERT_WEIGHT > MAX_BATCH_WEIGHT or chars + size > MAX_BATCH_CHARS):
            out.append(current)
            current, weight, chars = [], 0, 0
        current.append(change)
        weight += UPSERT_WEIGHT
        chars += size
    if current:
        out.append(current)
    return out


def _name(record: DnsRecord) -> str:
    return record.fqdn.lower()


class UpsertZone(Waits, Step):
    """UPSERT every upsert-strategy record of one hosted zone to the target's value; wait for INSYNC."""

    budget = 120.0
    api_family = "route53"
    max_attempts = 5
    poll_initial = 0.5
    poll_max = 2.0

    def __init__(self, zone_id: str, zone_records: Sequence[DnsRecord]) -> None:
        self.zone_id = zone_id
        self.records = list(zone_records)
        self.env = self.records[0].env
        self.name = f"dns:{zone_id}"
        names = ", ".join(r.fqdn for r in self.records[:3]) + (" ..." if len(self.records) > 3 else "")
        self.resource = f"{zone_id}: {len(self.records)} record(s) {names}"

    def _client(self, ctx: RunContext) -> Any:
        return ctx.clients.route53(self.env)

    def _changes(self, ctx: RunContext) -> list[dict[str, Any]]:
        return [{"Action": "UPSERT", "ResourceRecordSet": {
            "Name": r.fqdn, "Type": r.type, "TTL": r.ttl,
            "ResourceRecords": [{"Value": r.targets[ctx.target]}]}} for r in self.records]

    def describe(self, ctx: RunContext) -> Sequence[str]:
        n = len(batches(self._changes(ctx)))
        return (f"route53:ListResourceRecordSets {self.zone_id}",
                f"route53:ChangeResourceRecordSets {self.zone_id} x{n} ({len(self.records)} UPSERT -> "
                f"{ctx.target})",
                "route53:GetChange (poll until INSYNC)")

    def _current_values(self, ctx: RunContext) -> dict[tuple[str, str], set[str]]:
        client = self._client(ctx)
        wanted = {(_name(r), r.type) for r in self.records}
        values: dict[tuple[str, str], set[str]] = {}
        kwargs: dict[str, Any] = {"HostedZoneId": self.zone_id}
        while True:
            page = call(ctx, client.list_resource_record_sets, **kwargs)
            for rrset in page.get("ResourceRecordSets", []):
                key = (str(rrset["Name"]).lower(), str(rrset["Type"]))
                if key in wanted and "SetIdentifier" not in rrset:
                    values[key] = {str(v["Value"]).rstrip(".").lower() for v in rrset.get("ResourceRecords", [])}
            if not page.get("IsTruncated"):
                return values
            kwargs.update(StartRecordName=page["NextRecordName"], StartRecordType=page["NextRecordType"])
            if page.get("NextRecordIdentifier"):
                kwargs["StartRecordIdentifier"] = page["NextRecordIdentifier"]

    def _pointing_at_target(self, ctx: RunContext) -> bool:
        values = self._current_values(ctx)
        return all(values.get((_name(r), r.type)) == {r.targets[ctx.target].rstrip(".").lower()}
                   for r in self.records)

    def _insync(self, ctx: RunContext) -> bool:
        client = self._client(ctx)
        for change_id in ctx.facts.get(change_fact(self.zone_id), []):
            if call(ctx, client.get_change, Id=change_id)["ChangeInfo"]["Status"] != "INSYNC":
                return False
        return True

    def is_done(self, ctx: RunContext) -> bool:
        self.start_waiting(ctx)
        return self._pointing_at_target(ctx) and self._insync(ctx)

    def act(self, ctx: RunContext) -> str | None:
        client = self._client(ctx)
        ids: list[str] = []
        parts = batches(self._changes(ctx))
        for part in parts:
            response = call(ctx, client.change_resource_record_sets, HostedZoneId=self.zone_id, ChangeBatch={
                "Comment": f"drctl {ctx.runbook} {ctx.source}->{ctx.target} run {ctx.run_id}", "Changes": part})
            ids.append(str(response["ChangeInfo"]["Id"]))
            ctx.set_fact(change_fact(self.zone_id), list(ids))
        return f"{len(self.records)} record(s) -> {ctx.target} in {len(parts)} change batch(es)"

    def waiting_on(self, ctx: RunContext) -> str | None:
        if not self._insync(ctx):
            return f"change(s) {', '.join(ctx.facts.get(change_fact(self.zone_id), []))} not INSYNC yet"
        if not self._pointing_at_target(ctx):
            return f"records of {self.zone_id} do not all point at {ctx.target}"
        return None
