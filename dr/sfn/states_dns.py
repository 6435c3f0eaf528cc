"""The DNS part of the state machine: one branch per hosted zone. A zone's failover-routing records first have
their PRIMARY record set read (its SetIdentifier and TTL: the topology does not hold them), then the zone's change
batches go one after the other (Route53 refuses concurrent changes to one zone), each followed by a GetChange loop
until INSYNC. A plain record is UPSERTed with the target's value; a failover record's PRIMARY with the target's
value and health check, as the local step does.

The batches are the local step's (dr/aws/route53_batches.py: per-request limits of Route53). A redriven execution
sends the zone's UPSERTs again: an UPSERT of what a record set already holds changes nothing, so the records end as
the first execution left them (the local step sends only what differs; comparing a listing with the wanted values
needs more than ASL's intrinsic functions).
"""

from __future__ import annotations

from typing import Any

from dr.aws.route53_batches import batches
from dr.config.model import DnsRecord, DnsStrategy
from dr.engine.step import Step
from dr.sfn import asl
from runbooks.steps.dns_upsert import planned_change

READ_CONCURRENCY = 4
"""PRIMARY record sets read at once per zone: the local engine's Route53 family limit (dr/engine/runbook.py)."""


def zone_branch(step: Any, index: int, target: str, *, comment: str, role: str | None,
                poll: float) -> dict[str, Any]:
    """The branch of one zone (`step` is its UpsertZone, `index` its place in the plan's zones): states named
    `dns:<zone>/...`."""
    records: list[DnsRecord] = list(step.records)
    routed = [r for r in records if r.strategy is DnsStrategy.FAILOVER_ROUTING]
    prefix = f"{step.name}/"
    states: dict[str, asl.State] = {}
    parts = batches([planned_change(r, target) for r in records])
    first = "b0:change" if parts else "done"
    if routed:
        states["primaries"] = _primaries(step, index, role, "b0:change" if parts else "done")
        first = "primaries"
    states["start"] = asl.pass_state({"n": 0}, first, "$.polls")
    first = "start"
    position = {r.fqdn: n for n, r in enumerate(routed)}
    by_name = {r.fqdn: r for r in records}
    for k, part in enumerate(parts):
        after = f"b{k + 1}:change" if k + 1 < len(parts) else "done"
        changes = [_change(by_name[c["ResourceRecordSet"]["Name"]], c, target, position) for c in part]
        states.update(_batch(step, k, changes, comment=comment, role=role, poll=poll, after=after))
    states["done"] = asl.succeed()
    scoped, start = asl.scoped(prefix, states, first)
    return {"StartAt": start, "States": scoped}


def _change(record: DnsRecord, planned: dict[str, Any], target: str, position: dict[str, int]) -> dict[str, Any]:
    if record.strategy is not DnsStrategy.FAILOVER_ROUTING:
        return planned
    n = position[record.fqdn]
    wanted: dict[str, Any] = {"Name": record.fqdn, "Type": record.type, "Failover": "PRIMARY",
                              "SetIdentifier.$": f"$.sets[{n}].set.SetIdentifier", "TTL.$": f"$.sets[{n}].set.TTL",
                              "ResourceRecords": [{"Value": record.targets[target]}]}
    if record.health_checks.get(target):
        wanted["HealthCheckId"] = record.health_checks[target]
    return {"Action": "UPSERT", "ResourceRecordSet": wanted}


def routed_items(step: Any) -> list[dict[str, str]]:
    """What the PRIMARY reads of a zone iterate over (in the plan, `routed[<the zone's index>]`)."""
    return [{"name": r.fqdn, "type": r.type} for r in step.records if r.strategy is DnsStrategy.FAILOVER_ROUTING]


def _primaries(step: Step, index: int, role: str | None, after: str) -> asl.State:
    """A Map reading each failover record's PRIMARY record set; its results (in record order) land in `$.sets`."""
    params = {"HostedZoneId": getattr(step, "zone_id"), "StartRecordName.$": "$.item.name",  # noqa: B009
              "StartRecordType.$": "$.item.type", "MaxItems": "2"}
    read = asl.task("route53", "ListResourceRecordSets", params, step=step, next_state="count",
                    result_path="$.found", selector={"p.$": "$.ResourceRecordSets[?(@.Failover=='PRIMARY')]"})
    _credentials(read, role)
    missing = {"Type": "Fail", "Error": asl.FAILED_PRECONDITION, "CausePath": (
        "States.Format('{}: no PRIMARY failover record set in the zone; create the PRIMARY/SECONDARY pair first', "
        "$.item.name)")}
    inner = {
        "read": read,
        "count": asl.pass_state({"n.$": "States.ArrayLength($.found.p)"}, "any?", "$.count"),
        "any?": asl.choice([{"Variable": "$.count.n", "NumericEquals": 0, "Next": "missing"}], "first"),
        "first": asl.pass_state({"set.$": "States.ArrayGetItem($.found.p, 0)", "item.$": "$.item"}, "same?"),
        "same?": asl.choice([{"Variable": "$.set.Name", "StringEqualsPath": "$.item.name", "Next": "keep"}],
                            "missing"),
        "keep": asl.pass_state({"set.$": "$.set"}, None),
        "missing": missing,
    }
    scoped, start = asl.scoped(f"{step.name}/primary/", inner, "read")
    # by position: a zone id may begin with a digit, which a JSONPath name may not
    return {"Type": "Map", "ItemsPath": f"$.plan.routed[{index}]",
            "ItemSelector": {"item.$": "$$.Map.Item.Value"},
            "MaxConcurrency": READ_CONCURRENCY, "ResultPath": "$.sets", "Next": after,
            "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": start, "States": scoped}}


def _batch(step: Step, k: int, changes: list[dict[str, Any]], *, comment: str, role: str | None, poll: float,
           after: str) -> dict[str, asl.State]:
    p = f"b{k}:"
    change = {"HostedZoneId": getattr(step, "zone_id"),  # noqa: B009
              "ChangeBatch": {"Comment.$": f"States.Format('{comment}', $$.Execution.Input.run_id)",
                              "Changes": changes}}
    states = {
        f"{p}change": asl.task("route53", "ChangeResourceRecordSets", change, step=step, next_state=f"{p}read",
                               selector={"id.$": "$.ChangeInfo.Id"}, result_path="$.change"),
        f"{p}read": asl.task("route53", "GetChange", {"Id.$": "$.change.id"}, step=step, next_state=f"{p}insync?",
                             selector={"status.$": "$.ChangeInfo.Status"}, result_path="$.status"),
        f"{p}insync?": asl.choice([{"Variable": "$.status.status", "StringEquals": "INSYNC", "Next": f"{p}reset"}],
                                  f"{p}wait"),
        f"{p}reset": asl.pass_state({"n": 0}, after, "$.polls"),
        **asl.counter_states(p, step, f"{p}read", f"{p}late", poll),
        f"{p}late": {"Type": "Fail", "Error": asl.STEP_FAILED, "CausePath": (
            f"States.Format('{step.name}: change {{}} not INSYNC within {step.budget:g}s', $.change.id)")},
    }
    for name in (f"{p}change", f"{p}read"):
        _credentials(states[name], role)
    return states


def _credentials(state: asl.State, role: str | None) -> None:
    if role:
        state["Credentials"] = {"RoleArn": role}
