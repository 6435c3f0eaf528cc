"""Step Functions' RedriveExecution in the sandbox: a failed, aborted or timed-out execution continues where it
stopped, in the same execution and the same history, as on AWS (moto 5.2 has the API's types but no action).

AWS (Step Functions API Reference, "RedriveExecution",
https://docs.aws.amazon.com/step-functions/latest/apireference/API_RedriveExecution.html, and Developer Guide,
"Restarting state machine executions with redrive in Step Functions",
https://docs.aws.amazon.com/step-functions/latest/dg/redrive-executions.html): only Standard workflows; the
execution continues from the unsuccessful step with that step's input, successful steps are not rerun and their
history is kept, with the same execution ARN and definition. Refused with `ExecutionNotRedrivable` when the
execution is RUNNING or SUCCEEDED, stopped more than 14 days ago, open for more than a year, or has 24,999 history
events or more; `ExecutionDoesNotExist` for an unknown ARN. The answer is `{"redriveDate": ...}`; a `clientToken`
used for one of the last 10 successful redrives of the execution, within 15 minutes, gets that redrive's answer
again. DescribeExecution shows `redriveCount` (0 before any), `redriveDate`, `redriveStatus` (REDRIVABLE or
NOT_REDRIVABLE) and `redriveStatusReason` (AWS's texts); ListExecutions items `redriveCount` and `redriveDate`;
the history gets an `ExecutionRedriven` event (`executionRedrivenEventDetails.redriveCount`).

Here the interpreter re-enters the last top-level state entered before the stop (inner states of a Map or Parallel
are skipped until that container exits) with the input of its StateEntered event, in the same Execution object,
appending to the same event history (ids continue): RUNNING again, stopDate, error and cause cleared until the new
outcome. Simplification: AWS redrives only the failed or aborted iterations and branches of an Inline Map or
Parallel state; here the whole Map or Parallel state runs again (drctl's generated iterations check before they act,
so none acts twice). The 14-day and one-year windows and `redriveDate` follow the sandbox clock (`STATE.now()`), and
an execution's stop is recorded on that clock too. Not modelled: AWS's 1,000-redrive quota; an EXPRESS execution is
refused with ExecutionNotRedrivable (AWS documents only that EXPRESS is unsupported). The machine's TimeoutSeconds
counts again from the redrive. An execution that ended in a Fail state (e.g. after a Catch) is redriven into that
Fail state, its last top-level state, and fails again.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from dr.sandbox.extensions import _guard
from dr.sandbox.extensions.state import STATE

REDRIVABLE_PERIOD = timedelta(days=14)
MAX_OPEN_TIME = timedelta(days=365)
MAX_HISTORY_EVENTS = 24_999
TOKEN_LIFETIME = timedelta(minutes=15)
TOKENS_KEPT = 10
_ATTR = "_drctl_redrive"
_LOCK = threading.Lock()
_CONTAINERS = {"MapStateEntered": "MapStateExited", "ParallelStateEntered": "ParallelStateExited"}


@dataclass
class RedriveRecord:
    """What the sandbox knows of one execution's redrives (kept on moto's Execution object)."""

    count: int = 0
    date: datetime | None = None
    stopped_at: datetime | None = None
    """When the execution last stopped, on the sandbox clock."""
    tokens: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)
    """clientToken -> (first used at, the redriveDate it answered), the newest last."""


def record_of(execution: Any) -> RedriveRecord:
    record = getattr(execution, _ATTR, None)
    if record is None:
        record = RedriveRecord()
        setattr(execution, _ATTR, record)
    return record


def install() -> None:
    from moto.stepfunctions.responses import StepFunctionResponse

    from dr.sandbox.extensions import sfn_tasks

    _guard.add(StepFunctionResponse, "redrive_execution", _redrive_response)
    _guard.replace(StepFunctionResponse, "describe_execution", _describe_execution, [])
    _guard.replace(StepFunctionResponse, "list_executions", _list_executions, [])
    if _patch_interpreter not in sfn_tasks.ON_FIRST_EXECUTION:
        sfn_tasks.ON_FIRST_EXECUTION.append(_patch_interpreter)


def _patch_interpreter() -> None:
    """The sandbox-clock stop time of every execution (moto's `stop_date` is wall time)."""
    from moto.stepfunctions.parser.backend import execution as module

    _guard.replace(module.BaseExecutionWorkerCommunication, "terminated", _terminated, [])


def _terminated(self: Any) -> None:
    _guard.original(type(self), "terminated")(self)
    record_of(self.execution).stopped_at = STATE.now()


def _not_redrivable(message: str) -> Exception:
    from moto.stepfunctions.exceptions import StepFunctionsException

    error = StepFunctionsException(message)
    error.code = "ExecutionNotRedrivable"
    return error


def not_redrivable_reason(execution: Any) -> str | None:
    """AWS's `redriveStatusReason` when RedriveExecution would be refused, else None."""
    status = execution.status
    if getattr(execution, "sm_type", "STANDARD") == "EXPRESS":
        return "Execution is an EXPRESS execution: redrive is supported for STANDARD state machines only"
    if status in ("RUNNING", "SUCCEEDED"):
        return f"Execution is {status} and cannot be redriven"
    if getattr(execution, "exec_worker", None) is None or execution.exec_worker.env is None:
        return "Execution was not run by the sandbox's interpreter (stepfunctions.execute_state_machine)"
    now = STATE.now()
    stopped = record_of(execution).stopped_at or execution.stop_date
    if stopped is not None and now - stopped > REDRIVABLE_PERIOD:
        return "Execution redrivable period exceeded"
    if now - execution.start_date > MAX_OPEN_TIME:
        return "Execution has exceeded the max execution time"
    if len(execution.exec_worker.env.event_manager.get_event_history()) >= MAX_HISTORY_EVENTS:
        return "Execution history event limit exceeded"
    return None


def restart_point(events: list[dict[str, Any]]) -> tuple[str, Any] | None:
    """The last top-level state entered and its input, from the history; None when no state was entered."""
    last: tuple[str, Any] | None = None
    open_container: tuple[str, str] | None = None  # (exit event type, state name) of a top-level Map/Parallel
    for event in events:
        kind = event["type"]
        if kind == "ExecutionRedriven":
            open_container = None  # the container that stopped the execution never exited
            continue
        if open_container is not None:
            exited = event.get("stateExitedEventDetails", {}).get("name")
            if (kind, exited) == open_container:
                open_container = None
            continue
        if kind.endswith("StateEntered"):
            details = event["stateEnteredEventDetails"]
            last = (details["name"], json.loads(details.get("input") or "{}"))
            if kind in _CONTAINERS:
                open_container = (_CONTAINERS[kind], details["name"])
    return last


def redrive(backend: Any, execution_arn: str, client_token: str | None) -> datetime:
    """Redrive the execution (or answer again for a known clientToken); returns its redriveDate."""
    execution = backend.describe_execution(execution_arn)  # ExecutionDoesNotExist / InvalidArn as moto answers
    with _LOCK:
        record = record_of(execution)
        now = STATE.now()
        known = record.tokens.get(client_token) if client_token else None
        if known is not None and now - known[0] <= TOKEN_LIFETIME:
            return known[1]
        reason = not_redrivable_reason(execution)
        if reason is not None:
            raise _not_redrivable(f"{reason}: '{execution_arn}'")
        record.count += 1
        record.date = now
        if client_token:
            record.tokens.pop(client_token, None)
            record.tokens[client_token] = (now, now)
            for old in list(record.tokens)[:-TOKENS_KEPT]:
                del record.tokens[old]
        _restart(execution, record.count)
        return now


def _restart(execution: Any, count: int) -> None:
    """Continue the stopped program at its restart point, in the same environment and history."""
    from moto.stepfunctions.parser.api import ExecutionStatus, HistoryEventType
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramRunning

    worker = execution.exec_worker
    env = worker.env
    program = worker._get_evaluation_entrypoint()
    point = restart_point(env.event_manager.get_event_history())
    name, state_input = point if point is not None else (program.start_at.start_at_name, execution.input_data)
    if name not in program.states.states:
        raise _guard.shape_error(f"the history names state {name!r}, which the definition lacks")
    details: Any = {"executionRedrivenEventDetails": {"redriveCount": count}}  # moto's EventDetails lacks the key
    env.event_manager.add_event(context=env.event_history_context, event_type=HistoryEventType.ExecutionRedriven,
                                event_details=details)
    with env._state_mutex:
        env._frames.clear()  # frames of the stopped attempt (a failed Map's iterations) are over
        env._program_state = ProgramRunning()  # type: ignore[no-untyped-call]
        env.next_state_name = name
    env.program_state_event.clear()
    env.stack.clear()
    env.heap.clear()
    env.states.reset(input_value=state_input)
    execution.exec_status = ExecutionStatus.RUNNING
    execution.stop_date = None
    execution.output = None
    execution.error = None
    execution.cause = None
    record_of(execution).stopped_at = None
    _start_thread(lambda: _run(program, worker))


def _start_thread(target: Any) -> None:
    from moto.stepfunctions.parser.utils import TMP_THREADS

    thread = threading.Thread(target=target, daemon=True)
    TMP_THREADS.append(thread)  # as moto's own workers: joined by whoever waits for executions
    thread.start()


def _run(program: Any, worker: Any) -> None:
    """What moto's Program.eval does, from the state already set as next rather than StartAt."""
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
    from moto.stepfunctions.parser.utils import TMP_THREADS

    env = worker.env
    timeout = program.timeout_seconds.timeout_seconds if program.timeout_seconds else None
    inner = threading.Thread(target=EvalComponent.eval, args=(program, env), daemon=True)
    TMP_THREADS.append(inner)
    inner.start()
    inner.join(timeout=timeout)
    if inner.is_alive():
        env.set_timed_out()
    worker._execution_communication.terminated()


def _redrive_response(self: Any) -> Any:
    from moto.core.responses import ActionResult

    date = redrive(self.stepfunction_backend, self._get_param("executionArn"), self._get_param("clientToken"))
    return ActionResult({"redriveDate": date})


def redrive_fields(execution: Any) -> dict[str, Any]:
    """DescribeExecution's redrive fields for one execution."""
    record = record_of(execution)
    fields: dict[str, Any] = {"redriveCount": record.count}
    if record.date is not None:
        fields["redriveDate"] = record.date
    reason = not_redrivable_reason(execution)
    fields["redriveStatus"] = "REDRIVABLE" if reason is None else "NOT_REDRIVABLE"
    if reason is not None:
        fields["redriveStatusReason"] = reason
    return fields


def _describe_execution(self: Any) -> Any:
    answer = _guard.original(type(self), "describe_execution")(self)
    execution = self.stepfunction_backend.describe_execution(self._get_param("executionArn"))
    body = answer.result
    body.update(redrive_fields(execution))
    if execution.status == "TIMED_OUT" and execution.stop_date is not None:
        body["stopDate"] = execution.stop_date  # moto leaves it out; AWS: "If the execution ended"
    return answer


def _list_executions(self: Any) -> Any:
    answer = _guard.original(type(self), "list_executions")(self)
    machine = self.stepfunction_backend.describe_state_machine(self._get_param("stateMachineArn"))
    by_arn = {e.execution_arn: e for e in machine.executions}
    for item in answer.result["executions"]:
        execution = by_arn.get(item["executionArn"])
        if execution is None:
            continue
        fields = redrive_fields(execution)
        item["redriveCount"] = fields["redriveCount"]
        if "redriveDate" in fields:
            item["redriveDate"] = fields["redriveDate"]
        if execution.status == "TIMED_OUT" and execution.stop_date is not None:
            item["stopDate"] = execution.stop_date
    return answer
