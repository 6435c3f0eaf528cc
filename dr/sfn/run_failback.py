"""`drctl failback --engine stepfunctions`: what a failback execution needs beyond a failover's, and following it.

A failback runs as one execution per part (dr/sfn/generate_failback.py): the one drctl starts, named after the
run id, starts the next as its last state. Following the run follows each part in turn, and the report is the
local run's for the requested `--phase` (its steps only).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from dr.clock import Clock, iso
from dr.engine.step import RunContext
from dr.sfn import naming
from dr.sfn.follow import ExecutionView, StepView, follow
from dr.sfn.generate import Definition, Gap
from dr.sfn.generate_failback import FIRST_PART, part_execution, parts_of, protect_input

LAG_WINDOW_SECONDS = 120.0
"""Re-protect's lag reads accept datapoints from two minutes before drctl starts the run (one-minute periods)."""


def phase_of(options_extra: dict[str, Any]) -> str:
    from runbooks.failback import PHASES

    phase = str(options_extra.get("phase", "all"))
    return phase if phase in PHASES else "all"


def in_phase(defn: Definition, phase: str) -> set[str]:
    """The steps of `defn` that `--phase` runs (the local failback's phases)."""
    back = set(defn.reprotect_steps)
    if phase == "reprotect":
        return back
    if phase == "switch":
        return set(defn.steps) - back | {g.step for g in defn.gaps if g.step not in back}
    return set(defn.steps) | {g.step for g in defn.gaps}


def blocking(defn: Definition, phase: str | None) -> list[Gap]:
    """The blocking gaps a run of `phase` meets (a failover: all of them)."""
    if defn.runbook != "failback" or phase is None:
        return defn.blocking
    wanted = in_phase(defn, phase)
    return [g for g in defn.blocking if g.step in wanted]


def scoped(defn: Definition, phase: str) -> Definition:
    """`defn` with only the steps and gaps of `phase`: the report of a failback is that phase's, as locally."""
    wanted = in_phase(defn, phase)
    return replace(defn, steps=[s for s in defn.steps if s in wanted], gaps=[g for g in defn.gaps if g.step in wanted])


def execution_input(ctx: RunContext, defn: Definition, base: str, now: datetime) -> str:
    """The failover's input plus the failback's: `phase`, the first `part`, the lag window's start and this
    run's names (fenced ids, Aurora member ids, copies to stop)."""
    phase = phase_of(ctx.options.extra)
    payload = json.loads(base)
    payload.update({"phase": phase, "part": FIRST_PART[phase],
                    "lag_since": iso(now - timedelta(seconds=LAG_WINDOW_SECONDS)),
                    "protect": protect_input(ctx, defn.asl["States"]["plan"]["Result"])})
    return json.dumps(payload)


def execution_arns(defn: Definition, run_id: str, phase: str) -> list[str]:
    """The ARN of each part's execution, in order (the first is the one drctl starts)."""
    machine = naming.machine_arn(defn).replace(":stateMachine:", ":execution:")
    return [f"{machine}:{part_execution(run_id, part, phase)}" for part in parts_of(phase)]


def follow_parts(sfn: Any, defn: Definition, run_id: str, phase: str, clock: Clock, *,
                 on_step: Callable[[StepView], None], poll: float, once: bool = False) -> ExecutionView:
    """Follow each part's execution in turn until one does not succeed or the last ends; their steps merged,
    the status and error of the last one followed. A part not started yet (its predecessor still running, or
    `once`) ends the view where it is."""
    merged = ExecutionView("RUNNING")
    for arn in execution_arns(defn, run_id, phase):
        if not _exists(sfn, arn):
            break
        view = follow(sfn, arn, defn, clock, on_step=on_step, poll=poll, once=once)
        merged.steps.update(view.steps)
        merged.status, merged.error, merged.cause = view.status, view.error, view.cause
        if view.status != "SUCCEEDED":
            return merged
    return merged


def _exists(sfn: Any, arn: str) -> bool:
    try:
        sfn.describe_execution(executionArn=arn)
    except sfn.exceptions.ExecutionDoesNotExist:
        return False
    return True
