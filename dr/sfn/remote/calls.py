"""The caller's Tasks in a generated definition: binding them to the machine's own function, and the calls they
make (the function's allowlist and its role's actions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dr.sfn.remote import CALLER_PLACEHOLDER

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"


@dataclass(frozen=True, order=True)
class RemoteCall:
    """One call the caller makes: `rds:DescribeDBInstances` in `region` (None: given at run time by a path),
    as `role_arn` (None: the function's own role)."""

    service: str
    action: str
    region: str | None
    role_arn: str | None

    @property
    def allowed(self) -> str:
        return f"{self.service}:{self.action}"


def _tasks(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        here = [node] if node.get("Type") == "Task" and node.get("Resource") == LAMBDA_INVOKE else []
        return here + [t for v in node.values() for t in _tasks(v)]
    if isinstance(node, list):
        return [t for v in node for t in _tasks(v)]
    return []


def bind(asl_doc: dict[str, Any], function: str) -> dict[str, Any]:
    """Every caller Task of `asl_doc` invokes `function` (in place; returned for chaining)."""
    for task in _tasks(asl_doc):
        params = task["Parameters"]
        if params.get("FunctionName") == CALLER_PLACEHOLDER:
            params["FunctionName"] = function
    return asl_doc


def remote_calls(asl_doc: dict[str, Any]) -> list[RemoteCall]:
    """Each distinct call the definition's caller Tasks make, sorted."""
    found = set()
    for task in _tasks(asl_doc):
        payload = task["Parameters"]["Payload"]
        if "service" not in payload:  # a check (`caught-up`): no AWS call
            continue
        found.add(RemoteCall(payload["service"], payload["action"], payload.get("region"), payload.get("role_arn")))
    return sorted(found, key=lambda c: (c.service, c.action, c.region or "", c.role_arn or ""))


def allowlist(asl_doc: dict[str, Any]) -> list[str]:
    """`service:Action` of every call, sorted and distinct (the function's environment)."""
    return sorted({c.allowed for c in remote_calls(asl_doc)})
