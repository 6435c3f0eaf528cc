"""The ARC part of the state machine: one branch per cluster of arc-routing-control records, its calls through
drctl's caller on the cluster's own regional endpoints (tried in turn), which SDK integrations cannot address.

As the local step (runbooks/steps/dns_arc.py): each control is read first (GetRoutingControlState); when every one
is already in the wanted state (a redrive, a second execution) nothing is sent. Otherwise one
UpdateRoutingControlStates with every entry (target On, source Off), so the cluster judges its safety rules on the
whole transaction; then each control is read until it is the wanted one, within the step's budget. A safety rule's
refusal (`ConflictException`) fails the step saying so.
"""

from __future__ import annotations

from typing import Any

from dr.sfn import asl

SERVICE = "route53-recovery-cluster"
READ_CONCURRENCY = 4


def cluster_branch(step: Any, index: int, wanted: dict[str, str], endpoints: list[dict[str, str]], *,
                   role: str | None, poll: float) -> dict[str, Any]:
    """The branch of one cluster (`step` its ArcSwitch, `index` its place in the plan's `arc`): states named
    `dns:arc-<cluster>/...`."""
    entries = [{"RoutingControlArn": arn, "RoutingControlState": state} for arn, state in wanted.items()]
    refused = [{"ErrorEquals": ["Route53RecoveryCluster.ConflictException"], "ResultPath": "$.error",
                "Next": "refused"}]
    states: dict[str, asl.State] = {
        "check": _read_all(step, index, endpoints, role),
        "any?": asl.pass_state({"differs.$": "States.ArrayContains($.current, 'differs')"}, "differs?", "$.any"),
        "differs?": asl.choice([{"Variable": "$.any.differs", "BooleanEquals": True, "Next": "update"}], "done"),
        "update": asl.task(SERVICE, "UpdateRoutingControlStates", {"UpdateRoutingControlStateEntries": entries},
                           step=step, next_state="verify", endpoint_url=endpoints, credentials=role, catch=refused),
        "verify": _verify(step, index, endpoints, role, poll),
        "refused": {"Type": "Fail", "Error": asl.STEP_FAILED, "CausePath": (
            "States.Format('the cluster refused the routing control update (a safety rule): {}; nothing changed. "
            "Correct the routing control states or the rule, or override it by hand (SafetyRulesToOverride)', "
            "$.error.Cause)")},
        "done": asl.succeed(),
    }
    scoped, start = asl.scoped(f"{step.name}/", states, "check")
    return {"StartAt": start, "States": scoped}


def _read(step: Any, endpoints: list[dict[str, str]], role: str | None, next_state: str) -> asl.State:
    return asl.task(SERVICE, "GetRoutingControlState", {"RoutingControlArn.$": "$.item.arn"}, step=step,
                    next_state=next_state, result_path="$.got", selector={"state.$": "$.RoutingControlState"},
                    endpoint_url=endpoints, credentials=role)


def _read_all(step: Any, index: int, endpoints: list[dict[str, str]], role: str | None) -> asl.State:
    """Before acting (the local step's is-done): each control read; `$.current` lists `same` / `differs`."""
    inner: dict[str, asl.State] = {
        "read": _read(step, endpoints, role, "same?"),
        "same?": asl.choice([{"Variable": "$.got.state", "StringEqualsPath": "$.item.state", "Next": "same"}],
                            "differs"),
        "same": {"Type": "Pass", "Result": "same", "End": True},
        "differs": {"Type": "Pass", "Result": "differs", "End": True},
    }
    return _map(step, index, "current", inner, result="$.current", after="any?")


def _verify(step: Any, index: int, endpoints: list[dict[str, str]], role: str | None, poll: float) -> asl.State:
    """After the update: each control read until it is the wanted one."""
    inner: dict[str, asl.State] = {
        "read": _read(step, endpoints, role, "same?"),
        "same?": asl.choice([{"Variable": "$.got.state", "StringEqualsPath": "$.item.state", "Next": "ok"}], "wait"),
        **asl.counter_states("", step, "read", "late", poll),
        "ok": asl.succeed(),
        "late": {"Type": "Fail", "Error": asl.STEP_FAILED, "CausePath": (
            f"States.Format('routing control {{}} is {{}}, not {{}}, {step.budget:g}s after the update', "
            "$.item.arn, $.got.state, $.item.state)")},
    }
    return _map(step, index, "control", inner, result=None, after="done")


def _map(step: Any, index: int, name: str, inner: dict[str, asl.State], *, result: str | None,
         after: str) -> asl.State:
    scoped, start = asl.scoped(f"{step.name}/{name}/", inner, "read")
    return {"Type": "Map", "ItemsPath": f"$.plan.arc[{index}]",
            "ItemSelector": {"item.$": "$$.Map.Item.Value", "polls": {"n": 0}},
            "MaxConcurrency": READ_CONCURRENCY, "ResultPath": result, "Next": after,
            "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": start, "States": scoped}}
