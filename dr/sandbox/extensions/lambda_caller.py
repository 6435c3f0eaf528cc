"""Lambda in the sandbox: drctl's cross-region caller runs as AWS Lambda runs it, without Docker; Step Functions'
`lambda:invoke` Tasks invoke as the execution role.

AWS's pages:
- Lambda API Reference, "Invoke" (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html): a
  RequestResponse invocation answers the function's response as `Payload`; when the function fails, the answer
  carries `X-Amz-Function-Error` and the payload `{"errorMessage", "errorType", "stackTrace"}` (errorType: the
  exception's type name in Python, Lambda Developer Guide "AWS Lambda function errors in Python").
- Lambda Developer Guide, "Defining Lambda function permissions with an execution role" and "Working with Lambda
  environment variables": the function runs with its variables, `AWS_REGION` and its execution role's
  credentials in its environment.
- Step Functions Developer Guide, "Invoke an AWS Lambda function with Step Functions"
  (https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html): the Task's result holds `Payload`,
  `StatusCode` ...; a function error fails the Task with the errorType as its error name. A Task acts as the
  execution role in its account.

moto runs functions in Docker (absent in CI) and its interpreter invokes with fixed keys (moto's default
account). Here a function whose handler is drctl's caller (`drctl_caller.handler`) runs in-process from the zip
moto stored (the shipped artefact, not drctl's source tree), imported fresh per invocation, with the environment
Lambda gives it: its variables, its region, the sandbox's endpoint (server mode) and its role's credentials
assumed through the sandbox's STS. Other functions keep moto's behaviour.

The sandbox serialises moto under MOTO_LOCK; the caller's calls come back through it (in-process: the same
thread; a server: other request threads, which would wait for the lock forever), so the function runs with the
lock released, and takes it again to finish the Invoke.
"""

from __future__ import annotations

import io
import json
import threading
import traceback
import types
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from hashlib import sha256
from typing import Any

from dr.sandbox.extensions import _guard, sfn_tasks
from dr.sandbox.extensions.inprocess_lock import MOTO_LOCK

HANDLER = "drctl_caller.handler"
MODULE = "drctl_caller.py"
_CODE: dict[str, types.CodeType] = {}
_IDLE: dict[str, list[types.ModuleType]] = {}
_CODE_LOCK = threading.Lock()
_STS: list[Any] = []
"""One boto3 Session for the role assumptions (its loaded models make later clients cheap), under _CODE_LOCK."""


def install() -> None:
    from moto.awslambda.models import LambdaFunction

    _guard.replace(LambdaFunction, "invoke", _invoke, ["body", "request_headers", "response_headers"])
    if _patch_lambda_task not in sfn_tasks.ON_FIRST_EXECUTION:
        sfn_tasks.ON_FIRST_EXECUTION.append(_patch_lambda_task)


def _invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> Any:
    if self.handler != HANDLER:
        return _guard.original(type(self), "invoke")(self, body, request_headers, response_headers)
    event = json.loads(body) if body else {}
    with _unlocked():
        answer, failed = run(self.code_bytes, self.environment_vars, self.role, self.region, event)
    if failed:
        response_headers["x-amz-function-error"] = "Unhandled"
    if request_headers.get("x-amz-invocation-type", "RequestResponse") == "RequestResponse":
        response_headers["x-amz-log-result"] = ""
    return answer.encode("utf-8")


def run(zip_bytes: bytes, variables: dict[str, str], role_arn: str, region: str,
        event: dict[str, Any]) -> tuple[str, bool]:
    """The function's answer (JSON text) and whether it failed, as Lambda reports them."""
    key = sha256(zip_bytes).hexdigest()
    module = _environment_of(key, zip_bytes)
    try:
        module.__dict__["ENVIRON"] = _environment(variables, role_arn, region)  # Lambda's os.environ
        return json.dumps(module.handler(event, None)), False
    except Exception as exc:  # Lambda's answer for an exception the handler raises
        return json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__,
                           "stackTrace": traceback.format_tb(exc.__traceback__)}), True
    finally:
        with _CODE_LOCK:
            _IDLE.setdefault(key, []).append(module)


def _environment_of(key: str, zip_bytes: bytes) -> types.ModuleType:
    """An idle execution environment of this code (its module, kept between invocations as Lambda keeps a warm
    one), else a new one: the deployed zip's module imported. Concurrent invocations never share one."""
    with _CODE_LOCK:
        if _IDLE.get(key):
            return _IDLE[key].pop()
        if key not in _CODE:
            with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
                _CODE[key] = compile(archive.read(MODULE), f"<lambda zip {key[:12]}>/{MODULE}", "exec")
        code = _CODE[key]
    module = types.ModuleType("drctl_caller")
    exec(code, module.__dict__)  # the deployed function's own code, as Lambda's runtime imports it
    return module


def _environment(variables: dict[str, str], role_arn: str, region: str) -> dict[str, str]:
    """Lambda's environment of the function: its variables, region, endpoint (a server) and role credentials."""
    import boto3
    from moto.core.models import botocore_stubber
    from moto.settings import moto_server_port

    environ = {**variables, "AWS_REGION": region, "AWS_DEFAULT_REGION": region}
    if not botocore_stubber.enabled:
        served = getattr(sfn_tasks, "_SERVED_AT", [])
        environ["AWS_ENDPOINT_URL"] = served[0] if served else f"http://localhost:{moto_server_port()}"
    with _CODE_LOCK:
        if not _STS:
            _STS.append(boto3.session.Session())
        sts = _STS[0].client("sts", region_name=region, aws_access_key_id="sandbox",
                             aws_secret_access_key="sandbox", endpoint_url=environ.get("AWS_ENDPOINT_URL"))
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="drctl-sandbox-lambda")["Credentials"]
    environ.update(AWS_ACCESS_KEY_ID=creds["AccessKeyId"], AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
                   AWS_SESSION_TOKEN=creds["SessionToken"])
    return environ


@contextmanager
def _unlocked() -> Iterator[None]:
    """MOTO_LOCK released as often as this thread holds it (none on a server's other threads), then taken again."""
    held = 0
    while True:
        try:
            MOTO_LOCK.release()
        except RuntimeError:
            break
        held += 1
    try:
        yield
    finally:
        for _ in range(held):
            MOTO_LOCK.acquire()


def _patch_lambda_task() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_lambda as service,
    )

    _guard.replace(service.StateTaskServiceLambda, "_eval_service_task", _eval_lambda_task,
                   ["env", "resource_runtime_part", "normalised_parameters", "state_credentials"])


def _eval_lambda_task(self: Any, env: Any, resource_runtime_part: Any, normalised_parameters: dict[str, Any],
                      state_credentials: Any) -> None:
    """moto's `execute_lambda_function_integration`, invoking as the execution role (or the Task's
    `Credentials` role) in its account."""
    from moto.stepfunctions.parser.api import InvocationResponse
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils import (
        LambdaFunctionErrorException,
    )
    from moto.utilities.collections import select_from_typed_dict

    client = sfn_tasks.client_as(sfn_tasks.acting_role(env, state_credentials), "lambda",
                                 resource_runtime_part.region)
    response = client.invoke(**normalised_parameters)
    text = response["Payload"].read().decode("utf-8")
    try:
        payload: Any = json.loads(text)
    except json.JSONDecodeError:
        payload = text
    if response.get("FunctionError"):
        raise LambdaFunctionErrorException(response["FunctionError"], json.dumps(payload, separators=(",", ":")))
    response["Payload"] = payload
    env.stack.append(select_from_typed_dict(typed_dict=InvocationResponse, obj=response))
