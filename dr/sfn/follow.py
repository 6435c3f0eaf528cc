"""Start an execution named after the run id and follow it: the history becomes step records, progress lines and
the run report of a local run (same schema), the execution's outcome the same exit codes.

Killing the follower stops nothing: the execution runs in Step Functions; `drctl runs show RUN_ID` reads the
same history again (the execution's ARN follows from the topology and the run id).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dr.clock import Clock
from dr.engine.events import RunStatus
from dr.engine.step import StepStatus
from dr.sfn import asl
from dr.sfn.generate import Definition
from dr.sfn.states_lock import LOCKED

TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
MAP_ITEM_STEPS = {"promote": "promote", "dns": "dns", "backups": "backups", "fence": "fence",
                  "catch-up": "catch-up", "fence-old-writer": "fence-old-writer"}
"""Map states whose iterations are one local step each (`promote:<db>`, `dns:<zone>`, `backups:<db>`)."""
OUTCOME_STATE = "outcome"
"""An iteration that ends in `<map>/outcome` did not succeed as its step (a best-effort fence that could not fence):
that state's input `outcome` says the step, its status and detail (dr/sfn/states_fence.py `left_behind`)."""
WHOLE_STEPS = ("prechecks", "rpo-gate", "confirm")
ENDED_UNSUCCESSFULLY = {"ExecutionFailed": "executionFailedEventDetails",
                        "ExecutionAborted": "executionAbortedEventDetails",
                        "ExecutionTimedOut": "executionTimedOutEventDetails"}
"""The history events that end an execution unsuccessfully, and their details' key (a redrive may follow)."""


@dataclass
class StepView:
    name: str
    status: StepStatus
    started_at: datetime
    ended_at: datetime | None = None
    detail: str = ""


@dataclass
class ExecutionView:
    """What an execution's history says, step by step."""

    status: str
    steps: dict[str, StepView] = field(default_factory=dict)
    error: str = ""
    cause: str = ""


def history(sfn: Any, arn: str) -> Iterator[dict[str, Any]]:
    """Every event of the execution, oldest first (all pages)."""
    request: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**request)
        yield from page.get("events", [])
        if not page.get("nextToken"):
            return
        request["nextToken"] = page["nextToken"]


def item_names(defn: Definition) -> dict[str, list[str]]:
    """For each Map whose iterations are steps (`name`, or `name#k` for chunk k), the step name of each index."""
    from dr.sfn.states_rds import MAX_INLINE_CONCURRENCY, chunks

    plan = defn.asl["States"]["plan"]["Result"]
    whole = {"promote": [f"promote:{i['db']}" for i in plan["databases"]],
             "backups": [f"backups:{i['db']}" for i in plan["clusters"]],
             "dns": [f"dns:{z['zone']}" for z in plan["zones"]],
             "fence": [f"fence:{i['db']}" for i in plan.get("plain", [])],
             "catch-up": [f"catch-up:{i['db']}" for i in plan.get("plain", [])],
             "fence-old-writer": [i.get("left_behind", {}).get("step", "") for i in plan.get("plain", [])]}
    out: dict[str, list[str]] = dict(defn.item_steps)  # failback's re-protect Maps ("" where no step)
    size = MAX_INLINE_CONCURRENCY
    for name, steps in whole.items():
        if chunks(len(steps)) == 1:
            out[name] = steps
        else:
            out.update({f"{name}#{k}": steps[k * size:(k + 1) * size] for k in range(chunks(len(steps)))})
    return out


def read(events: list[dict[str, Any]], defn: Definition, status: str) -> ExecutionView:
    """Steps from the history: a whole-step Map by its entered/exited events, a per-item Map by its iterations."""
    view = ExecutionView(status)
    names = item_names(defn)
    branches = {s for s in defn.steps if s.startswith("dns:")}
    open_maps: list[str] = []
    for event in events:
        kind, at = str(event["type"]), event["timestamp"]
        entered = event.get("stateEnteredEventDetails", {}).get("name")
        exited = event.get("stateExitedEventDetails", {}).get("name")
        _branch_step(view, branches, kind, entered, at)
        _outcome(view, event, at)
        if kind == "MapStateEntered" and entered:
            base = entered.split("#")[0]
            open_maps.append(base)
            if base in WHOLE_STEPS and base not in view.steps:
                view.steps[base] = StepView(base, StepStatus.PLANNED, at)
        elif kind == "MapStateExited" and exited:
            base = exited.split("#")[0]
            if base in open_maps:
                open_maps.remove(base)
            if base not in open_maps:  # the last chunk of a whole step ended
                _close(view, base, at, StepStatus.SUCCEEDED)
        elif kind.startswith("MapIteration"):
            _iteration(view, event, names, at)
        elif kind in ENDED_UNSUCCESSFULLY:
            _failure(view, event, at)
        elif kind == "ExecutionRedriven":
            _redriven(view, open_maps)
    return view


def _branch_step(view: ExecutionView, branches: set[str], kind: str, entered: str | None, at: datetime) -> None:
    """A zone's branch (states `dns:<zone>/...`): from its first state to its `done`."""
    if not entered or "/" not in entered:
        return
    step = entered.split("/", 1)[0]
    if step not in branches:
        return
    if step not in view.steps:
        view.steps[step] = StepView(step, StepStatus.PLANNED, at)
    if kind == "SucceedStateEntered" and entered == f"{step}/done":
        _close(view, step, at, StepStatus.SUCCEEDED)


def _outcome(view: ExecutionView, event: dict[str, Any], at: datetime) -> None:
    """An iteration's step ended as its `outcome` state says (entered: the iteration itself then succeeds)."""
    details = event.get("stateEnteredEventDetails") or {}
    if not str(details.get("name", "")).endswith(f"/{OUTCOME_STATE}"):
        return
    said = json.loads(details.get("input") or "{}").get("outcome") or {}
    step = view.steps.get(str(said.get("step", "")))
    if step is not None and step.ended_at is None and said.get("status") in set(StepStatus):
        step.ended_at, step.status, step.detail = at, StepStatus(said["status"]), str(said.get("detail", ""))


def _iteration(view: ExecutionView, event: dict[str, Any], names: dict[str, list[str]], at: datetime) -> None:
    details: dict[str, Any] = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
    mapped = names.get(str(details.get("name")))
    index = int(details.get("index", -1))
    if mapped is None or not 0 <= index < len(mapped):
        return
    step = mapped[index]
    if not step:
        return
    if event["type"] == "MapIterationStarted":
        view.steps[step] = StepView(step, StepStatus.PLANNED, at)
    elif event["type"] == "MapIterationSucceeded":
        _close(view, step, at, StepStatus.SUCCEEDED)
    elif event["type"] in ("MapIterationFailed", "MapIterationAborted"):
        _close(view, step, at, StepStatus.FAILED)


def _close(view: ExecutionView, name: str, at: datetime, status: StepStatus) -> None:
    step = view.steps.get(name)
    if step is not None and step.ended_at is None:
        step.ended_at, step.status = at, status


def _failure(view: ExecutionView, event: dict[str, Any], at: datetime) -> None:
    """The execution ended unsuccessfully: whatever step had not ended failed with it."""
    details = event.get(ENDED_UNSUCCESSFULLY[str(event["type"])]) or {}
    view.error = str(details.get("error", "")) or ("States.Timeout" if event["type"] == "ExecutionTimedOut" else "")
    view.cause = str(details.get("cause", ""))
    if event["type"] == "ExecutionAborted" and not view.cause:
        view.cause = "the execution was stopped (StopExecution)"
    for step in view.steps.values():
        if step.ended_at is None:
            step.ended_at, step.status = at, StepStatus.FAILED
            step.detail = view.cause or step.detail
    for step in view.steps.values():
        if step.status is StepStatus.FAILED and not step.detail and view.cause:
            step.detail = view.cause


def _redriven(view: ExecutionView, open_maps: list[str]) -> None:
    """RedriveExecution continues from the unsuccessful state: the failed steps run again (their new events
    open them anew), the succeeded ones keep their records, the failure is no longer the outcome."""
    view.error = view.cause = ""
    for name in [n for n, step in view.steps.items() if step.status is StepStatus.FAILED]:
        del view.steps[name]
    open_maps.clear()


def run_status(view: ExecutionView) -> RunStatus:
    """The run's status as a local run would have it: a drctl gate's Fail is a refusal."""
    if view.status == "RUNNING":
        return RunStatus.RUNNING
    if view.status == "SUCCEEDED":
        return RunStatus.SUCCEEDED
    if view.error in (asl.GATE_REFUSED, asl.FAILED_PRECONDITION, LOCKED):
        return RunStatus.REFUSED
    return RunStatus.FAILED


def follow(sfn: Any, arn: str, defn: Definition, clock: Clock, *, on_step: Callable[[StepView], None],
           poll: float = 2.0, once: bool = False) -> ExecutionView:
    """Poll the execution until it ends (or once), calling `on_step` for each step that started or ended."""
    seen: dict[str, StepStatus] = {}
    while True:
        status = str(sfn.describe_execution(executionArn=arn)["status"])
        view = read(list(history(sfn, arn)), defn, status)
        for step in view.steps.values():
            if seen.get(step.name) != step.status:
                seen[step.name] = step.status
                on_step(step)
        if status in TERMINAL or once:
            return view
        clock.sleep(poll)


def execution_input(run_id: str, accept_data_loss: bool, gate: tuple[str, str], generations: list[int], *,
                    planned: bool = False, fenced_ids: list[str] | None = None, catch_up_until: str = "") -> str:
    """`planned` runs the fence and catch-up; `fenced_ids` (plan order) name each source's fenced copy;
    `catch_up_until` ends the catch-up's metric query window."""
    return json.dumps({"run_id": run_id, "accept_data_loss": accept_data_loss,
                       "gate": {"start": gate[0], "end": gate[1]}, "generations": generations, "planned": planned,
                       "fenced_ids": fenced_ids or [], "catch_up_until": catch_up_until})
