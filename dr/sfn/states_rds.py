"""The RDS parts of the state machine, each a Map over the databases: prechecks, the RPO gate, promotions with
their wait-and-describe loops, confirm and the Aurora backup settings. Every chain reads before it acts (the
is-done check of the local step), so a redriven execution does nothing twice.

An item of the plan is one database: `db`, `id` (the copy being promoted), `kind` (instance | cluster), `arn`,
the lag metric and gate threshold, the backup settings. Execution input: `run_id`, `accept_data_loss`,
`gate.start`/`gate.end` (ISO 8601) and `generations` (one per database, in the plan's order).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from dr.aws.lineage import GENERATION_TAG, generation_tags
from dr.engine.step import Step
from dr.sfn import asl
from runbooks.steps.promote_rds import REFUSED_STATES


@dataclass(frozen=True)
class Kind:
    """How one kind of copy is read and promoted through RDS's API."""

    prefix: str
    describe: str
    listing: str
    id_param: str
    source_field: str
    status_field: str
    arn_field: str
    promote: str
    missing: str
    """The error a describe of a missing id fails with (`Rds.<code>Exception`, SFN's naming)."""
    modify: str
    new_id_param: str


INSTANCE = Kind("i:", "DescribeDBInstances", "DBInstances", "DBInstanceIdentifier",
                "ReadReplicaSourceDBInstanceIdentifier", "DBInstanceStatus", "DBInstanceArn", "PromoteReadReplica",
                "Rds.DBInstanceNotFoundException", "ModifyDBInstance", "NewDBInstanceIdentifier")
CLUSTER = Kind("c:", "DescribeDBClusters", "DBClusters", "DBClusterIdentifier", "ReplicationSourceIdentifier",
               "Status", "DBClusterArn", "PromoteReadReplicaDBCluster", "Rds.DBClusterNotFoundFaultException",
               "ModifyDBCluster", "NewDBClusterIdentifier")
KINDS = (INSTANCE, CLUSTER)
ITEM_SELECTOR = {"item.$": "$$.Map.Item.Value", "run.$": "$$.Execution.Input", "polls": {"n": 0}}
MAX_INLINE_CONCURRENCY = 40
"""An inline Map runs at most 40 iterations at once (Step Functions Developer Guide, "Map state processing
modes"): more items are split into Maps of 40 side by side in one Parallel, so every promotion starts at once."""


def chunks(count: int) -> int:
    return max(1, math.ceil(count / MAX_INLINE_CONCURRENCY))


def item_map(name: str, states: dict[str, asl.State], start: str, items_key: str, count: int) -> asl.State:
    """A Map over `plan[items_key]` (split in chunks of 40 beyond 40 items); results dropped (the history keeps
    them). Iteration Maps are named `name`, or `name#k` for chunk k."""
    if chunks(count) == 1:
        return _one_map(name, states, start, f"$.plan.{items_key}", count)
    branches = []
    for k in range(chunks(count)):
        sub = f"{name}#{k}"
        branches.append({"StartAt": sub, "States": {
            sub: {**_one_map(sub, states, start, f"$.plan.chunks.{items_key}[{k}]", MAX_INLINE_CONCURRENCY),
                  "End": True}}})
    return {"Type": "Parallel", "Branches": branches, "ResultPath": None, "Comment": name}


def _one_map(name: str, states: dict[str, asl.State], start: str, items_path: str, count: int) -> asl.State:
    inner, first = asl.scoped(f"{name}/", states, start)
    return {"Type": "Map", "ItemsPath": items_path, "ItemSelector": dict(ITEM_SELECTOR),
            "MaxConcurrency": min(MAX_INLINE_CONCURRENCY, max(1, count)), "ResultPath": None,
            "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": first, "States": inner}}


def by_kind(states_of: dict[Kind, dict[str, asl.State]], start: str,
            global_start: str | None = None) -> dict[str, asl.State]:
    """A first Choice routing each item to its kind's chain (`{prefix}{start}`); an Aurora global member to
    `global_start` when given, else to the cluster chain."""
    rules = [{"Variable": "$.item.kind", "StringEquals": "global",
              "Next": global_start or f"{CLUSTER.prefix}{start}"},
             {"Variable": "$.item.kind", "StringEquals": "cluster", "Next": f"{CLUSTER.prefix}{start}"}]
    states: dict[str, asl.State] = {"kind?": asl.choice(rules, f"{INSTANCE.prefix}{start}")}
    for chain in states_of.values():
        states.update(chain)
    return states


def describe(kind: Kind, step: Step, next_state: str, catch: list[dict[str, Any]] | None = None) -> asl.State:
    return asl.task("rds", kind.describe, {f"{kind.id_param}.$": "$.item.id"}, step=step, next_state=next_state,
                    result_path="$.found", selector={"db.$": f"$.{kind.listing}[0]"}, catch=catch)


def prechecks(step: Step) -> dict[str, asl.State]:
    """Each copy exists and is in a state AWS promotes from (the refusals of promote_rds.REFUSED_STATES)."""
    chains: dict[Kind, dict[str, asl.State]] = {}
    for kind in KINDS:
        p = kind.prefix
        missing = [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": f"{p}missing"}]
        refused = [{"Variable": f"$.found.db.{kind.status_field}", "StringEquals": status, "Next": f"{p}refused"}
                   for status in REFUSED_STATES]
        chains[kind] = {
            f"{p}describe": describe(kind, step, f"{p}status?", missing),
            f"{p}status?": asl.choice(refused, f"{p}ok"),
            f"{p}ok": asl.succeed(),
            f"{p}missing": {"Type": "Fail", "Error": asl.FAILED_PRECONDITION, "CausePath": (
                "States.Format('{}: {} could not be described in the DR region; check the topology or create the "
                "replica', $.item.db, $.item.id)")},
            f"{p}refused": {"Type": "Fail", "Error": asl.FAILED_PRECONDITION, "CausePath": (
                f"States.Format('{{}}: {{}} is {{}}: AWS refuses promotion in that state (fix it, then run again)',"
                f" $.item.db, $.item.id, $.found.db.{kind.status_field})")},
        }
    return by_kind(chains, "describe")


def newest_lag(step: Step, start: str, end: str, *, none: str, broken: str, over: str, ok: str = "ok",
               region: str | None = None) -> dict[str, asl.State]:
    """Read the copy's lag datapoints (one-minute maxima) between the paths `start` and `end`, newest first, and go
    to `none` when there is none, `broken` on -1, `over` above the item's threshold, else `ok` (the chain's first
    state is `read`; `region`: the copy's when it is not the machine's). Its states do not collide with
    `asl.counter_states("")` (`wait`, `count`, `budget?`), so a poll loop can go around it."""
    query = [{"Id": "lag", "ReturnData": True, "MetricStat": {
        "Metric": {"Namespace.$": "$.item.metric.namespace", "MetricName.$": "$.item.metric.name",
                   "Dimensions.$": "$.item.metric.dimensions"}, "Period": 60, "Stat": "Maximum"}}]
    params = {"MetricDataQueries": query, "StartTime.$": start, "EndTime.$": end, "ScanBy": "TimestampDescending"}
    return {
        "read": asl.task("cloudwatch", "GetMetricData", params, step=step, next_state="values", result_path="$.lag",
                         selector={"values.$": "$.MetricDataResults[0].Values"}, region=region),
        "values": asl.pass_state({"n.$": "States.ArrayLength($.lag.values)"}, "any?", "$.count"),
        "any?": asl.choice([{"Variable": "$.count.n", "NumericEquals": 0, "Next": none}], "newest"),
        "newest": asl.pass_state({"value.$": "States.ArrayGetItem($.lag.values, 0)"}, "within?", "$.newest"),
        "within?": asl.choice([
            {"Variable": "$.newest.value", "NumericLessThan": 0, "Next": broken},
            {"Variable": "$.newest.value", "NumericGreaterThanPath": "$.item.threshold", "Next": over}], ok),
    }


def rpo_gate(step: Step) -> dict[str, asl.State]:
    """The newest lag datapoint of each copy within the gate's window: present, not -1, within the threshold."""
    return {
        **newest_lag(step, "$.run.gate.start", "$.run.gate.end", none="unknown", broken="broken", over="over"),
        "ok": asl.succeed(),
        "unknown": _gate_fail("{}: no lag datapoint of {} in the gate window: the data-loss window is unknown; "
                              "re-run with --accept-data-loss to move anyway"),
        "broken": _gate_fail("{}: replication of {} is not running (lag -1): re-run with --accept-data-loss to "
                             "move anyway and lose what was not replicated"),
        "over": _gate_fail("{}: lag of {} beyond what the RPO allows within the gate window: re-run with "
                           "--accept-data-loss to move anyway"),
    }


def _gate_fail(text: str) -> asl.State:
    return {"Type": "Fail", "Error": asl.GATE_REFUSED,
            "CausePath": f"States.Format('{text}', $.item.db, $.item.id)"}


def promotions(step: Step, poll: float) -> dict[str, asl.State]:
    """Per copy: read it; the current writer with this run's generation is done; a replica is tagged with its
    generation, then promoted and read again at once; anything else is waited on, within the step's budget."""
    chains = {kind: _promote_chain(kind, step, poll) for kind in KINDS}
    return {**by_kind(chains, "gen", "g:member"), **global_chain(step, poll, act=True)}


def _promote_chain(kind: Kind, step: Step, poll: float) -> dict[str, asl.State]:
    p = kind.prefix
    tags = [{"Key": t["Key"], "Value.$": _tag_path(t["Key"])} if t["Key"] != "drctl:role" else t
            for t in generation_tags("$db", 0, "$run")]
    gen = "States.Format('{}', States.ArrayGetItem($.run.generations, $.item.n))"
    promote_params: dict[str, Any] = {f"{kind.id_param}.$": "$.item.id"}
    if kind is INSTANCE:  # the local step's backup_args: retention, and the window where the topology sets one
        promote_params["BackupRetentionPeriod.$"] = "$.item.backup.BackupRetentionPeriod"
    windowed = {**promote_params, "PreferredBackupWindow.$": "$.item.backup.PreferredBackupWindow"}
    return {
        f"{p}gen": asl.pass_state({"value.$": gen}, f"{p}want", "$.gen"),
        f"{p}want": asl.pass_state({"Key": GENERATION_TAG, "Value.$": "$.gen.value"}, f"{p}describe", "$.want"),
        f"{p}describe": describe(kind, step, f"{p}mine"),
        f"{p}mine": asl.pass_state({"value.$": "States.ArrayContains($.found.db.TagList, $.want)"},
                                   f"{p}done?", "$.mine"),
        f"{p}done?": asl.choice([
            {"And": [*standalone(kind), {"Variable": "$.mine.value", "BooleanEquals": True}], "Next": f"{p}done"},
            {"And": [*standalone(kind), {"Variable": "$.mine.value", "BooleanEquals": False}], "Next": f"{p}stale"},
            {"Variable": f"$.found.db.{kind.source_field}", "IsPresent": True, "Next": f"{p}tag"}], f"{p}wait"),
        f"{p}tag": asl.task("rds", "AddTagsToResource", {"ResourceName.$": f"$.found.db.{kind.arn_field}",
                                                         "Tags": tags}, step=step, next_state=f"{p}window?"),
        f"{p}window?": asl.choice([{"And": [{"Variable": "$.item.kind", "StringEquals": "instance"},
                                            {"Variable": "$.item.backup.PreferredBackupWindow", "IsPresent": True}],
                                    "Next": f"{p}promote-with-window"}], f"{p}promote"),
        f"{p}promote": asl.task("rds", kind.promote, promote_params, step=step, next_state=f"{p}describe"),
        f"{p}promote-with-window": asl.task("rds", kind.promote, windowed if kind is INSTANCE else promote_params,
                                            step=step, next_state=f"{p}describe"),
        **asl.counter_states(p, step, f"{p}describe", f"{p}late", poll),
        f"{p}done": asl.succeed(),
        f"{p}stale": {"Type": "Fail", "Error": asl.FAILED_PRECONDITION, "CausePath": (
            "States.Format('{}: {} is a standalone copy but not the current writer: a stale copy left behind by an "
            "earlier move; it is never promoted (drctl failback --phase reprotect)', $.item.db, $.item.id)")},
        f"{p}late": {"Type": "Fail", "Error": asl.STEP_FAILED, "CausePath": (
            f"States.Format('{{}}: {{}} not promoted within its budget of {step.budget:g}s (status {{}})', "
            f"$.item.db, $.item.id, $.found.db.{kind.status_field})")},
    }


def standalone(kind: Kind) -> list[dict[str, Any]]:
    """The rules of a described copy (`$.found.db`) that replicates from nothing and is available: a writer."""
    return [{"Not": {"Variable": f"$.found.db.{kind.source_field}", "IsPresent": True}},
            {"Variable": f"$.found.db.{kind.status_field}", "StringEquals": "available"}]


def _tag_path(key: str) -> str:
    return {"drctl:database": "$.item.db", GENERATION_TAG: "$.gen.value",
            "drctl:promoted-by-run": "$.run.run_id"}[key]


def confirm(step: Step, poll: float) -> dict[str, asl.State]:
    """Each promoted copy is available and replicates from nothing (polled within confirm's budget)."""
    chains: dict[Kind, dict[str, asl.State]] = {}
    for kind in KINDS:
        p = kind.prefix
        chains[kind] = {
            f"{p}describe": describe(kind, step, f"{p}writer?"),
            f"{p}writer?": asl.choice([{"And": standalone(kind), "Next": f"{p}ok"}], f"{p}wait"),
            **asl.counter_states(p, step, f"{p}describe", f"{p}late", poll),
            f"{p}ok": asl.succeed(),
            f"{p}late": {"Type": "Fail", "Error": asl.STEP_FAILED, "CausePath": (
                "States.Format('confirm: {} ({}) is not the writer yet', $.item.db, $.item.id)")},
        }
    return {**by_kind(chains, "describe", "g:member"), **global_chain(step, poll, act=False)}


def global_chain(step: Step, poll: float, *, act: bool) -> dict[str, asl.State]:
    """An Aurora global database: done when its DR member is the writer and no move is under way (AWS's
    FailoverState); else, when `act`, SwitchoverGlobalCluster on a planned move (no data loss), FailoverGlobalCluster
    with data loss allowed on an unplanned one (called once: a move under way is waited on), then the same check
    in a loop within the step's budget."""
    writer = "$.glob.g.GlobalClusterMembers[?(@.IsWriter==true)].DBClusterArn"
    moving = {"Variable": "$.glob.g.FailoverState.Status", "IsPresent": True, "Next": "g:wait"}
    failover = {"GlobalClusterIdentifier.$": "$.item.global", "TargetDbClusterIdentifier.$": "$.member.arn",
                "AllowDataLoss": True}
    switchover = {"GlobalClusterIdentifier.$": "$.item.global", "TargetDbClusterIdentifier.$": "$.member.arn"}
    return {
        "g:member": asl.task("rds", "DescribeDBClusters", {"DBClusterIdentifier.$": "$.item.id"}, step=step,
                             next_state="g:read", result_path="$.member",
                             selector={"arn.$": "$.DBClusters[0].DBClusterArn"}),
        "g:read": asl.task("rds", "DescribeGlobalClusters", {"GlobalClusterIdentifier.$": "$.item.global"},
                           step=step, next_state="g:writer", result_path="$.glob",
                           selector={"g.$": "$.GlobalClusters[0]"}),
        "g:writer": asl.pass_state({"arns.$": writer}, "g:mine", "$.writer"),
        "g:mine": asl.pass_state({"value.$": "States.ArrayContains($.writer.arns, $.member.arn)"}, "g:done?",
                                 "$.mine"),
        "g:done?": asl.choice([moving, {"Variable": "$.mine.value", "BooleanEquals": True, "Next": "g:done"}],
                              "g:how?" if act else "g:wait"),
        **({"g:how?": asl.choice([{"Variable": "$.run.planned", "BooleanEquals": True, "Next": "g:switchover"}],
                                 "g:failover"),
            "g:switchover": asl.task("rds", "SwitchoverGlobalCluster", switchover, step=step, next_state="g:read"),
            "g:failover": asl.task("rds", "FailoverGlobalCluster", failover, step=step, next_state="g:read")}
           if act else {}),
        **asl.counter_states("g:", step, "g:read", "g:late", poll),
        "g:done": asl.succeed(),
        "g:late": {"Type": "Fail", "Error": asl.STEP_FAILED, "CausePath": (
            f"States.Format('{{}}: {{}} is not the writer of {{}} within {step.budget:g}s', $.item.db, $.item.id, "
            "$.item.global)")},
    }


def backups(step: Step) -> dict[str, asl.State]:
    """A promoted Aurora cluster gets the topology's backup retention and window (PromoteReadReplicaDBCluster
    takes none); ModifyDBCluster with the same values again changes nothing."""
    params = {"DBClusterIdentifier.$": "$.item.id", "ApplyImmediately": True,
              "BackupRetentionPeriod.$": "$.item.backup.BackupRetentionPeriod"}
    with_window = {**params, "PreferredBackupWindow.$": "$.item.backup.PreferredBackupWindow"}
    return {
        "window?": asl.choice([{"Variable": "$.item.backup.PreferredBackupWindow", "IsPresent": True,
                                "Next": "modify-with-window"}], "modify"),
        "modify": asl.task("rds", "ModifyDBCluster", params, step=step, next_state=None),
        "modify-with-window": asl.task("rds", "ModifyDBCluster", with_window, step=step, next_state=None),
    }
