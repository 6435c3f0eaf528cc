"""The planned part of a move, each a Map over the databases that are not Aurora global (a global database's
switchover fences and catches up by itself): the fence of every source writer in the source region, then the
wait until each replica has applied everything. Source-region calls go through drctl's caller (dr/sfn/remote);
judging lag datapoints is the caller's `caught-up` check (a timestamp computation ASL cannot express).

The local steps (runbooks/steps/fence.py, catch_up.py), state by state: the source is read first; one that takes
no writes (renamed away, a replica, not serving) is done; else it is tagged and renamed to the run's fenced id
(`fenced_ids` in the execution input, the local step's `fenced_id`), then read until the old id is gone and the
renamed copy is past `renaming`. The catch-up reads the replica's lag from when it began (later than the fence,
as the local step dates a fence it did not journal), until the check finds the engine's proof.

After an unplanned move (`left_behind`, the local `fence-old-writer:<db>`, runbooks/steps/fence.py
`FenceLeftBehind`): the same chain, best effort, in a branch beside DNS and confirm. The failed region hangs or
errors in a real outage and the move needs nothing from it, so every caller Task is bounded (`TimeoutSeconds`: the
step's budget shared by its attempts; Step Functions Developer Guide, "Using timeouts to avoid stuck Step Functions
workflow executions": without it a Task waits for an answer that never comes. `HeartbeatSeconds` is for activities
and callback tasks, which a request-response Lambda invoke is not), retried as the step's attempts allow, and
caught: no answer ends the iteration `skipped`, any other error `failed` (what the local step reports under its
CONTINUE policy), each with the local step's "NOT fenced ... split brain" text, and the execution goes on.
"""

from __future__ import annotations

import math
from typing import Any

from dr.aws.lineage import DATABASE_TAG, FENCE_HOW_TAG, FENCED_TAG, ROLE_TAG
from dr.engine.step import Step
from dr.sfn import asl
from dr.sfn.states_rds import KINDS, Kind, by_kind, item_map

NOT_SERVING = ("stopped", "stopping", "deleting", "inaccessible-encryption-credentials")
SOURCE_REGION = "$.item.source.region"
UNANSWERED = ("States.Timeout", "Rds.SdkClientException")
"""A source region that does not answer, as a caller Task sees it: the Task's own bound expired, or the caller's
connection failed (dr/sfn/remote/handler.py names that `<prefix>.SdkClientException`)."""
LEFT_BEHIND = "fence-old-writer"
"""The Map of the unplanned move's fences; its iterations are the local steps `fence-old-writer:<db>`."""
OUTCOME = "outcome"
"""Where an iteration that could not fence ends (`fence-old-writer/outcome`): its input's `outcome` holds the step,
its status and detail (the follower, dr/sfn/follow.py, reports them)."""


def fences(step: Step, poll: float) -> dict[str, asl.State]:
    return by_kind({kind: _fence_chain(kind, step, poll) for kind in KINDS}, "fid")


def _read(kind: Kind, step: Step, *, id_path: str, result: str, next_state: str, on_missing: str) -> asl.State:
    return asl.task("rds", kind.describe, {f"{kind.id_param}.$": id_path}, step=step, next_state=next_state,
                    result_path=result, selector={"db.$": f"$.{kind.listing}[0]"}, region=SOURCE_REGION,
                    catch=[{"ErrorEquals": [kind.missing], "ResultPath": None, "Next": on_missing}])


def _fence_chain(kind: Kind, step: Step, poll: float) -> dict[str, asl.State]:
    p = kind.prefix
    tags = [{"Key": FENCED_TAG, "Value.$": "$.run.run_id"}, {"Key": FENCE_HOW_TAG, "Value": "renamed"},
            {"Key": DATABASE_TAG, "Value.$": "$.item.db"}, {"Key": ROLE_TAG, "Value": "fenced-former-writer"}]
    serving = [{"Variable": f"$.src.db.{kind.status_field}", "StringEquals": s, "Next": f"{p}done"}
               for s in NOT_SERVING]
    rename = {f"{kind.id_param}.$": "$.item.source.id", f"{kind.new_id_param}.$": "$.fid.value",
              "ApplyImmediately": True}
    return {
        f"{p}fid": asl.pass_state({"value.$": "States.ArrayGetItem($.run.fenced_ids, $.item.n)"}, f"{p}read",
                                  "$.fid"),
        f"{p}read": _read(kind, step, id_path="$.item.source.id", result="$.src", next_state=f"{p}writable?",
                             on_missing=f"{p}renamed"),
        f"{p}writable?": asl.choice([{"Variable": f"$.src.db.{kind.source_field}", "IsPresent": True,
                                      "Next": f"{p}done"}, *serving], f"{p}tag"),
        f"{p}tag": asl.task("rds", "AddTagsToResource", {"ResourceName.$": f"$.src.db.{kind.arn_field}",
                                                         "Tags": tags}, step=step, next_state=f"{p}rename",
                            region=SOURCE_REGION),
        # a rename whose answer was lost but which took effect leaves no copy at the old id: read the renamed one
        f"{p}rename": asl.task("rds", kind.modify, rename, step=step, next_state=f"{p}renamed",
                               region=SOURCE_REGION, catch=[{"ErrorEquals": [kind.missing], "ResultPath": None,
                                                             "Next": f"{p}renamed"}]),
        f"{p}renamed": _read(kind, step, id_path="$.fid.value", result="$.fenced", next_state=f"{p}rebooted?",
                                on_missing=f"{p}old-gone"),
        f"{p}rebooted?": asl.choice([{"Variable": f"$.fenced.db.{kind.status_field}", "StringEquals": "renaming",
                                      "Next": f"{p}wait"}], f"{p}old-gone"),
        f"{p}old-gone": _read(kind, step, id_path="$.item.source.id", result="$.src", next_state=f"{p}wait",
                                 on_missing=f"{p}done"),
        **asl.counter_states(p, step, f"{p}renamed", f"{p}late", poll),
        f"{p}done": asl.succeed(),
        f"{p}late": {"Type": "Fail", "Error": asl.STEP_FAILED, "CausePath": (
            f"States.Format('{{}}: {{}} is not renamed away within {step.budget:g}s', $.item.db, "
            "$.item.source.id)")},
    }


def attempt_seconds(step: Step) -> int:
    """How long one attempt of a best-effort Task may take: the step's budget shared by its attempts."""
    return max(1, math.ceil(step.budget / max(1, step.max_attempts)))


def left_behind(step: Step, poll: float) -> dict[str, asl.State]:
    """One iteration of the unplanned move's fence (`item.left_behind`: the local step's name and its NOT-fenced
    text): the planned fence's chain with every Task bounded and caught, its budget expiry an outcome too. The local
    step's refusal to fence the current writer needs no read here: the branch starts only after every promotion
    ended with the DR copy the standalone writer of this run's generation, so a writable former writer is stale."""
    chains = {}
    for kind in KINDS:
        chain = _fence_chain(kind, step, poll)
        for state in chain.values():
            if state["Type"] == "Task":
                _best_effort(state, attempt_seconds(step))
        chain[f"{kind.prefix}late"] = asl.pass_state({"Error": asl.STEP_FAILED, "Cause.$": (
            f"States.Format('{{}} is not renamed away within {step.budget:g}s', $.item.source.id)")}, "failed",
            "$.error")
        chains[kind] = chain
    said = {"step.$": "$.item.left_behind.step"}
    return {
        **by_kind(chains, "fid"),
        "unanswered": asl.pass_state({**said, "status": "skipped", "detail.$": (
            "States.Format('{} (no answer: {})', $.item.left_behind.unfenced, $.error.Error)")}, OUTCOME,
            "$.outcome"),
        "failed": asl.pass_state({**said, "status": "failed", "detail.$": (
            "States.Format('{}: {}; {}', $.error.Error, $.error.Cause, $.item.left_behind.unfenced)")}, OUTCOME,
            "$.outcome"),
        OUTCOME: asl.succeed(),
    }


def _best_effort(task: asl.State, seconds: int) -> None:
    """`task` bounded to `seconds` an attempt, retried also when the region does not answer, and caught: no answer
    goes to `unanswered`, anything else to `failed` (after the chain's own catches of a missing copy)."""
    task["TimeoutSeconds"] = seconds
    task["Retry"][0]["ErrorEquals"] = [*task["Retry"][0]["ErrorEquals"], *UNANSWERED]
    task["Catch"] = [*task.get("Catch", []),
                     {"ErrorEquals": list(UNANSWERED), "ResultPath": "$.error", "Next": "unanswered"},
                     {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "failed"}]


def left_behind_branch(step: Step, poll: float, count: int) -> dict[str, Any]:
    """The branch beside DNS and confirm: nothing on a planned execution (its sources were fenced before the
    promotions); else the Map over the plain databases, caught as a whole too (an error outside its Tasks)."""
    states = left_behind(step, poll)
    fence = item_map(LEFT_BEHIND, states, next(iter(states)), "plain", count)
    fence.update({"End": True, "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.left_behind_error",
                                          "Next": f"{LEFT_BEHIND}!unfinished"}]})
    return {"StartAt": f"{LEFT_BEHIND}?", "States": {
        f"{LEFT_BEHIND}?": asl.choice([{"Variable": "$.planned", "BooleanEquals": True,
                                        "Next": f"{LEFT_BEHIND}!planned"}], LEFT_BEHIND),
        LEFT_BEHIND: fence,
        f"{LEFT_BEHIND}!planned": asl.succeed(),
        f"{LEFT_BEHIND}!unfinished": asl.succeed(),
    }}


def catch_ups(step: Step, poll: float) -> dict[str, asl.State]:
    return by_kind({kind: _catch_up_chain(kind, step, poll) for kind in KINDS}, "since")


def _catch_up_chain(kind: Kind, step: Step, poll: float) -> dict[str, asl.State]:
    p = kind.prefix
    query = [{"Id": "lag", "ReturnData": True, "MetricStat": {
        "Metric": {"Namespace.$": "$.item.metric.namespace", "MetricName.$": "$.item.metric.name",
                   "Dimensions.$": "$.item.metric.dimensions"}, "Period": 60, "Stat": "Maximum"}}]
    params = {"MetricDataQueries": query, "StartTime.$": "$.since.at", "EndTime.$": "$.run.catch_up_until",
              "ScanBy": "TimestampAscending"}
    judge: dict[str, Any] = {"check": "caught-up", "since.$": "$.since.at", "engine.$": "$.replica.db.Engine",
                             "to_seconds.$": "$.item.metric.to_seconds", "timestamps.$": "$.lag.t",
                             "values.$": "$.lag.v"}
    return {
        f"{p}since": asl.pass_state({"at.$": "$$.State.EnteredTime"}, f"{p}replica", "$.since"),
        f"{p}replica": asl.task("rds", kind.describe, {f"{kind.id_param}.$": "$.item.id"}, step=step,
                                next_state=f"{p}replica?", result_path="$.replica",
                                selector={"db.$": f"$.{kind.listing}[0]"}),
        # a copy that replicates from nothing any more was promoted by an earlier run: nothing to catch up
        f"{p}replica?": asl.choice([{"Not": {"Variable": f"$.replica.db.{kind.source_field}", "IsPresent": True},
                                     "Next": f"{p}done"}], f"{p}read"),
        f"{p}read": asl.task("cloudwatch", "GetMetricData", params, step=step, next_state=f"{p}judge",
                             result_path="$.lag", selector={"t.$": "$.MetricDataResults[0].Timestamps",
                                                            "v.$": "$.MetricDataResults[0].Values"}),
        f"{p}judge": asl.invoke_caller(judge, step=step, next_state=f"{p}caught?", result_path="$.verdict",
                                       selector={"ok.$": "$.caught_up", "broken.$": "$.broken",
                                                 "detail.$": "$.detail"}),
        f"{p}caught?": asl.choice([{"Variable": "$.verdict.broken", "BooleanEquals": True, "Next": f"{p}broken"},
                                   {"Variable": "$.verdict.ok", "BooleanEquals": True, "Next": f"{p}done"}],
                                  f"{p}wait"),
        **asl.counter_states(p, step, f"{p}read", f"{p}late", poll),
        f"{p}done": asl.succeed(),
        f"{p}broken": {"Type": "Fail", "Error": asl.STEP_FAILED, "CausePath": (
            "States.Format('{}: {}: it cannot catch up. The source stays fenced; to move anyway, run the failover "
            "again with --unplanned --accept-data-loss (writes not yet replicated are lost)', $.item.db, "
            "$.verdict.detail)")},
        f"{p}late": {"Type": "Fail", "Error": asl.STEP_FAILED, "CausePath": (
            f"States.Format('{{}}: not caught up within {step.budget:g}s: {{}}', $.item.db, $.verdict.detail)")},
    }

