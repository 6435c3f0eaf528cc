"""Point the records of one hosted zone at the target side, in as few change batches as AWS allows.

An `upsert` record is UPSERTed with the target side's value. A `failover-routing` record keeps its PRIMARY and
SECONDARY record sets; its PRIMARY is UPSERTed to name the target side (value and health check), so Route53
answers the target whatever the health of the side left, and keeps answering it when that side recovers
(nothing flips back by itself). Both go in the zone's one change batch: no call per record, whatever the
number of records (an UpdateHealthCheck per record, the earlier way, took ~14 s of Route53's 10 requests/s at
167 records, docs/benchmarks.md). A health check of the target that an earlier drctl inverted is restored.

By hand: `aws route53 change-resource-record-sets --hosted-zone-id Z --change-batch file://batch.json` with one
UPSERT per record (value = the target side's name; for a failover record, the PRIMARY record set with its
SetIdentifier, the target's value and the target's health check), then `aws route53 get-change --id C` until
`INSYNC`, then `dig +norecurse @<a name server of the zone> NAME TYPE` for each failover record.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dr.config.model import DnsRecord, DnsStrategy
from dr.engine.step import PreconditionFailed, RunContext, Step
from runbooks.steps._common import Waits, call, inverted_fact, zone_record_sets
from runbooks.steps.dns_failover_routing import RoutingView, primary_of, primary_problem, primary_toward

MAX_ANSWER_READS = 16
"""DNS questions in flight at once when reading the failover records' answers."""

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
    """UPSERT every record of one hosted zone to the target side (plain values, failover PRIMARYs); wait for
    INSYNC, then for Route53 to answer the target for each failover record."""

    budget = 120.0
    api_family = "route53"
    max_attempts = 5
    poll_initial = 0.5
    poll_max = 2.0

    def __init__(self, zone_id: str, zone_records: Sequence[DnsRecord], view: RoutingView | None = None) -> None:
        self.zone_id = zone_id
        self.records = list(zone_records)
        self.plain = [r for r in self.records if r.strategy is not DnsStrategy.FAILOVER_ROUTING]
        self.routed = [r for r in self.records if r.strategy is DnsStrategy.FAILOVER_ROUTING]
        self.view = view or RoutingView()
        self.env = self.records[0].env
        self.name = f"dns:{zone_id}"
        names = ", ".join(r.fqdn for r in self.records[:3]) + (" ..." if len(self.records) > 3 else "")
        self.resource = f"{zone_id}: {len(self.records)} record(s) {names}"
        self._seen: list[dict[str, Any]] | None = None

    def _client(self, ctx: RunContext) -> Any:
        return ctx.clients.route53(self.env)

    def _changes(self, ctx: RunContext, listing: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        """UPSERTs: every plain record; each failover record's PRIMARY that does not name the target yet."""
        changes: list[dict[str, Any]] = [{"Action": "UPSERT", "ResourceRecordSet": {
            "Name": r.fqdn, "Type": r.type, "TTL": r.ttl,
            "ResourceRecords": [{"Value": r.targets[ctx.target]}]}} for r in self.plain]
        if self.routed:
            listing = self._listing(ctx) if listing is None else listing
            for record in self.routed:
                primary = self._primary(listing, record)
                wanted = primary_toward(record, primary, ctx.target)
                if wanted != primary:
                    changes.append({"Action": "UPSERT", "ResourceRecordSet": wanted})
        return changes

    def describe(self, ctx: RunContext) -> Sequence[str]:
        calls = [f"route53:ListResourceRecordSets {self.zone_id}",
                 f"route53:ChangeResourceRecordSets {self.zone_id} (one batch per 500 UPSERTs: {len(self.plain)} "
                 f"record(s) -> {ctx.target}" + (f", {len(self.routed)} failover PRIMARY record set(s) -> "
                                                  f"{ctx.target}'s value and health check" if self.routed else "")
                 + ")",
                 "route53:GetChange (poll until INSYNC)"]
        if self.routed:
            calls += ["route53:UpdateHealthCheck --no-inverted, only for a target health check left inverted",
                      f"{self.view.verify.describe()}: each failover record (poll until it answers {ctx.target})"]
        return calls

    def _listing(self, ctx: RunContext) -> list[dict[str, Any]]:
        return zone_record_sets(ctx, self.env, self.zone_id)

    def _primary(self, listing: list[dict[str, Any]], record: DnsRecord) -> dict[str, Any]:
        problem = primary_problem(listing, record)  # prechecks refuse these before anything changes
        found = primary_of(listing, record)
        if problem is not None or found is None:
            raise PreconditionFailed(problem or record.fqdn)
        return found

    def _current_values(self, ctx: RunContext, listing: list[dict[str, Any]] | None = None
                        ) -> dict[tuple[str, str], set[str]]:
        wanted = {(_name(r), r.type) for r in self.plain}
        values: dict[tuple[str, str], set[str]] = {}
        for rrset in self._listing(ctx) if listing is None else listing:
            key = (str(rrset["Name"]).lower(), str(rrset["Type"]))
            if key in wanted and "SetIdentifier" not in rrset:
                values[key] = {str(v["Value"]).rstrip(".").lower() for v in rrset.get("ResourceRecords", [])}
        return values

    def _pointing_at_target(self, ctx: RunContext, listing: list[dict[str, Any]] | None = None) -> bool:
        """Every plain record holds the target's value and every failover PRIMARY names the target."""
        listing = self._listing(ctx) if listing is None else listing
        values = self._current_values(ctx, listing)
        plain = all(values.get((_name(r), r.type)) == {r.targets[ctx.target].rstrip(".").lower()}
                    for r in self.plain)
        return plain and all(primary_toward(r, p, ctx.target) == p
                             for r in self.routed if (p := primary_of(listing, r)) is not None)

    def _inverted_targets(self, ctx: RunContext) -> list[str]:
        """Health checks of the target's side of failover records that are inverted (an earlier drctl's way of
        forcing a failover): Route53 would not answer the target through them."""
        checks = {hc for r in self.routed if (hc := r.health_checks.get(ctx.target))}
        return sorted(hc for hc in checks if self.view.inverted(ctx, self.env, hc))

    def _insync(self, ctx: RunContext) -> bool:
        client = self._client(ctx)
        for change_id in ctx.facts.get(change_fact(self.zone_id), []):
            if call(ctx, client.get_change, Id=change_id)["ChangeInfo"]["Status"] != "INSYNC":
                return False
        return True

    def _not_answering(self, ctx: RunContext) -> list[str]:
        """The failover records Route53 does not answer with the target's value, each with what it answers."""
        if not self.routed:
            return []

        def wrong(record: DnsRecord) -> str | None:
            values, via = self.view.answer(ctx, record)
            if values == {record.targets[ctx.target].rstrip(".").lower()}:
                return None
            return f"{record.fqdn} answers {', '.join(sorted(values)) or 'nothing'} (read via {via})"

        with ThreadPoolExecutor(max_workers=min(MAX_ANSWER_READS, len(self.routed)),
                                thread_name_prefix="drctl-dns-answer") as pool:
            return [w for w in pool.map(wrong, self.routed) if w is not None]

    def is_done(self, ctx: RunContext) -> bool:
        self.start_waiting(ctx)
        self._seen = self._listing(ctx)
        return (self._pointing_at_target(ctx, self._seen) and not self._inverted_targets(ctx)
                and self._insync(ctx) and not self._not_answering(ctx))

    def act(self, ctx: RunContext) -> str | None:
        listing, self._seen = self._seen, None  # what is_done just listed, used once
        if listing is None and self.routed:
            listing = self._listing(ctx)
        client = self._client(ctx)
        restored = self._inverted_targets(ctx)
        for hc in restored:
            call(ctx, client.update_health_check, HealthCheckId=hc, Inverted=False)
            self.view.note_inverted(self.env, hc, False)
            ctx.set_fact(inverted_fact(hc), False)
        ids: list[str] = []
        changes = self._changes(ctx, listing)
        parts = batches(changes)
        for part in parts:
            response = call(ctx, client.change_resource_record_sets, HostedZoneId=self.zone_id, ChangeBatch={
                "Comment": f"drctl {ctx.runbook} {ctx.source}->{ctx.target} run {ctx.run_id}", "Changes": part})
            ids.append(str(response["ChangeInfo"]["Id"]))
            ctx.set_fact(change_fact(self.zone_id), list(ids))
        detail = f"{len(self.records)} record(s) -> {ctx.target} in {len(parts)} change batch(es)"
        if self.routed:
            detail += (f" ({len(changes) - len(self.plain)} of {len(self.routed)} failover PRIMARY record set(s) "
                       f"re-pointed)")
        if restored:
            detail += f"; restored inverted health check(s) {', '.join(restored)} of {ctx.target}"
        return detail

    def waiting_on(self, ctx: RunContext) -> str | None:
        if not self._insync(ctx):
            return f"change(s) {', '.join(ctx.facts.get(change_fact(self.zone_id), []))} not INSYNC yet"
        if not self._pointing_at_target(ctx):
            return f"records of {self.zone_id} do not all point at {ctx.target}"
        wrong = self._not_answering(ctx)
        if wrong:
            return (f"Route53 does not answer {ctx.target} yet: " + "; ".join(wrong[:5])
                    + (f" (+{len(wrong) - 5} more)" if len(wrong) > 5 else "")
                    + f"; check the health checks of {ctx.target}")
        return None
