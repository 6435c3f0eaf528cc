"""A small IAM policy evaluator for identity-based policies, after AWS's "Policy evaluation logic" page
(IAM User Guide, https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).

Within one account and identity-based policies only: an explicit Deny in any statement wins; otherwise an
Allow in any statement allows; otherwise the request is implicitly denied. A statement applies when its
Action (or NotAction) matches the action, its Resource (or NotResource) matches the resource and every
condition holds. Actions match case-insensitively, resources case-sensitively, with `*` and `?` wildcards
("IAM JSON policy elements: Action / Resource"). Conditions: the string operators StringEquals,
StringNotEquals, StringEqualsIgnoreCase, StringNotEqualsIgnoreCase, StringLike, StringNotLike (each also with
IfExists); an operator drctl does not know makes the statement raise rather than guess ("IAM JSON policy
elements: Condition operators": several values of one key are ORed, several keys and operators ANDed; a
missing key fails every operator except the negated ones and ...IfExists).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any


class Decision(StrEnum):
    ALLOWED = "allowed"
    EXPLICIT_DENY = "explicitDeny"
    IMPLICIT_DENY = "implicitDeny"
    """The names IAM's SimulatePrincipalPolicy answers with (EvalDecision)."""


class PolicyError(ValueError):
    """A policy document drctl's evaluator cannot read (malformed, or a condition operator it does not know)."""


@dataclass(frozen=True)
class Request:
    """One authorization request: `service:Action`, the resource ARN (or `*`) and the request's context keys."""

    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)


_STRING_OPERATORS = ("StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
                     "StringLike", "StringNotLike")


def evaluate(policies: Iterable[Mapping[str, Any]], request: Request) -> Decision:
    """The decision of identity-based `policies` (one account) on `request`."""
    allowed = False
    for policy in policies:
        for statement in _statements(policy):
            if not _applies(statement, request):
                continue
            effect = statement.get("Effect")
            if effect == "Deny":
                return Decision.EXPLICIT_DENY
            if effect != "Allow":
                sid = statement.get("Sid", "")
                raise PolicyError(f"statement {sid!r}: Effect must be Allow or Deny, not {effect!r}")
            allowed = True
    return Decision.ALLOWED if allowed else Decision.IMPLICIT_DENY


def is_allowed(policies: Iterable[Mapping[str, Any]], request: Request) -> bool:
    return evaluate(policies, request) is Decision.ALLOWED


def _statements(policy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = policy.get("Statement", [])
    if isinstance(statements, Mapping):
        return [statements]
    if not isinstance(statements, list):
        raise PolicyError("Statement must be an object or a list of objects")
    return statements


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise PolicyError(f"expected a string or a list of strings, got {value!r}")


def _applies(statement: Mapping[str, Any], request: Request) -> bool:
    return (
        _element(statement, "Action", request.action, ignore_case=True)
        and _element(statement, "Resource", request.resource, ignore_case=False)
        and _conditions_hold(statement.get("Condition", {}), request.context)
    )


def _element(statement: Mapping[str, Any], name: str, value: str, *, ignore_case: bool) -> bool:
    positive, negative = statement.get(name), statement.get(f"Not{name}")
    if (positive is None) == (negative is None):
        raise PolicyError(f"statement {statement.get('Sid', '')!r}: exactly one of {name} and Not{name} is required")
    patterns = _as_list(positive if positive is not None else negative)
    hit = any(matches(p, value, ignore_case=ignore_case) for p in patterns)
    return hit if positive is not None else not hit


def matches(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's wildcard match: `*` any run of characters (also across `:` and `/`), `?` exactly one."""
    return _compiled(pattern, ignore_case).fullmatch(value) is not None


@lru_cache(maxsize=4096)
def _compiled(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _conditions_hold(block: Any, context: Mapping[str, str]) -> bool:
    if not isinstance(block, Mapping):
        raise PolicyError("Condition must be an object of operators")
    lowered = {k.lower(): v for k, v in context.items()}  # condition key names are case-insensitive
    for operator, keys in block.items():
        if not isinstance(keys, Mapping):
            raise PolicyError(f"Condition {operator}: expected an object of keys")
        for key, expected in keys.items():
            if not _operator_holds(operator, lowered.get(key.lower()), _as_list(expected)):
                return False
    return True


def _operator_holds(operator: str, actual: str | None, expected: Sequence[str]) -> bool:
    base, if_exists = (operator[: -len("IfExists")], True) if operator.endswith("IfExists") else (operator, False)
    if base not in _STRING_OPERATORS:
        raise PolicyError(f"condition operator {operator!r} is not supported by drctl's evaluator "
                          f"(supported: {', '.join(_STRING_OPERATORS)}, each with IfExists)")
    negated = "Not" in base
    if actual is None:
        return if_exists or negated
    if base in {"StringEquals", "StringNotEquals"}:
        hit = actual in expected
    elif base in {"StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"}:
        hit = actual.lower() in (e.lower() for e in expected)
    else:
        hit = any(matches(e, actual) for e in expected)
    return not hit if negated else hit
