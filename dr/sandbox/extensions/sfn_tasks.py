"""Step Functions in the sandbox: moto's ASL interpreter on, and its SDK-integration Tasks acting as AWS's do.

AWS (Step Functions Developer Guide, "Executing state machines" / "How Step Functions works with IAM" and
"Accessing resources in other AWS accounts in Step Functions"): a Task calls the service as the state machine's
execution role, in that role's account; with a `Credentials` field it calls as that role (cross-account).
moto's interpreter calls with fixed keys, so in its default account whatever the roles, and ignores `Credentials`:
here each Task assumes the role it would act as (the `Credentials` role, else the execution's role) through the
sandbox's own STS and calls with those credentials, so it lands in the role's account as on AWS.
The interpreter is switched on (moto's `stepfunctions.execute_state_machine` config) for the whole sandbox; its
modules (about a second to import) are patched when the first execution starts, not when the sandbox starts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from dr.sandbox.extensions import _guard, sfn_sdk_names

SESSION_NAME = "drctl-sandbox-sfn-task"
_SERVED_AT: list[str] = []


def serve_at(endpoint: str) -> None:
    """A sandbox server's own endpoint: where its interpreter's Tasks call (moto would use localhost:$MOTO_PORT).
    Servers of one process share moto's state, so the newest one still serving takes the calls."""
    _SERVED_AT.append(endpoint)


def stop_serving(endpoint: str) -> None:
    """A server stopped: Tasks call the one started before it (if it still serves)."""
    while endpoint in _SERVED_AT:
        _SERVED_AT.remove(endpoint)


def served_endpoint() -> str:
    """Where Tasks (and the caller Lambda) of a server call back: the newest live server, else moto's port."""
    from moto.settings import moto_server_port

    return _SERVED_AT[-1] if _SERVED_AT else f"http://localhost:{moto_server_port()}"


ON_FIRST_EXECUTION: list[Callable[[], None]] = []
"""Patches of the interpreter's modules, applied once before the first execution starts (sfn_json_path adds one)."""
_LOCK = threading.Lock()
_APPLIED: list[bool] = []


def install() -> None:
    from moto.core.config import default_user_config
    from moto.stepfunctions.responses import StepFunctionResponse

    default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True
    _guard.replace(StepFunctionResponse, "start_execution", _start_execution, [])
    if _patch_tasks not in ON_FIRST_EXECUTION:
        ON_FIRST_EXECUTION.insert(0, _patch_tasks)


def _start_execution(self: Any) -> Any:
    with _LOCK:
        if not _APPLIED:
            for patch in ON_FIRST_EXECUTION:
                patch()
            _APPLIED.append(True)
    return _guard.original(type(self), "start_execution")(self)


def _patch_tasks() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_aws_sdk as sdk,
    )

    _guard.require_attrs(sdk, ["boto_client_for"], "moto.stepfunctions...state_task_service_aws_sdk")
    _guard.replace(sdk.StateTaskServiceAwsSdk, "_eval_service_task", _eval_service_task,
                   ["env", "resource_runtime_part", "normalised_parameters", "state_credentials"])


def acting_role(env: Any, state_credentials: Any) -> str:
    """The role a Task acts as: its `Credentials` role, else the execution's role."""
    role = getattr(state_credentials, "role_arn", None)
    if role:
        return str(role)
    return str(env.states.context_object.context_object_data["Execution"]["RoleArn"])


def client_as(role_arn: str, service: str, region: str) -> Any:
    """A client of `service` in `region` with the credentials of `role_arn`, assumed through the sandbox's STS.
    Each from its own boto3 Session: the interpreter runs Map iterations and branches in threads, and boto3's
    default session is not safe to share between threads."""
    import boto3
    from botocore.config import Config
    from moto.core.models import botocore_stubber

    where: dict[str, Any] = {"region_name": region, "config": Config(retries={"total_max_attempts": 1})}
    if not botocore_stubber.enabled:  # a server: its own endpoint
        where["endpoint_url"] = served_endpoint()
    session = boto3.session.Session()
    sts = session.client("sts", aws_access_key_id="sandbox", aws_secret_access_key="sandbox", **where)
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName=SESSION_NAME)["Credentials"]
    return session.client(service, aws_access_key_id=creds["AccessKeyId"],
                          aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"],
                          **where)


def _eval_service_task(self: Any, env: Any, resource_runtime_part: Any, normalised_parameters: dict[str, Any],
                       state_credentials: Any) -> None:
    client = client_as(acting_role(env, state_credentials), self._get_boto_service_name(),
                       resource_runtime_part.region)
    action = self._get_boto_service_action()
    params = sfn_sdk_names.to_boto(client, action, normalised_parameters)
    response = getattr(client, action)(**params) or {}
    response.pop("ResponseMetadata", None)
    env.stack.append(_jsonable(sfn_sdk_names.to_sfn(client, action, response)))


def _jsonable(value: Any) -> Any:
    """Datetimes as ISO 8601 text, as AWS's integrations return them (moto's interpreter cannot serialise
    datetime objects into the execution's history)."""
    from datetime import datetime

    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value.isoformat() if isinstance(value, datetime) else value
