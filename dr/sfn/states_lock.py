"""The run lock inside a state machine: its first states let one execution per environment pair proceed.

Two executions of drctl's machines for one pair (started by two operators, or one from the console) must not
both move it. Right after the plan, each execution lists the RUNNING executions of its own machine and of the
pair's sibling machines in the same account and region (`aws-sdk:sfn:listExecutions`, StatusFilter RUNNING) and
fails with `DR.Locked` (the follower's exit 3) when another one started before it (`StartDate` earlier, or
equal and its name sorts first): of executions running at once exactly one proceeds, the earliest.

AWS (Step Functions API Reference, "ListExecutions"): results are sorted by time, most recent first, and the
operation is eventually consistent ("may not reflect very recent updates"): two executions started within the
same instant can, rarely, miss each other. Only the `RUNNING_LIMIT` newest running executions of a machine are
compared. Parameters in PascalCase (Developer Guide, "Learning to use AWS service SDK integrations"); the
execution's own ARN, name and start from the Context object (`$$.Execution`, Developer Guide, "Accessing
execution data from the Context object"); timestamps compared by the Choice state's `TimestampLessThanPath`.
"""

from __future__ import annotations

from typing import Any

from dr.sfn import asl

LOCKED = "DR.Locked"
"""Error of the Fail state when another execution of the pair holds the lock: the follower exits 3."""
RUNNING_LIMIT = 20
"""ListExecutions MaxResults: the newest running executions compared (concurrent starts on one pair beyond this
are not serialised); also the quota walker's bound on the lock's Map (dr/sfn/quotas.py)."""
RUNNING_PATH = "$.lock.running"
ITEMS_BOUND = {RUNNING_PATH: RUNNING_LIMIT}
"""Runtime lists a Map iterates that the plan does not hold, with the most items they can have."""
NOT_DEPLOYED = "Sfn.StateMachineDoesNotExistException"
RETRY = [{"ErrorEquals": ["Sfn.ThrottlingException", "Sfn.ServiceUnavailableException", "Sfn.InternalFailureException"],
          "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 2.0}]


def lock_states(machines: list[str], next_state: str) -> tuple[str, dict[str, asl.State]]:
    """(first state, states) checking each machine ARN in turn, then going to `next_state`; a machine that is not
    deployed (a sibling of another runbook or direction) has nothing running."""
    names = [f"lock:{n}" for n in range(len(machines))]
    states: dict[str, asl.State] = {
        # `parent`: the execution that started this one (a failback part, dr/sfn/generate_failback.py), still
        # RUNNING for a moment after its last state started this one: never a holder of the lock against it
        "lock:parent?": asl.choice([{"Variable": "$.parent", "IsPresent": True, "Next": names[0]}],
                                   "lock:no-parent"),
        "lock:no-parent": {"Type": "Pass", "Result": "", "ResultPath": "$.parent", "Next": names[0]},
    }
    for n, arn in enumerate(machines):
        after = names[n + 1] if n + 1 < len(machines) else next_state
        states.update(_machine(names[n], arn, after))
    return "lock:parent?", states


def _machine(name: str, arn: str, after: str) -> dict[str, asl.State]:
    check = f"{name}/check"
    listing: asl.State = {
        "Type": "Task", "Resource": asl.sdk_resource("sfn", "ListExecutions"),
        "Parameters": {"StateMachineArn": arn, "StatusFilter": "RUNNING", "MaxResults": RUNNING_LIMIT},
        "ResultSelector": {"running.$": "$.Executions"}, "ResultPath": "$.lock", "Retry": RETRY,
        "Catch": [{"ErrorEquals": [NOT_DEPLOYED], "ResultPath": None, "Next": after}], "Next": check,
        "Comment": f"the running executions of {arn.rsplit(':', 1)[-1]}"}
    me = {"arn.$": "$$.Execution.Id", "name.$": "$$.Execution.Name", "start.$": "$$.Execution.StartTime",
          "parent.$": "$.parent"}
    other = {"arn.$": "$$.Map.Item.Value.ExecutionArn", "name.$": "$$.Map.Item.Value.Name",
             "start.$": "$$.Map.Item.Value.StartDate", "me": me}
    inner, start = asl.scoped(f"{name}/", _iteration(), "first?")
    check_map: asl.State = {
        "Type": "Map", "ItemsPath": RUNNING_PATH, "ItemSelector": other, "MaxConcurrency": 1,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": start, "States": inner},
        "ResultSelector": {"free": True}, "ResultPath": "$.lock", "Next": after,
        "Comment": "fails with DR.Locked when a running execution of the pair started before this one"}
    return {name: listing, check: check_map}


def _iteration() -> dict[str, asl.State]:
    """One running execution against this one: itself, its parent (the failback part that started it), or one
    started later is free; earlier (or as early with a name that sorts first) holds the lock."""
    cause = ("States.Format('execution {} of this environment pair is running and started first ({}): this "
             "execution stops before changing anything. Follow the running one with `drctl runs show {}`', "
             "$.arn, $.start, $.name)")
    return {
        "first?": asl.choice([
            {"Variable": "$.arn", "StringEqualsPath": "$.me.arn", "Next": "free"},
            {"Variable": "$.arn", "StringEqualsPath": "$.me.parent", "Next": "free"},
            {"Variable": "$.start", "TimestampLessThanPath": "$.me.start", "Next": "locked"},
            {"And": [{"Variable": "$.start", "TimestampEqualsPath": "$.me.start"},
                     {"Variable": "$.name", "StringLessThanPath": "$.me.name"}], "Next": "locked"}], "free"),
        "locked": {"Type": "Fail", "Error": LOCKED, "CausePath": cause},
        "free": asl.succeed(),
    }


def siblings(topology: Any, source: str, target: str, home: tuple[str, str], runbooks: list[str]) -> list[str]:
    """Names of the pair's machines (every runbook, both directions) that live in `home` (account, region)."""
    from dr.sfn import naming

    return [naming.machine_name(runbook, a, b) for a, b in ((source, target), (target, source))
            if machine_home(topology, a, b) == home for runbook in runbooks]


def machine_home(topology: Any, source: str, target: str) -> tuple[str, str]:
    """(account, region) of the machines moving source -> target: where the copies they promote are (the
    generator's rule, dr.sfn.generate.home_of); reads nothing in AWS."""
    from dr.aws.factory import ClientFactory
    from dr.clock import SYSTEM_CLOCK
    from dr.engine.step import RunContext, RunOptions
    from dr.sfn.generate import home_of
    from runbooks.steps._common import moves

    ctx = RunContext(topology=topology, clients=ClientFactory(topology, run_id="sfn-home"), clock=SYSTEM_CLOCK,
                     run_id="sfn-home", runbook="failover", source=source, target=target,
                     options=RunOptions(dry_run=True, planned=False))
    return home_of(ctx, moves(ctx))


def machine_arns(names: list[str], own: str, account: str, region: str) -> list[str]:
    """ARNs to list, its own machine first."""
    ordered = [own, *sorted(n for n in set(names) if n != own)]
    return [f"arn:aws:states:{region}:{account}:stateMachine:{n}" for n in ordered]


def listed_machines(asl_doc: dict[str, Any]) -> list[str]:
    """The machine ARNs the lock states list (the execution role's `states:ListExecutions` resources)."""
    return [str(state["Parameters"]["StateMachineArn"]) for state in asl_doc.get("States", {}).values()
            if state.get("Resource") == asl.sdk_resource("sfn", "ListExecutions")]
