"""Step Functions' SDK integrations in the sandbox: a Task's parameters in PascalCase reach a camelCase API.

AWS (Step Functions Developer Guide, "Learning to use AWS service SDK integrations in Step Functions",
https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html): "Parameters in Step Functions
are expressed in PascalCase, even if the native service API is in camelCase. For example, you could use the Step
Functions API action startSyncExecution and specify its parameter as StateMachineArn." moto's interpreter passes an
`aws-sdk:*` Task's parameters to botocore as written, so `arn:aws:states:::aws-sdk:sfn:startExecution` with
`StateMachineArn` fails botocore's validation (it wants `stateMachineArn`). Here they are matched to the
operation's input members (case and separators aside) with moto's own request normaliser, as AWS does; APIs whose
members are PascalCase already (RDS, Route53, CloudWatch) are unchanged.
"""

from __future__ import annotations

import functools
from typing import Any

from dr.sandbox.extensions import _guard

MODULE = "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk"
NAME = "_normalise_parameters"


def install() -> None:
    """Applied before the first execution starts, with the interpreter's other patches (sfn_tasks)."""
    from dr.sandbox.extensions import sfn_tasks

    if patch not in sfn_tasks.ON_FIRST_EXECUTION:
        sfn_tasks.ON_FIRST_EXECUTION.append(patch)


def patch() -> None:
    import importlib

    sdk = importlib.import_module(MODULE)
    cls = sdk.StateTaskServiceAwsSdk
    current = getattr(cls, NAME, None)
    if current is None or not hasattr(cls, "_to_boto_request"):
        raise _guard.shape_error(f"{MODULE}.StateTaskServiceAwsSdk lacks {NAME} or _to_boto_request")
    if _guard.is_patched(current):
        return
    if NAME in cls.__dict__:  # moto now normalises aws-sdk parameters itself: re-check this extension
        raise _guard.shape_error(f"{MODULE}.StateTaskServiceAwsSdk.{NAME} is now moto's own")
    _guard.expect_params(current, ["parameters", "boto_service_name", "service_action_name"],
                         f"StateTaskServiceAwsSdk.{NAME}")
    setattr(_normalise_parameters, "__drctl_sandbox__", True)  # noqa: B010  # the guard's mark
    setattr(cls, NAME, _normalise_parameters)


def _normalise_parameters(self: Any, parameters: dict[str, Any], boto_service_name: str | None = None,
                          service_action_name: str | None = None) -> None:
    service = self._get_boto_service_name(boto_service_name=boto_service_name)
    action = service_action_name or self.resource.api_action
    operation = _input_shape(service, action[0].upper() + action[1:])
    if operation is not None:
        self._to_boto_request(parameters, operation)


@functools.cache
def _input_shape(service: str, operation: str) -> Any:
    """The operation's input shape from botocore's model (None for an operation botocore does not know)."""
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    try:
        return model.operation_model(operation).input_shape
    except Exception:  # an unknown operation: botocore itself refuses the call with its own error
        return None
