"""Step Functions' timestamp comparisons in the sandbox: RFC 3339 timestamps with fractional seconds, as on AWS.

AWS (Step Functions Developer Guide, "Choice workflow state",
https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html): the Timestamp comparison operators take
values in the RFC 3339 profile of ISO 8601; AWS's own timestamps carry milliseconds (the Context object's
`$$.Execution.StartTime`, an SDK integration's `StartDate`: `2026-12-06T02:12:07.006Z`). moto's Choice state
parses only `%Y-%m-%dT%H:%M:%SZ`, so such a value is "not a timestamp" and every comparison of it is false (the
run lock of dr/sfn/states_lock.py would never see an earlier execution). Here fractional seconds are read, and
a numeric offset as well: the sandbox writes its own timestamps with `+00:00` where AWS writes `Z`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from dr.sandbox.extensions import _guard

MODULE = "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.is_operator"


def install() -> None:
    """Applied before the first execution starts (the interpreter's modules take about a second to import)."""
    from dr.sandbox.extensions import sfn_tasks

    if patch not in sfn_tasks.ON_FIRST_EXECUTION:
        sfn_tasks.ON_FIRST_EXECUTION.append(patch)


def patch() -> None:
    import importlib

    module = importlib.import_module(MODULE)
    _guard.require_attrs(module, ["IsTimestamp"], MODULE)
    _guard.replace(module.IsTimestamp, "string_to_timestamp", string_to_timestamp)


def string_to_timestamp(string: object) -> datetime | None:
    """`2026-12-06T02:12:07Z`, `...07.006Z`, `...07.006531+00:00` -> an aware datetime; None when not one. moto
    keeps the Context object's `StartTime` as a datetime (AWS hands the state a string): taken as it is."""
    if isinstance(string, datetime):
        return string if string.tzinfo is not None else string.replace(tzinfo=UTC)
    if not isinstance(string, str) or len(string) < 20 or string[10] != "T":
        return None
    try:
        parsed = datetime.fromisoformat(string[:-1] + "+00:00" if string.endswith("Z") else string)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
