"""Small builders of Amazon States Language states (JSONPath mode) and the retry policy derived from a step.

Parameter and error names: AWS's SDK integrations take the API reference's PascalCase member names
(`DBInstanceIdentifier`) and name errors `Service.ErrorNameException` (Step Functions Developer Guide, "Learning to
use AWS service SDK integrations"). One mapping of service names lives here (`SERVICE_ERROR_PREFIX`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from dr.engine.step import Step
from dr.sfn.remote import CALLER_PLACEHOLDER, LAMBDA_TRANSIENT
from dr.sfn.remote.calls import LAMBDA_INVOKE

State = dict[str, Any]

SERVICE_ERROR_PREFIX = {"rds": "Rds", "route53": "Route53", "cloudwatch": "CloudWatch", "sfn": "Sfn",
                        "route53-recovery-cluster": "Route53RecoveryCluster"}
TRANSIENT = ("ThrottlingException", "ServiceUnavailableException", "InternalFailureException",
             "RequestLimitExceededException")
"""Errors worth retrying, as the local engine's `call` retries throttling and 5xx."""
EXTRA_TRANSIENT = {"route53": ("PriorRequestNotCompleteException",)}
FAILED_PRECONDITION = "DR.PreconditionFailed"
GATE_REFUSED = "DR.GateRefused"
STEP_FAILED = "DR.StepFailed"
"""Error names of the Fail states drctl generates: the follower maps them to exit codes 3, 3 and 1."""


def sdk_resource(service: str, action: str) -> str:
    """`arn:aws:states:::aws-sdk:rds:promoteReadReplica` for ("rds", "PromoteReadReplica")."""
    return f"arn:aws:states:::aws-sdk:{service}:{action[0].lower()}{action[1:]}"


def retry_for(step: Step, service: str) -> list[dict[str, Any]]:
    """The step's retry policy on transient errors: its attempts, its poll interval as the first wait, doubling up
    to its longest poll (the local engine's policy for the same step)."""
    prefix = SERVICE_ERROR_PREFIX[service]
    names = [f"{prefix}.{name}" for name in (*TRANSIENT, *EXTRA_TRANSIENT.get(service, ()))]
    return [{"ErrorEquals": names, "IntervalSeconds": max(1, math.ceil(step.poll_initial)),
             "MaxAttempts": max(1, step.max_attempts - 1), "BackoffRate": 2.0,
             "MaxDelaySeconds": max(1, math.ceil(step.poll_max) * 4)}]


def task(service: str, action: str, parameters: dict[str, Any], *, step: Step, next_state: str | None,
         result_path: str | None = None, selector: dict[str, Any] | None = None,
         credentials: str | None = None, catch: list[dict[str, Any]] | None = None,
         region: str | None = None, endpoint_url: str | Sequence[Mapping[str, str]] | None = None) -> State:
    """A Task calling `service`'s `action`; `credentials`: a role ARN to act as in another account.

    With neither `region` nor `endpoint_url`: an SDK-integration Task (the state machine's own region; the role in
    a Task `Credentials` field). With `region` (another region, or a JSONPath `$...` to one) or `endpoint_url` (a
    URL, or an ARC cluster's endpoints `[{"region", "url"}]` tried in turn): a Lambda invoke of drctl's caller
    (dr/sfn/remote), which makes the call there (assuming `credentials` itself). Either way the result lands at
    `result_path` through `selector`, and Retry/Catch see the same error names (`Rds.ThrottlingException`).
    """
    if region is None and endpoint_url is None:
        state: State = {"Type": "Task", "Resource": sdk_resource(service, action), "Parameters": parameters,
                        "ResultPath": result_path, "Retry": retry_for(step, service)}
        if selector is not None:
            state["ResultSelector"] = selector
        if credentials:
            state["Credentials"] = {"RoleArn": credentials}
    else:
        state = _remote(service, action, parameters, step=step, result_path=result_path, selector=selector,
                        role=credentials, region=region, endpoint_url=endpoint_url)
    if catch:
        state["Catch"] = catch
    return _then(state, next_state)


_ROOT = re.compile(r"(?<![$\w])\$(?=[.\[]|$)")


def _remote(service: str, action: str, parameters: dict[str, Any], *, step: Step, result_path: str | None,
            selector: dict[str, Any] | None, role: str | None, region: str | None,
            endpoint_url: str | Sequence[Mapping[str, str]] | None) -> State:
    """The Lambda invoke of drctl's caller for one call (its payload: dr/sfn/remote/handler.py). The function's
    answer is the invoke result's `Payload`, so the selector's paths are read under `$.Payload`."""
    if selector is None and result_path is not None:
        raise ValueError(f"{service}:{action} through the caller needs a selector to place its result at "
                         f"{result_path} (the invoke result wraps it in Payload)")
    payload: dict[str, Any] = {"service": service, "action": action, "error_prefix": SERVICE_ERROR_PREFIX[service],
                               "parameters": parameters}
    if region is not None:
        payload["region.$" if region.startswith("$") else "region"] = region
    if isinstance(endpoint_url, str):
        payload["endpoints"] = [{"url": endpoint_url, **({"region": region} if region and
                                                         not region.startswith("$") else {})}]
    elif endpoint_url is not None:
        payload["endpoints"] = [dict(e) for e in endpoint_url]
    if role:
        payload["role_arn"] = role
    retry = retry_for(step, service)
    retry[0]["ErrorEquals"] = [*retry[0]["ErrorEquals"], *LAMBDA_TRANSIENT]
    state: State = {"Type": "Task", "Resource": LAMBDA_INVOKE, "ResultPath": result_path, "Retry": retry,
                    "Parameters": {"FunctionName": CALLER_PLACEHOLDER, "Payload": payload}}
    if selector is not None:
        state["ResultSelector"] = _under_payload(selector)
    return state


def invoke_caller(payload: dict[str, Any], *, step: Step, next_state: str | None, result_path: str,
                  selector: dict[str, Any]) -> State:
    """A Lambda invoke of drctl's caller that calls no AWS API: a check ASL cannot compute (`payload["check"]`);
    `selector` reads the function's answer (its paths under `$`, as for `task`)."""
    retry = [{"ErrorEquals": list(LAMBDA_TRANSIENT), "IntervalSeconds": max(1, math.ceil(step.poll_initial)),
              "MaxAttempts": max(1, step.max_attempts - 1), "BackoffRate": 2.0}]
    return _then({"Type": "Task", "Resource": LAMBDA_INVOKE, "ResultPath": result_path, "Retry": retry,
                  "Parameters": {"FunctionName": CALLER_PLACEHOLDER, "Payload": payload},
                  "ResultSelector": _under_payload(selector)}, next_state)


def _under_payload(node: Any) -> Any:
    """A selector's JSONPaths (`$.DBInstances[0]`, also inside intrinsic functions) read under `$.Payload`."""
    if isinstance(node, dict):
        return {k: (_ROOT.sub("$.Payload", v) if k.endswith(".$") and isinstance(v, str) else _under_payload(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_under_payload(v) for v in node]
    return node


def _then(state: State, next_state: str | None) -> State:
    if next_state is None:
        state["End"] = True
    else:
        state["Next"] = next_state
    return state


def wait(seconds: float, next_state: str) -> State:
    return {"Type": "Wait", "Seconds": max(1, math.ceil(seconds)), "Next": next_state}


def fail(error: str, cause: str) -> State:
    return {"Type": "Fail", "Error": error, "Cause": cause[:32768]}


def succeed() -> State:
    return {"Type": "Succeed"}


def pass_state(parameters: dict[str, Any], next_state: str | None, result_path: str = "$") -> State:
    return _then({"Type": "Pass", "Parameters": parameters, "ResultPath": result_path}, next_state)


def choice(rules: list[dict[str, Any]], default: str) -> State:
    return {"Type": "Choice", "Choices": rules, "Default": default}


def poll_seconds(step: Step, items: int, share: int) -> int:
    """How long a loop of `step` waits between reads: the step's longest poll, or longer when `items` loops polling
    that often for the whole budget could write more than `share` history events (EVENTS_PER_POLL each)."""
    needed = step.budget * max(1, items) * EVENTS_PER_POLL / max(1, share)
    return max(1, math.ceil(max(step.poll_max, needed)))


EVENTS_PER_POLL = 15
"""History events of one turn of a wait-and-describe loop: a Task (5), four Pass/Choice/Wait states (2 each) and
the counter (2+2); dr/sfn/quotas.py counts the real ones."""


def counter_states(prefix: str, step: Step, loop_to: str, on_expired: str, poll: float) -> dict[str, State]:
    """A poll loop bounded by the step's budget: `{prefix}wait` sleeps `poll` seconds, counts, and goes back to
    `loop_to` until budget / poll polls are spent, then to `on_expired`."""
    polls = max(1, math.ceil(step.budget / max(1.0, poll)))
    return {
        f"{prefix}wait": wait(poll, f"{prefix}count"),
        f"{prefix}count": pass_state({"n.$": "States.MathAdd($.polls.n, 1)"}, f"{prefix}budget?", "$.polls"),
        f"{prefix}budget?": choice([{"Variable": "$.polls.n", "NumericGreaterThanEquals": polls,
                                     "Next": on_expired}], loop_to),
    }


def scoped(prefix: str, states: dict[str, State], start: str) -> tuple[dict[str, State], str]:
    """The states renamed `{prefix}{name}` (their Next, Default, Choices and Catch follow): state names stay unique
    across the whole definition, as the States Language asks, however many Maps reuse a chain."""
    def name(old: str) -> str:
        return f"{prefix}{old}"

    out: dict[str, State] = {}
    for old, state in states.items():
        new = dict(state)
        for key in ("Next", "Default"):
            if key in new:
                new[key] = name(new[key])
        if "Choices" in new:
            new["Choices"] = [{**rule, "Next": name(rule["Next"])} for rule in new["Choices"]]
        if "Catch" in new:
            new["Catch"] = [{**rule, "Next": name(rule["Next"])} for rule in new["Catch"]]
        out[name(old)] = new
    return out, name(start)
