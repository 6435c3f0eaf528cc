"""Structural validation: pydantic errors turned into findings with paths and fix hints."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from dr.config.findings import Finding, dotted

_HINTS = {
    "missing": "add this key",
    "extra_forbidden": "remove this key or correct its spelling",
    "string_pattern_mismatch": "use the form shown in the message",
    "enum": "use one of the listed values",
    "literal_error": "use one of the listed values",
    "int_parsing": "write a whole number",
    "dict_type": "write a mapping (key: value)",
    "list_type": "write a list (- item)",
    "string_type": "write a string (quote it, e.g. \"111111111111\")",
    "greater_than": "use a larger value",
    "greater_than_equal": "use a larger value",
    "less_than_equal": "use a smaller value",
    "less_than": "use a smaller value",
    "value_error": "write a value of the form the message names",
    "bool_type": "write true or false",
    "float_parsing": "write a number",
    "model_type": "write a mapping (key: value)",
    "too_short": "add at least one entry",
    "string_too_short": "write a non-empty value",
}
FALLBACK_HINT = "see docs/configuration.md for this field's form"


def _allowed_keys(model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    """For an unknown key, the keys that the enclosing model accepts."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or current is None:
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            current = None
            continue
        current = _model_in(field.annotation)
    if current is None or not hasattr(current, "model_fields"):
        return ""
    return ", ".join(sorted(current.model_fields))


def _model_in(annotation: Any) -> Any:
    """The BaseModel inside list[M], dict[str, M], M | None, or M."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def findings_from(error: ValidationError, model: type[BaseModel], prefix: tuple[int | str, ...] = ()) -> list[Finding]:
    findings = []
    for item in error.errors(include_url=False):
        loc = prefix + tuple(item["loc"])
        message = item["msg"]
        if item["type"] == "value_error":
            message = message.removeprefix("Value error, ")
        hint = _HINTS.get(item["type"], FALLBACK_HINT)
        if item["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, tuple(item["loc"]))
            hint = f"remove it or correct its spelling; allowed here: {allowed}" if allowed else hint
        if item["type"] in {"missing", "extra_forbidden"}:
            message = f"{message} ({loc[-1]})" if loc else message
        findings.append(Finding(dotted(loc), message, hint))
    return findings
