"""Create or update, idempotently, a state machine's caller function and its execution role.

The function may make exactly the calls the definition's caller Tasks make (its allowlist, in its environment);
its role may call exactly those actions, on the resources the runbook's steps declare for them (dr/iam), assume
the roles the Tasks name, and write its own log group. The zip's hash is a tag: the same code is not uploaded
again. AWS (Lambda Developer Guide, "Lambda execution role"): a new role can take a few seconds before Lambda can
assume it, so creating the function is retried on that refusal. Creating and updating a function are asynchronous
(Lambda API Reference, "UpdateFunctionConfiguration": "During this time, you can't modify the function"; Developer
Guide, "Lambda function states"): each change waits until the function is `Active` and its `LastUpdateStatus` is no
longer `InProgress` before the next one, or AWS answers ResourceConflictException.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from dr.clock import SYSTEM_CLOCK, Clock
from dr.iam.grants import Grant
from dr.retry import retrying
from dr.sfn.remote import ALLOWLIST_ENV, CALLER_TAG, HANDLER, function_name, role_name
from dr.sfn.remote.calls import allowlist, remote_calls
from dr.sfn.remote.package import RUNTIME, Package, build

TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}
POLICY_NAME = "drctl-cross-region-caller"
TIMEOUT_SECONDS = 60
"""Room for one call's connect and read timeouts (5 + 30 s) and a next endpoint; beyond it the Task's Retry makes
the next attempt (a timed-out invocation fails the Task, `States.TaskFailed`)."""


@dataclass(frozen=True)
class Caller:
    """What a definition needs of its caller (None when it makes no caller call)."""

    name: str
    arn: str
    role: str
    allowed: list[str]
    policy: dict[str, Any]


def caller_of(asl_doc: dict[str, Any], *, runbook: str, source: str, target: str, account: str, region: str,
              grants: list[Grant]) -> Caller | None:
    allowed = allowlist(asl_doc)
    if not allowed:
        return None
    name = function_name(runbook, source, target)
    return Caller(name, f"arn:aws:lambda:{region}:{account}:function:{name}", role_name(runbook, source, target),
                  allowed, policy(asl_doc, grants, f"arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{name}"))


def policy(asl_doc: dict[str, Any], grants: list[Grant], log_group: str) -> dict[str, Any]:
    """Each allowed action on the resources the steps' grants name for it (`*` only where none does: actions
    without resource-level permissions), sts:AssumeRole on the Tasks' roles, and its own logs."""
    statements: list[dict[str, Any]] = []
    for action in allowlist(asl_doc):
        resources = sorted({r for g in grants if action in g.actions for r in g.resources}) or ["*"]
        statements.append({"Effect": "Allow", "Action": [action], "Resource": resources})
    roles = sorted({c.role_arn for c in remote_calls(asl_doc) if c.role_arn})
    if roles:
        statements.append({"Effect": "Allow", "Action": ["sts:AssumeRole"], "Resource": roles})
    statements.append({"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream",
                                                     "logs:PutLogEvents"], "Resource": [log_group, f"{log_group}:*"]})
    return {"Version": "2012-10-17", "Statement": statements}


def plan(lam: Any, caller: Caller) -> str:
    """What deploying would do: create | update | unchanged."""
    current = _current(lam, caller.name)
    if current is None:
        return "create"
    return "unchanged" if _same(current, caller, build()) else "update"


def ensure(iam: Any, lam: Any, caller: Caller, *, clock: Clock = SYSTEM_CLOCK) -> str:
    """The role and function as `caller` says: created | updated | unchanged."""
    role_arn = _ensure_role(iam, caller)
    package = build()
    current = _current(lam, caller.name)
    env = {"Variables": {ALLOWLIST_ENV: ",".join(caller.allowed)}}
    tags = {CALLER_TAG: package.sha256, "drctl:role": "cross-region-caller"}
    if current is None:
        for attempt in retrying(clock=clock, attempts=6, initial=2.0, maximum=10.0, retry_on=_role_not_ready):
            with attempt:
                lam.create_function(FunctionName=caller.name, Runtime=RUNTIME, Role=role_arn, Handler=HANDLER,
                                    Code={"ZipFile": package.zip_bytes}, Timeout=TIMEOUT_SECONDS, MemorySize=256,
                                    Environment=env, Tags=tags, Description="drctl: calls the state machine "
                                    "cannot make itself (another region, ARC endpoints)")
        _settled(lam, caller.name, clock)
        return "created"
    if _same(current, caller, package):
        return "unchanged"
    config, function_tags = current
    if function_tags.get(CALLER_TAG) != package.sha256:
        _settled(lam, caller.name, clock)  # an update still in progress (an earlier deploy) refuses another
        lam.update_function_code(FunctionName=caller.name, ZipFile=package.zip_bytes)
    if config.get("Environment", {}).get("Variables", {}) != env["Variables"] or config.get("Role") != role_arn:
        _settled(lam, caller.name, clock)
        lam.update_function_configuration(FunctionName=caller.name, Environment=env, Role=role_arn)
    _settled(lam, caller.name, clock)
    lam.tag_resource(Resource=config["FunctionArn"], Tags=tags)
    return "updated"


class NotSettled(Exception):
    """The function is still being created or updated (retried until it settles)."""


def _settled(lam: Any, name: str, clock: Clock) -> None:
    """Wait until the function is Active with no update in progress; a failed create or update is an error."""
    for attempt in retrying(clock=clock, attempts=30, initial=1.0, maximum=5.0,
                            retry_on=lambda err: isinstance(err, NotSettled)):
        with attempt:
            config = lam.get_function_configuration(FunctionName=name)
            state, update = config.get("State", "Active"), config.get("LastUpdateStatus", "Successful")
            if "Failed" in (state, update):
                raise RuntimeError(f"Lambda function {name}: {state}/{update}: "
                                   f"{config.get('StateReason') or config.get('LastUpdateStatusReason')}")
            if state != "Active" or update == "InProgress":
                raise NotSettled(f"Lambda function {name} is {state}, last update {update}")


def _role_not_ready(err: BaseException) -> bool:
    return "cannot be assumed" in str(err)


def _current(lam: Any, name: str) -> tuple[dict[str, Any], dict[str, str]] | None:
    try:
        found = lam.get_function(FunctionName=name)
    except lam.exceptions.ResourceNotFoundException:
        return None
    return found["Configuration"], dict(found.get("Tags") or {})


def _same(current: tuple[dict[str, Any], dict[str, str]], caller: Caller, package: Package) -> bool:
    config, tags = current
    return (tags.get(CALLER_TAG) == package.sha256 and config.get("Handler") == HANDLER
            and config.get("Environment", {}).get("Variables", {}).get(ALLOWLIST_ENV) == ",".join(caller.allowed))


def _ensure_role(iam: Any, caller: Caller) -> str:
    try:
        arn = str(iam.get_role(RoleName=caller.role)["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        arn = str(iam.create_role(RoleName=caller.role, AssumeRolePolicyDocument=json.dumps(TRUST),
                                  Description="drctl: the cross-region caller of a DR state machine")["Role"]["Arn"])
    iam.put_role_policy(RoleName=caller.role, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(caller.policy))
    return arn
