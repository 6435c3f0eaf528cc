"""A request checked against botocore's model of it: types and required members (botocore's own validator), plus
the model's enums, lengths and patterns, which botocore does not check on the client side."""

from __future__ import annotations

import re
from typing import Any


def model_problems(service: str, operation: str, params: dict[str, Any]) -> list[str]:
    """Every way `params` breaks the model of `service` `operation`, with the member's path; [] when none."""
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model(service)
    shape = model.operation_model(operation).input_shape
    report = ParamValidator().validate(params, shape)
    problems = [report.generate_report()] if report.has_errors() else []
    return problems + _limits(shape, params, operation)


def _limits(shape: Any, value: Any, path: str) -> list[str]:
    meta = shape.metadata
    out: list[str] = []
    if shape.type_name == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                out += _limits(member, value[name], f"{path}.{name}")
    elif shape.type_name == "list" and isinstance(value, list):
        out += _size(meta, len(value), path)
        for n, item in enumerate(value):
            out += _limits(shape.member, item, f"{path}[{n}]")
    elif shape.type_name == "map" and isinstance(value, dict):
        out += _size(meta, len(value), path)
        for key, item in value.items():
            out += _limits(shape.key, key, f"{path} key") + _limits(shape.value, item, f"{path}[{key}]")
    elif shape.type_name == "string" and isinstance(value, str):
        out += _size(meta, len(value), path)
        if "enum" in meta and value not in meta["enum"]:
            out.append(f"{path}: {value!r} is not one of {meta['enum']}")
        if "pattern" in meta and not re.fullmatch(meta["pattern"], value):
            out.append(f"{path}: {value!r} does not match {meta['pattern']}")
    elif shape.type_name in ("integer", "long", "float", "double") and isinstance(value, int | float):
        out += _size(meta, value, path)
    return out


def _size(meta: dict[str, Any], size: float, path: str) -> list[str]:
    low, high = meta.get("min"), meta.get("max")
    if low is not None and size < low:
        return [f"{path}: {size} is below the model's minimum {low}"]
    if high is not None and size > high:
        return [f"{path}: {size} is above the model's maximum {high}"]
    return []
