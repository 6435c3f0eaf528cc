"""Checks of a generated definition before it is deployed: the States Language's structural rules (every
transition names a state of its scope, every state reachable, names unique and at most 80 characters, a
non-terminal state says where it goes) and the CreateStateMachine request against botocore's model of the
Step Functions API (lengths and types of name, definition and role)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

MAX_STATE_NAME = 80
TERMINAL = {"Choice", "Succeed", "Fail"}


def structural_problems(asl_doc: dict[str, Any]) -> list[str]:
    """Every violation of the structural rules, with the state it concerns; [] when none."""
    problems: list[str] = []
    seen: dict[str, int] = {}
    for scope, states, start in _scopes(asl_doc, "top"):
        problems += _scope_problems(scope, states, start)
        for name in states:
            seen[name] = seen.get(name, 0) + 1
    problems += [f"state name {n!r} is used {c} times (names must be unique in the state machine)"
                 for n, c in seen.items() if c > 1]
    problems += [f"state name {n!r} is longer than {MAX_STATE_NAME} characters" for n in seen
                 if len(n) > MAX_STATE_NAME]
    return problems


def _scopes(node: dict[str, Any], where: str) -> Iterator[tuple[str, dict[str, Any], str]]:
    states = node.get("States", {})
    yield where, states, node.get("StartAt", "")
    for name, state in states.items():
        for k, branch in enumerate(state.get("Branches", [])):
            yield from _scopes(branch, f"{name} branch {k}")
        if "ItemProcessor" in state:
            yield from _scopes(state["ItemProcessor"], f"{name} item processor")


def _targets(state: dict[str, Any]) -> list[str]:
    out = [state[k] for k in ("Next", "Default") if k in state]
    out += [rule["Next"] for key in ("Choices", "Catch") for rule in state.get(key, [])]
    return out


def _scope_problems(scope: str, states: dict[str, Any], start: str) -> list[str]:
    problems = [] if start in states else [f"{scope}: StartAt {start!r} is not a state"]
    for name, state in states.items():
        problems += [f"{scope}: {name} goes to {t!r}, which is not a state of its scope"
                     for t in _targets(state) if t not in states]
        if state.get("Type") not in TERMINAL and "Next" not in state and not state.get("End"):
            problems.append(f"{scope}: {name} has neither Next nor End")
        if state.get("Type") == "Task" and not str(state.get("Resource", "")).startswith("arn:aws:states:::"):
            problems.append(f"{scope}: {name} has Resource {state.get('Resource')!r}")
    reached, todo = set(), [start]
    while todo:
        here = todo.pop()
        if here in reached or here not in states:
            continue
        reached.add(here)
        todo += _targets(states[here])
    problems += [f"{scope}: {name} cannot be reached from {start}" for name in states if name not in reached]
    return problems


def request_problems(name: str, definition: str, role_arn: str) -> list[str]:
    """The CreateStateMachine request checked against botocore's model of it (types, required members, and the
    model's length limits, which botocore itself does not enforce for maxima)."""
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model("stepfunctions")
    shape = model.operation_model("CreateStateMachine").input_shape
    params = {"name": name, "definition": definition, "roleArn": role_arn, "type": "STANDARD"}
    report = ParamValidator().validate(params, shape)
    problems = [report.generate_report()] if report.has_errors() else []
    for member, value in params.items():
        limits = shape.members[member].metadata
        if isinstance(value, str) and not limits.get("min", 0) <= len(value) <= limits.get("max", len(value)):
            problems.append(f"{member} is {len(value):,} characters; the API allows {limits.get('min', 0)} to "
                            f"{limits.get('max'):,}")
    return problems
