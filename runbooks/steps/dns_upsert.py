"""Point the records of one hosted zone at the target side, in as few change batches as AWS allows.

An `upsert` record is UPSERTed with the target side's value. A `failover-routing` record keeps its PRIMARY and
SECONDARY record sets; its PRIMARY is UPSERTed to name the target side (value and health check), so Route53
answers the target whatever the health of the side left, and keeps answering it when that side recovers
(nothing flips back by itself). Both go in the zone's change batches: no call per record, whatever the
number of records (an UpdateHealthCheck per record, the earlier way, took ~14 s of Route53's 10 requests/s at
167 records, docs/benchmarks.md). A health check of the target that an earlier drctl inverted is restored.

A batch holds at most 1,000 ResourceRecord elements and 32,000 Value characters, an UPSERT counting twice for
both (dr/aws/route53_batches.py); a zone that needs more is sent in several batches, one after the other. Each
accepted batch's change id and records are journaled at once; a retry or resume sends only the records that do
not point at the target yet and polls the journaled ids, so a batch AWS accepted is never sent twice. If a later
batch fails, the step fails saying which record sets moved and which remain (and the journal lists them all).

By hand: `aws route53 change-resource-record-sets --hosted-zone-id Z --change-batch file://batch.json` with one
UPSERT per record (value = the target side's name; for a failover record, the PRIMARY record set with its
SetIdentifier, the target's value and the target's health check), then `aws route53 get-change --id C` until
`INSYNC`, then `dig +norecurse @<a name server of the zone> NAME TYPE` for each failover record."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dr.aws.errors import describe as describe_error
from dr.aws.errors import error_code, is_retryable
from dr.aws.route53_batches import MAX_RECORD_ELEMENTS, MAX_VALUE_CHARS, ChangeTooLarge, batches, too_large
from dr.config.model import DnsRecord, DnsStrategy
from dr.engine.step import PreconditionFailed, RunContext, Step
from dr.errors import AwsCallError
from dr.iam import needs
from dr.iam.grants import Grant
from runbooks.steps._common import Waits, call, inverted_fact, note_answered, zone_record_sets
from runbooks.steps.dns_failover_routing import RoutingView, primary_of, primary_problem, primary_toward

__all__ = ["UpsertZone", "batches", "change_fact", "moved_fact", "remaining_fact", "unbatchable"]

MAX_ANSWER_READS = 16
"""DNS questions in flight at once when reading the failover records' answers."""
SAMPLE = 5
"""Record names quoted in a message; the journal's facts list them all."""


def change_fact(zone_id: str) -> str:
    """The ids of the zone's change batches this run sent, journaled as each one is accepted."""
    return f"dns.changes.{zone_id}"


def moved_fact(zone_id: str) -> str:
    """The record sets (names) the zone's accepted change batches moved to the target."""
    return f"dns.moved.{zone_id}"


def remaining_fact(zone_id: str) -> str:
    """The record sets (names) not moved when a change batch failed; [] once every batch was accepted."""
    return f"dns.remaining.{zone_id}"


def planned_change(record: DnsRecord, target: str) -> dict[str, Any]:
    """The UPSERT of `record` toward `target` (a failover record's PRIMARY weighs the same: one value)."""
    return {"Action": "UPSERT", "ResourceRecordSet": {
        "Name": record.fqdn, "Type": record.type, "TTL": record.ttl,
        "ResourceRecords": [{"Value": record.targets[target]}]}}


def unbatchable(records: Sequence[DnsRecord], target: str) -> list[str]:
    """The records whose change alone is beyond a per-request limit of Route53 (no batch can hold it): prechecks
    refuse the run with these before anything changes."""
    return [f"{r.fqdn} ({r.zone_id}): {reason}; shorten its targets.{target} in the topology file"
            for r in records if r.targets.get(target) and (reason := too_large(planned_change(r, target))) is not None]


def _names(changes: Sequence[dict[str, Any]]) -> list[str]:
    return [str(c["ResourceRecordSet"]["Name"]) for c in changes]


def _sample(names: Sequence[str]) -> str:
    return ", ".join(names[:SAMPLE]) + (f" (+{len(names) - SAMPLE} more)" if len(names) > SAMPLE else "")


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
    only_what_differs = True
    """Send only the records that do not point at the target yet (what a retry or resume needs: a batch AWS
    accepted is never sent again); the drill turns it off to time a change every run."""

    def permissions(self, ctx: RunContext) -> list[Grant]:
        """The AWS calls of this step (dr.iam): what the generated IAM policy grants it."""
        answers = needs.answers(self.env, self.zone_id) if self.routed else []
        return needs.zone(self.env, self.zone_id, change=True) + needs.health(self.records, update=True) + answers

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

    def _changes(self, ctx: RunContext, listing: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """UPSERTs of what does not point at the target yet: each plain record not holding the target's value
        (every plain record when `only_what_differs` is off), each failover record's PRIMARY not naming it."""
        values = self._current_values(ctx, listing) if self.only_what_differs else {}
        changes = [planned_change(r, ctx.target) for r in self.plain
                   if values.get((_name(r), r.type)) != {r.targets[ctx.target].rstrip(".").lower()}]
        for record in self.routed:
            primary = self._primary(listing, record)
            wanted = primary_toward(record, primary, ctx.target)
            if wanted != primary:
                changes.append({"Action": "UPSERT", "ResourceRecordSet": wanted})
        return changes

    def describe(self, ctx: RunContext) -> Sequence[str]:
        try:
            planned = f"{len(batches([planned_change(r, ctx.target) for r in self.records]))} batch(es)"
        except ChangeTooLarge:
            planned = "none: a change is too large for any batch and prechecks refuse the run"
        calls = [f"route53:ListResourceRecordSets {self.zone_id}",
                 f"route53:ChangeResourceRecordSets {self.zone_id} ({planned}: at most "
                 f"{MAX_RECORD_ELEMENTS:,} ResourceRecord elements and {MAX_VALUE_CHARS:,} Value characters per "
                 f"request, an UPSERT counting twice; {len(self.plain)} record(s) -> {ctx.target}"
                 + (f", {len(self.routed)} failover PRIMARY record set(s) -> {ctx.target}'s value and health check"
                    if self.routed else "")
                 + ("; only what does not point at the target yet)" if self.only_what_differs else ")"),
                 "route53:GetChange (poll until INSYNC; on resume the change ids in the journal, never a new batch)"]
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
        if listing is None:
            listing = self._listing(ctx)
        restored = self._restore_inverted(ctx)
        changes = self._changes(ctx, listing)
        try:
            parts = batches(changes)
        except ChangeTooLarge as err:  # prechecks refuse this before anything changes; nothing is sent here either
            raise PreconditionFailed(f"{self.zone_id}: {err}") from None
        self._send(ctx, parts)
        journaled = ctx.facts.get(change_fact(self.zone_id), [])
        if parts:
            detail = (f"{len(changes)} record set(s) of {len(self.records)} -> {ctx.target} in {len(parts)} "
                      f"change batch(es)")
        else:
            detail = (f"no change sent: every record already points at {ctx.target}"
                      + (f" (journaled change(s) {', '.join(journaled)} polled until INSYNC)" if journaled else ""))
        if self.routed:
            detail += (f" ({sum(1 for c in changes if 'SetIdentifier' in c['ResourceRecordSet'])} of "
                       f"{len(self.routed)} failover PRIMARY record set(s) re-pointed)")
        if restored:
            detail += f"; restored inverted health check(s) {', '.join(restored)} of {ctx.target}"
        return detail

    def _restore_inverted(self, ctx: RunContext) -> list[str]:
        client = self._client(ctx)
        restored = self._inverted_targets(ctx)
        for hc in restored:
            call(ctx, client.update_health_check, HealthCheckId=hc, Inverted=False)
            self.view.note_inverted(self.env, hc, False)
            ctx.set_fact(inverted_fact(hc), False)
        return restored

    def _send(self, ctx: RunContext, parts: list[list[dict[str, Any]]]) -> None:
        """One ChangeResourceRecordSets per batch; each accepted batch's id and records are journaled at once, so
        that a resume polls that id instead of sending the batch again."""
        client = self._client(ctx)
        ids = list(ctx.facts.get(change_fact(self.zone_id), []))
        moved = list(ctx.facts.get(moved_fact(self.zone_id), []))
        comment = f"drctl {ctx.runbook} {ctx.source}->{ctx.target} run {ctx.run_id}"
        for number, part in enumerate(parts, 1):
            try:
                response = call(ctx, client.change_resource_record_sets, HostedZoneId=self.zone_id,
                                ChangeBatch={"Comment": comment, "Changes": part})
            except Exception as err:
                raise self._partly_moved(ctx, err, number, parts, moved) from err
            ids.append(str(response["ChangeInfo"]["Id"]))
            ctx.set_fact(change_fact(self.zone_id), list(ids))
            moved = list(dict.fromkeys([*moved, *_names(part)]))
            ctx.set_fact(moved_fact(self.zone_id), moved)
        if parts and ctx.facts.get(remaining_fact(self.zone_id)):
            ctx.set_fact(remaining_fact(self.zone_id), [])

    def _partly_moved(self, ctx: RunContext, err: Exception, number: int, parts: list[list[dict[str, Any]]],
                      moved: list[str]) -> AwsCallError:
        """The failure of batch `number`, saying which record sets moved and which remain (journaled in full);
        as retryable as the error itself, so that a retry sends only what remains."""
        remaining = [name for part in parts[number - 1:] for name in _names(part)]
        ctx.set_fact(remaining_fact(self.zone_id), remaining)
        ids = ctx.facts.get(change_fact(self.zone_id), [])
        done = (f"moved to {ctx.target}: {len(moved)} record set(s) ({_sample(moved)}) in change(s) "
                f"{', '.join(ids)}" if moved else f"nothing moved to {ctx.target} yet")
        message = (f"change batch {number} of {len(parts)} for {self.zone_id} failed: {describe_error(err)}; "
                   f"{done}; not moved: {len(remaining)} record set(s) ({_sample(remaining)}) (journal facts "
                   f"{moved_fact(self.zone_id)} and {remaining_fact(self.zone_id)} list them all). "
                   f"`drctl resume {ctx.run_id}` sends only what does not point at {ctx.target} yet")
        return AwsCallError(message, code=error_code(err), retryable=is_retryable(err))

    def verify(self, ctx: RunContext) -> bool:
        """As Waits.verify; once in place, each record's answer change (now: INSYNC observed) is journaled for the
        report's client-side RTO (dr.engine.facts.answered_fact)."""
        done = super().verify(ctx)
        if done:
            note_answered(ctx, self.records, "INSYNC")
        return done

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
