"""Step Functions' SDK-integration member names in the sandbox: PascalCase in and out, as on AWS.

AWS (Step Functions Developer Guide, "Learning to use AWS service SDK integrations in Step Functions",
https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html): "Parameters in Step Functions
are expressed in PascalCase, even if the native service API is in camelCase" (its example: `startSyncExecution`
with `StateMachineArn`); a Task's result has the same casing (`$.Executions[0].StartDate` of `sfn:listExecutions`).
moto's interpreter hands the parameters to boto3 unchanged and returns boto3's names, so a camelCase API (Step
Functions' own: `stateMachineArn`, `executions`) refuses AWS's names and answers in others. Here, for such APIs,
each request member is mapped to the operation model's member of the same name but for its first letter, and
each response member gets its first letter upper-cased (structures only: a map's keys are data). PascalCase APIs
(RDS, Route53, CloudWatch) are unchanged. Called by `sfn_tasks` around each SDK call.
"""

from __future__ import annotations

from typing import Any


def to_boto(client: Any, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """`params` with each member named as boto3's input shape names it (`StateMachineArn` -> `stateMachineArn`)."""
    model = client.meta.service_model.operation_model(client.meta.method_to_api_mapping.get(operation, operation))
    out = _request(params, model.input_shape)
    return out if isinstance(out, dict) else params


def to_sfn(client: Any, operation: str, response: dict[str, Any]) -> dict[str, Any]:
    """`response` with every structure member PascalCase (`executions[].startDate` -> `Executions[].StartDate`)."""
    model = client.meta.service_model.operation_model(client.meta.method_to_api_mapping.get(operation, operation))
    out = _response(response, model.output_shape)
    return out if isinstance(out, dict) else response


def _request(value: Any, shape: Any) -> Any:
    if shape is None:
        return value
    if shape.type_name == "structure" and isinstance(value, dict):
        by_key = {name[:1].lower() + name[1:]: name for name in shape.members}
        out = {}
        for key, item in value.items():
            name = key if key in shape.members else by_key.get(key[:1].lower() + key[1:], key)
            out[name] = _request(item, shape.members.get(name))
        return out
    if shape.type_name == "list" and isinstance(value, list):
        return [_request(item, shape.member) for item in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {k: _request(v, shape.value) for k, v in value.items()}
    return value


def _response(value: Any, shape: Any) -> Any:
    if shape is None:
        return value
    if shape.type_name == "structure" and isinstance(value, dict):
        return {key[:1].upper() + key[1:]: _response(item, shape.members.get(key)) for key, item in value.items()}
    if shape.type_name == "list" and isinstance(value, list):
        return [_response(item, shape.member) for item in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {k: _response(v, shape.value) for k, v in value.items()}
    return value
