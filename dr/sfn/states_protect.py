"""Re-protect as Step Functions states, from failback's steps (runbooks/failback.py `protect_phases`): fence the
stale former writer (`FenceStale`), stop the fenced copies (`StopFenced`), create the replica from the current
writer (`CreateReplica`, same ids, tags and settings as the local step), wait for an Aurora global member to rejoin
(`RejoinGlobal`), wait until the replica replicates within the RPO (`WaitReplicating`).

Each chain is one Map iteration per database and reads before it acts, with the local step's is-done logic, so a
second execution or a redrive calls no mutation twice. Calls to a region other than the machine's go through
`asl.task(..., region=...)` (drctl's cross-region caller). What depends on the run id (the fenced id, an Aurora
replica's member instance, the fenced copies found by tag when the run starts) is computed by drctl when it starts
the execution and passed in its input (`protect_input`), as the promotions' generations are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dr.aws.lineage import (
    DATABASE_TAG,
    FENCE_HOW_TAG,
    FENCED_TAG,
    GENERATION_TAG,
    NOT_SERVING,
    ROLE_TAG,
    STOPPED,
)
from dr.checks.lag import DEFAULT_MAX_AGE_SECONDS
from dr.engine.step import Step
from dr.sfn import asl
from dr.sfn.states_binlog import binlog_states
from dr.sfn.states_rds import CLUSTER, INSTANCE, KINDS, Kind, by_kind

RENAMING = "renaming"
NOT_FOUND = ["States.TaskFailed"]
"""A describe that fails after its retries: the copy is not there (the local steps' `exists` is False)."""


@dataclass(frozen=True)
class Sides:
    """Where a re-protect half calls: `here` the copies it fences and creates, `writer` the current writers; each
    None when it is the state machine's own region (an SDK integration), else a region (the cross-region caller)."""

    here: str | None
    writer: str | None


def _read(kind: Kind, step: Step, id_path: str, out: str, *, at: str | None, then: str,
          absent: str | None = None) -> asl.State:
    """Read one copy into `out`.db (in region `at`), then `then`; to `absent` when it cannot be described."""
    catch = [{"ErrorEquals": NOT_FOUND, "ResultPath": "$.error", "Next": absent}] if absent else None
    return asl.task("rds", kind.describe, {f"{kind.id_param}.$": id_path}, step=step, next_state=then,
                    result_path=out, selector={"db.$": f"$.{kind.listing}[0]"}, catch=catch, region=at)


def run_value(half: str, key: str) -> str:
    """This run's `key` for the item (drctl computed it at start: generate_failback.protect_input)."""
    return f"States.ArrayGetItem($.run.protect.{half}.{key}, $.item.n)"


def _fail(error: str, text: str, *paths: str) -> asl.State:
    args = ", ".join(("$.item.db", "$.item.id", *paths))
    return {"Type": "Fail", "Error": error, "CausePath": f"States.Format('{text}', {args})"}


def _generation(prefix: str, db_path: str, out: str, next_state: str) -> dict[str, asl.State]:
    """`out`.v = the copy's `drctl:generation` tag as a number, 0 when it has none (dr.aws.lineage.generation).
    A filter that matches nothing is tested both ways a JSONPath engine may answer it (absent, or `[]`)."""
    tag = f"{db_path}.TagList[?(@.Key=='{GENERATION_TAG}')].Value"
    return {
        f"{prefix}has?": asl.choice([{"Not": {"Variable": tag, "IsPresent": True}, "Next": f"{prefix}zero"}],
                                    f"{prefix}take"),
        f"{prefix}take": asl.pass_state({"t.$": tag}, f"{prefix}first?", out),
        f"{prefix}first?": asl.choice([{"Variable": f"{out}.t[0]", "IsPresent": True, "Next": f"{prefix}value"}],
                                      f"{prefix}zero"),
        f"{prefix}zero": asl.pass_state({"v": 0}, next_state, out),
        f"{prefix}value": asl.pass_state({"v.$": f"States.StringToJson(States.ArrayGetItem({out}.t, 0))"},
                                         next_state, out),
    }


def _plain(chains: dict[Kind, dict[str, asl.State]], start: str) -> dict[str, asl.State]:
    """A Map iteration over every database of the half: an Aurora global member has nothing to do here (it
    rejoins its global cluster instead)."""
    return {**by_kind(chains, start, "skip"), "skip": asl.succeed()}


def _not_serving(kind: Kind, path: str, states: frozenset[str], next_state: str) -> list[dict[str, Any]]:
    return [{"Variable": f"{path}.{kind.status_field}", "StringEquals": s, "Next": next_state} for s in sorted(states)]


def _has_source(kind: Kind, path: str, next_state: str) -> dict[str, Any]:
    return {"Variable": f"{path}.{kind.source_field}", "IsPresent": True, "Next": next_state}


def fence_stale(step: Step, sides: Sides, half: str, poll: float) -> dict[str, asl.State]:
    """FenceStale: the copy at the item's id is done when absent or not writable (and not dormant: refused, as
    the local check); a writable one is fenced only when the other region's writer is writable with a higher
    generation (never the current writer); tag, rename to this run's fenced id, then wait until it is gone."""
    return _plain({kind: _fence_chain(kind, step, sides, half, poll) for kind in KINDS}, "read")


def _fence_chain(kind: Kind, step: Step, sides: Sides, half: str, poll: float) -> dict[str, asl.State]:
    p = kind.prefix
    tags = [{"Key": FENCED_TAG, "Value.$": "$.run.run_id"}, {"Key": FENCE_HOW_TAG, "Value": "renamed"},
            {"Key": DATABASE_TAG, "Value.$": "$.item.db"}, {"Key": ROLE_TAG, "Value": "fenced-former-writer"}]
    new_id = "NewDBClusterIdentifier" if kind is CLUSTER else "NewDBInstanceIdentifier"
    modify = "ModifyDBCluster" if kind is CLUSTER else "ModifyDBInstance"
    return {
        f"{p}read": _read(kind, step, "$.item.id", "$.here", at=sides.here, then=f"{p}writable?", absent=f"{p}done"),
        f"{p}writable?": asl.choice([_has_source(kind, "$.here.db", f"{p}done"),
                                     *_not_serving(kind, "$.here.db", STOPPED, f"{p}dormant"),
                                     *_not_serving(kind, "$.here.db", NOT_SERVING - STOPPED, f"{p}done")],
                                    f"{p}writer"),
        f"{p}writer": _read(kind, step, "$.item.writer.id", "$.w",
                            at=sides.writer, then=f"{p}writer?", absent=f"{p}unread"),
        f"{p}writer?": asl.choice([_has_source(kind, "$.w.db", f"{p}unclear"),
                                   *_not_serving(kind, "$.w.db", NOT_SERVING, f"{p}unclear")], f"{p}gh:has?"),
        **_generation(f"{p}gh:", "$.here.db", "$.gh", f"{p}gw:has?"),
        **_generation(f"{p}gw:", "$.w.db", "$.gw", f"{p}stale?"),
        # stale: the writer's generation is higher (both 0, untagged: nobody can tell, refused as `current`)
        f"{p}stale?": asl.choice([{"Variable": "$.gw.v", "NumericGreaterThanPath": "$.gh.v", "Next": f"{p}tag"}],
                                 f"{p}current"),
        f"{p}tag": asl.task("rds", "AddTagsToResource", {"ResourceName.$": f"$.here.db.{kind.arn_field}",
                                                         "Tags": tags},
                            step=step, next_state=f"{p}rename", region=sides.here),
        f"{p}rename": asl.task("rds", modify, {f"{kind.id_param}.$": "$.item.id",
                                               f"{new_id}.$": run_value(half, "fenced"), "ApplyImmediately": True},
                               step=step, next_state=f"{p}gone?", region=sides.here),
        f"{p}gone?": _read(kind, step, "$.item.id", "$.still", at=sides.here, then=f"{p}wait", absent=f"{p}renamed"),
        f"{p}renamed": _read(kind, step, run_value(half, "fenced"), "$.f",
                             at=sides.here, then=f"{p}renaming?", absent=f"{p}done"),
        f"{p}renaming?": asl.choice([{"Variable": f"$.f.db.{kind.status_field}", "StringEquals": RENAMING,
                                      "Next": f"{p}wait"}], f"{p}done"),
        **asl.counter_states(p, step, f"{p}gone?", f"{p}late", poll),
        f"{p}done": asl.succeed(),
        f"{p}dormant": _fail(asl.FAILED_PRECONDITION, "{}: {} is stopped but not fenced: AWS starts it again by "
                             "itself after 7 days, and then it takes writes under its old endpoint. Start it, wait "
                             "until it is available, and run this again; or delete it if its data is not needed"),
        f"{p}unread": _fail(asl.FAILED_PRECONDITION, "{}: the writer {} could not be read, so nobody can tell "
                            "whether {} is stale; run again when both regions answer", "$.item.writer.id",
                            "$.item.id"),
        f"{p}unclear": _fail(asl.FAILED_PRECONDITION, "{}: {} and {} are not a writer and a stale copy: nobody "
                             "can tell which copy is the writer; drctl status shows them", "$.item.writer.id"),
        f"{p}current": _fail(asl.FAILED_PRECONDITION, "{}: {} is the current writer (generation not below the "
                             "other copy): a fence never touches it"),
        f"{p}late": _fail(asl.STEP_FAILED, "{}: {} not renamed away within the fence budget"),
    }


def stop_fenced(step: Step, sides: Sides, half: str) -> dict[str, asl.State]:
    """StopFenced: each candidate (this run's fenced id and the copies found fenced by tag at start) is read and
    stopped when it is tagged fenced for this database, serving, not renaming and has no replica link."""
    return _plain({kind: _stop_chain(kind, step, sides, half) for kind in KINDS}, "start")


def _stop_chain(kind: Kind, step: Step, sides: Sides, half: str) -> dict[str, asl.State]:
    p = kind.prefix
    replicas = "ReadReplicaIdentifiers" if kind is CLUSTER else "ReadReplicaDBInstanceIdentifiers"
    stop = "StopDBCluster" if kind is CLUSTER else "StopDBInstance"
    return {
        f"{p}start": asl.pass_state({"stop.$": run_value(half, "stop"), "k": 0,
                                     "role": {"Key": ROLE_TAG, "Value": "fenced-former-writer"},
                                     "db": {"Key": DATABASE_TAG, "Value.$": "$.item.db"}}, f"{p}count", "$.k"),
        f"{p}count": asl.pass_state({"stop.$": "$.k.stop", "k": 0, "n.$": "States.ArrayLength($.k.stop)",
                                     "role.$": "$.k.role", "db.$": "$.k.db"}, f"{p}more?", "$.k"),
        f"{p}more?": asl.choice([{"Variable": "$.k.k", "NumericGreaterThanEqualsPath": "$.k.n",
                                  "Next": f"{p}done"}], f"{p}pick"),
        f"{p}pick": asl.pass_state({"id.$": "States.ArrayGetItem($.k.stop, $.k.k)"}, f"{p}read", "$.cand"),
        f"{p}read": _read(kind, step, "$.cand.id", "$.c", at=sides.here, then=f"{p}replicas?", absent=f"{p}next"),
        f"{p}replicas?": asl.choice([{"Variable": f"$.c.db.{replicas}[0]", "IsPresent": True,
                                      "Next": f"{p}next"}], f"{p}facts"),
        f"{p}facts": asl.pass_state({"fenced.$": "States.ArrayContains($.c.db.TagList, $.k.role)",
                                     "mine.$": "States.ArrayContains($.c.db.TagList, $.k.db)"}, f"{p}stop?", "$.cf"),
        f"{p}stop?": asl.choice([
            _has_source(kind, "$.c.db", f"{p}next"),
            *_not_serving(kind, "$.c.db", NOT_SERVING | {RENAMING}, f"{p}next"),
            {"Variable": "$.cf.fenced", "BooleanEquals": False, "Next": f"{p}next"},
            {"Variable": "$.cf.mine", "BooleanEquals": False, "Next": f"{p}next"}], f"{p}stop"),
        f"{p}stop": asl.task("rds", stop, {f"{kind.id_param}.$": "$.cand.id"}, step=step, next_state=f"{p}next",
                             region=sides.here),
        f"{p}next": asl.pass_state({"stop.$": "$.k.stop", "k.$": "States.MathAdd($.k.k, 1)", "n.$": "$.k.n",
                                    "role.$": "$.k.role", "db.$": "$.k.db"}, f"{p}more?", "$.k"),
        f"{p}done": asl.succeed(),
    }


def create_replica(step: Step, sides: Sides, half: str, shapes: list[Shape], poll: float) -> dict[str, asl.State]:
    """CreateReplica: the current writer is read (a writer, with backups for an instance); the copy at the item's
    id is done when it replicates from that writer and is available, refused when it is something else, waited on
    while it is being created; absent, it is refused where the local check refuses it (an encrypted source without a
    KMS key for the region, an instance source without backups, an Aurora MySQL source in the other region without
    binary logging or whose writer has not applied it yet: dr/sfn/states_binlog.py), else created as the local step
    creates it (settings of the topology, the destination region's KMS key for an encrypted source), then waited on
    within the step's budget."""
    chains = {kind: _create_chain(kind, step, sides, half, [s for s in shapes if s.kind is kind], poll=poll)
              for kind in KINDS}
    return _plain(chains, "writer")


@dataclass(frozen=True)
class Shape:
    """One set of create arguments the topology gives some copies (`keys` of the item's `create`, `member` and
    `kms`): a Task can only name the parameters it passes, so each set has its own create states."""

    kind: Kind
    index: int
    create: tuple[str, ...]
    member: tuple[str, ...] = ()
    kms: bool = False


def _create_chain(kind: Kind, step: Step, sides: Sides, half: str, shapes: list[Shape], *,
                  poll: float) -> dict[str, asl.State]:
    p = kind.prefix
    source = "$.item.writer.arn"
    replica_of = {"Or": [{"Variable": f"$.here.db.{kind.source_field}", "StringEqualsPath": source},
                         {"Variable": f"$.here.db.{kind.source_field}", "StringEqualsPath": "$.item.writer.id"}]}
    routes: list[dict[str, Any]] = [{"And": [{"Variable": "$.item.shape", "NumericEquals": s.index},
                       {"Variable": "$.w.db.StorageEncrypted", "BooleanEquals": True}],
               "Next": f"{p}create{s.index}+kms"} for s in shapes if s.kms]
    routes += [{"Variable": "$.item.shape", "NumericEquals": s.index, "Next": f"{p}create{s.index}"} for s in shapes]
    # what AWS would refuse, as the local check says it (runbooks/steps/requirements.py)
    refusals: list[dict[str, Any]] = [{"And": [{"Variable": "$.w.db.StorageEncrypted", "BooleanEquals": True},
                                               {"Not": {"Variable": "$.item.kms", "IsPresent": True}}],
                                       "Next": f"{p}no-kms"}]
    if kind is INSTANCE:
        refusals.append({"Variable": "$.w.db.BackupRetentionPeriod", "NumericEquals": 0, "Next": f"{p}no-backups"})
    states: dict[str, asl.State] = {
        f"{p}writer": _read(kind, step, "$.item.writer.id", "$.w",
                            at=sides.writer, then=f"{p}writer?", absent=f"{p}no-writer"),
        f"{p}writer?": asl.choice([_has_source(kind, "$.w.db", f"{p}no-writer")], f"{p}read"),
        f"{p}read": _read(kind, step, "$.item.id", "$.here", at=sides.here, then=f"{p}mine?", absent=f"{p}absent"),
        f"{p}mine?": asl.choice([{"And": [replica_of, {"Variable": f"$.here.db.{kind.status_field}",
                                                       "StringEquals": "available"}], "Next": f"{p}done"},
                                 {**replica_of, "Next": f"{p}wait"}], f"{p}other"),
        f"{p}absent": asl.choice(refusals, f"{p}binlog?" if kind is CLUSTER else f"{p}shape?"),
        # a Choice needs a rule: a topology without copies of this kind has no create states for it
        f"{p}shape?": asl.choice(routes, f"{p}no-shape") if routes else asl.pass_state({}, f"{p}no-shape", "$.error"),
        f"{p}again": _read(kind, step, "$.item.id", "$.here", at=sides.here, then=f"{p}mine?", absent=f"{p}wait"),
        **asl.counter_states(p, step, f"{p}again", f"{p}late", poll),
        f"{p}done": asl.succeed(),
        f"{p}no-writer": _fail(asl.FAILED_PRECONDITION, "{}: {} cannot be created: {} is not a writer; nothing to "
                               "replicate", "$.item.writer.id"),
        f"{p}other": _fail(asl.FAILED_PRECONDITION, "{}: {} still exists and is not a replica of {}: fence it "
                           "first (drctl failback --phase reprotect)", "$.item.writer.id"),
        f"{p}no-shape": _fail(asl.STEP_FAILED, "{}: {}: no create states for this item (regenerate and deploy)"),
        f"{p}late": _fail(asl.STEP_FAILED, "{}: {} is not an available replica of {} within its budget",
                          "$.item.writer.id"),
    }
    states[f"{p}no-kms"] = _fail(asl.FAILED_PRECONDITION, "{}: cannot create {}: {} is encrypted and the replica "
                                 "goes to another region, where AWS needs a KMS key of that region: declare kms_key_id "
                                 "in the replica_settings of that region (or the copy's settings)", "$.item.writer.id")
    if kind is INSTANCE:
        states[f"{p}no-backups"] = _fail(asl.FAILED_PRECONDITION, "{}: cannot create {}: automated backups are off "
                                         "on the source {} (BackupRetentionPeriod 0) and AWS creates a read replica "
                                         "only from a source with backups", "$.item.writer.id")
    if kind is CLUSTER:
        states.update(binlog_states(step, sides.writer, then=f"{p}shape?"))
    for shape in shapes:
        for kms in ((False, True) if shape.kms else (False,)):
            states.update(_create_states(kind, step, sides, half, shape, kms=kms))
    return states


def _create_states(kind: Kind, step: Step, sides: Sides, half: str, shape: Shape, *, kms: bool) -> dict[str, asl.State]:
    p, name = kind.prefix, f"{kind.prefix}create{shape.index}{'+kms' if kms else ''}"
    tags = [{"Key": ROLE_TAG, "Value": "replica"}, {"Key": "drctl:created-by-run", "Value.$": "$.run.run_id"}]
    params: dict[str, Any] = {key + ".$": f"$.item.create.{key}" for key in shape.create}
    params.update({"SourceRegion.$": "$.item.writer.region", "Tags": tags})
    if kms:
        params["KmsKeyId.$"] = "$.item.kms"
    if kind is INSTANCE:
        params.update({"DBInstanceIdentifier.$": "$.item.id", "SourceDBInstanceIdentifier.$": "$.item.writer.arn"})
        return {name: asl.task("rds", "CreateDBInstanceReadReplica", params, step=step, next_state=f"{p}again",
                               region=sides.here)}
    params.update({"DBClusterIdentifier.$": "$.item.id", "Engine.$": "$.w.db.Engine",
                   "ReplicationSourceIdentifier.$": "$.item.writer.arn"})
    member: dict[str, Any] = {key + ".$": f"$.item.member.{key}" for key in shape.member}
    member.update({"DBInstanceIdentifier.$": run_value(half, "member"), "DBClusterIdentifier.$": "$.item.id",
                   "Engine.$": "$.w.db.Engine", "Tags": tags})
    states = {name: asl.task("rds", "CreateDBCluster", params, step=step, next_state=f"{name}/class?",
                             region=sides.here)}
    if "DBInstanceClass" in shape.member:
        states[f"{name}/class?"] = asl.pass_state({}, f"{name}/member", "$.error")
    else:  # as AWS does for an instance replica: the class of the source's first member
        member["DBInstanceClass.$"] = "$.cls.value"
        states[f"{name}/class?"] = asl.task(
            "rds", "DescribeDBInstances",
            {"DBInstanceIdentifier.$": "$.w.db.DBClusterMembers[0].DBInstanceIdentifier"}, step=step,
            next_state=f"{name}/member", result_path="$.cls", selector={"value.$": "$.DBInstances[0].DBInstanceClass"},
            region=sides.writer)
    states[f"{name}/member"] = asl.task("rds", "CreateDBInstance", member, step=step, next_state=f"{p}again",
                                        region=sides.here)
    return states


def rejoin_global(step: Step, sides: Sides, poll: float) -> dict[str, asl.State]:
    """RejoinGlobal: the copy at the item's id is a secondary (a reader member) of the global cluster; waited on
    within the step's budget (AWS re-adds a former writer by itself when its region recovers)."""
    readers = "$.glob.g.GlobalClusterMembers[?(@.IsWriter==false)].DBClusterArn"
    return {
        "global?": asl.choice([{"Variable": "$.item.kind", "StringEquals": "global", "Next": "member"}], "skip"),
        "skip": asl.succeed(),
        "member": asl.task("rds", "DescribeDBClusters", {"DBClusterIdentifier.$": "$.item.id"}, step=step,
                           next_state="read", result_path="$.member",
                           selector={"arn.$": "$.DBClusters[0].DBClusterArn"}, region=sides.here),
        "read": asl.task("rds", "DescribeGlobalClusters", {"GlobalClusterIdentifier.$": "$.item.global"}, step=step,
                         next_state="readers", result_path="$.glob", selector={"g.$": "$.GlobalClusters[0]"}),
        "readers": asl.pass_state({"arns.$": readers}, "mine", "$.readers"),
        "mine": asl.pass_state({"value.$": "States.ArrayContains($.readers.arns, $.member.arn)"}, "done?", "$.mine"),
        "done?": asl.choice([{"Variable": "$.mine.value", "BooleanEquals": True, "Next": "done"}], "wait"),
        **asl.counter_states("", step, "member", "late", poll),
        "done": asl.succeed(),
        "late": _fail(asl.STEP_FAILED, "{}: {} is not a secondary of {}: AWS re-adds a former writer when its region "
                      "recovers; if it stays detached, rename it and add a new secondary cluster under this id",
                      "$.item.global"),
    }


def wait_replicating(step: Step, sides: Sides, poll: float) -> dict[str, asl.State]:
    """WaitReplicating: the copy's lag datapoints since the run started (two minutes before drctl started it) are
    read and judged by the caller's `fresh-lag` check at its own time, by the local step's rule (dr/checks/lag.py
    `rpo_verdict`): the newest present, not -1, at most five minutes old and within the RPO; read again every
    poll within the step's budget."""
    query = [{"Id": "lag", "ReturnData": True, "MetricStat": {
        "Metric": {"Namespace.$": "$.item.metric.namespace", "MetricName.$": "$.item.metric.name",
                   "Dimensions.$": "$.item.metric.dimensions"}, "Period": 60, "Stat": "Maximum"}}]
    params = {"MetricDataQueries": query, "StartTime.$": "$.run.lag_since", "EndTime.$": "$$.State.EnteredTime",
              "ScanBy": "TimestampDescending"}
    judge = {"check": "fresh-lag", "timestamps.$": "$.lag.t", "values.$": "$.lag.v",
             "threshold.$": "$.item.threshold", "to_seconds.$": "$.item.metric.to_seconds",
             "max_age_seconds": DEFAULT_MAX_AGE_SECONDS}
    return {
        "read": asl.task("cloudwatch", "GetMetricData", params, step=step, next_state="judge", result_path="$.lag",
                         selector={"t.$": "$.MetricDataResults[0].Timestamps", "v.$": "$.MetricDataResults[0].Values"},
                         region=sides.here),
        "judge": asl.invoke_caller(judge, step=step, next_state="fresh?", result_path="$.verdict",
                                   selector={"ok.$": "$.fresh", "detail.$": "$.detail"}),
        "fresh?": asl.choice([{"Variable": "$.verdict.ok", "BooleanEquals": True, "Next": "ok"}], "wait"),
        **asl.counter_states("", step, "read", "late", poll),
        "ok": asl.succeed(),
        "late": _fail(asl.STEP_FAILED, "{}: {} does not replicate within the RPO within its budget: {}",
                      "$.verdict.detail"),
    }
