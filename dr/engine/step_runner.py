"""Runs one step: is_done -> check -> act (journaled intent/outcome, retried) -> verify (polled), on a budget.

The step's budget bounds everything it does: retries stop at the attempt limit or when the next attempt
could not start within the budget, whichever comes first; verification polls until the budget is spent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from tenacity import RetryCallState

from dr.aws.errors import describe as describe_error
from dr.aws.errors import is_retryable
from dr.engine.events import EventKind, Recorder
from dr.engine.journal.base import JournalError
from dr.engine.journal.replay import RunHistory, StepRecord
from dr.engine.step import PreconditionFailed, RunContext, Step, StepNotApplicable, StepStatus
from dr.errors import GateRefused, Interrupted, StepFailed
from dr.retry import retrying

T = TypeVar("T")


@dataclass
class StepResult:
    record: StepRecord
    refused: bool = False
    """A safety gate (PreconditionFailed or GateRefused) stopped the step."""


class StepRunner:
    def __init__(self, ctx: RunContext, recorder: Recorder, *, dry_run: bool = False,
                 history: RunHistory | None = None, stop: threading.Event | None = None,
                 on_failed: Callable[[Step], None] | None = None,
                 aborting: Callable[[], str | None] | None = None, halt: threading.Event | None = None) -> None:
        self.ctx = ctx
        self.clock = ctx.clock
        self.recorder = recorder
        self.dry_run = dry_run
        self.history = history
        self.stop = stop or threading.Event()
        self.halt = halt or threading.Event()
        """Set by a second interrupt: even a step that called AWS stops verifying (resume re-checks it)."""
        self.on_failed = on_failed
        self.aborting = aborting or (lambda: None)
        self.planned_mutation = threading.Event()
        """Set in a dry run once a mutating step ended `planned`: what follows may depend on it."""
        """The step whose failure is stopping the run, if one is: a read-only step stops waiting then."""

    def run(self, step: Step, *, on_wait: Callable[[], None] | None = None) -> StepResult:
        """Run `step` to its end. `on_wait` is called once, when the step first sleeps between verify polls
        (the executor gives the step's API-family slot back then)."""
        settled = self.history.settled(step.name) if self.history else None
        if settled is not None:
            self._finished(step, settled, durable=False)
            return StepResult(settled)
        record = StepRecord(name=step.name, resource=step.resource, started_at=self.clock.now(),
                            budget=step.budget)
        self.recorder.emit(EventKind.STEP_STARTED, step=step.name, resource=step.resource, budget=step.budget)
        attempt = _Attempt(self, step, record, on_wait)
        refused = False
        try:
            record.status, record.detail = attempt.run()
        except StepNotApplicable as err:
            record.status, record.detail = StepStatus.SKIPPED, str(err)
        except (PreconditionFailed, GateRefused) as err:
            record.status, record.detail, refused = StepStatus.FAILED, f"refused: {err}", True
        except Interrupted as err:
            record.status, record.detail = StepStatus.SKIPPED, f"interrupted: {err}"
        except JournalError:
            raise
        except Exception as err:
            record.status, record.detail = StepStatus.FAILED, _reason(err)
        record.duration = attempt.elapsed()
        self._finished(step, record)
        return StepResult(record, refused)

    def skip(self, step: Step, reason: str) -> StepResult:
        record = StepRecord(name=step.name, resource=step.resource, status=StepStatus.SKIPPED,
                            started_at=self.clock.now(), budget=step.budget, detail=reason)
        self._finished(step, record)
        return StepResult(record)

    def _finished(self, step: Step, record: StepRecord, *, durable: bool = True) -> None:
        if record.status is StepStatus.FAILED and self.on_failed is not None:
            self.on_failed(step)
        started = record.started_at.isoformat() if record.started_at else None
        self.recorder.emit(EventKind.STEP_FINISHED, durable=durable, step=step.name, resource=record.resource,
                           status=str(record.status), attempt=record.attempts, budget=record.budget,
                           duration=round(record.duration, 3), detail=record.detail,
                           data={"started_at": started, "mutating": step.mutating, "policy": str(step.policy)})


def _reason(err: BaseException) -> str:
    return str(err) if isinstance(err, StepFailed) else describe_error(err)


class _Attempt:
    """The life of one step in one run."""

    def __init__(self, runner: StepRunner, step: Step, record: StepRecord,
                 on_wait: Callable[[], None] | None = None) -> None:
        self.runner = runner
        self.on_wait = on_wait
        self.step = step
        self.record = record
        self.ctx = runner.ctx
        self.clock = runner.clock
        self.start = self.clock.monotonic()
        self.deadline = self.start + step.budget

    def elapsed(self) -> float:
        return self.clock.monotonic() - self.start

    def run(self) -> tuple[StepStatus, str]:
        """is_done -> check -> act -> verify. In a dry run, a step after a planned (not performed) mutation is
        checked once and planned: its preconditions may be what that mutation establishes (a failback's switch
        after its re-protect), so what it finds is reported, not refused, and nothing is waited for."""
        if not (self.runner.dry_run and self.runner.planned_mutation.is_set()):
            return self._run()
        try:
            return self._run(deferred=True)
        except (PreconditionFailed, GateRefused, StepFailed) as err:
            return StepStatus.PLANNED, f"to be checked once the steps above have run: {err}"

    def _run(self, *, deferred: bool = False) -> tuple[StepStatus, str]:
        step = self.step
        history = self.runner.history
        pending = history is not None and step.name in history.pending
        if self._read(step.is_done):
            if pending or (history is not None and step.name in history.accepted):
                return StepStatus.SUCCEEDED, "completed by the interrupted run (is_done confirmed it on resume)"
            return StepStatus.ALREADY_DONE, "already in the desired state"
        if pending and type(step).is_done is Step.is_done:
            raise StepFailed(f"a call of {step.name} was in flight when the run stopped and the step cannot tell "
                             f"whether it took effect; check {step.resource or step.name} by hand, then resume")
        self._read(step.check)
        if self.runner.dry_run and step.mutating:
            self.runner.planned_mutation.set()
            return StepStatus.PLANNED, "; ".join(step.describe(self.ctx)) or "would act"
        if deferred:
            return StepStatus.PLANNED, "runs after the steps above: " + ("; ".join(step.describe(self.ctx)) or "reads")
        detail = self._act()
        self._verify()
        return StepStatus.SUCCEEDED, detail or "done"

    def _retrier(self) -> Any:
        def on_retry(state: RetryCallState) -> None:
            err = state.outcome.exception() if state.outcome else None
            self.runner.recorder.emit(EventKind.STEP_RETRIED, step=self.step.name, attempt=state.attempt_number,
                                      detail=describe_error(err) if err else "")

        return retrying(clock=self.clock, attempts=self.step.max_attempts, deadline=self.deadline,
                        before_sleep=on_retry)

    def _read(self, fn: Callable[[RunContext], T]) -> T:
        """A read-only call (is_done, check): retried on retryable errors within the budget."""
        calls = 0
        try:
            for attempt in self._retrier():
                with attempt:
                    calls += 1
                    return fn(self.ctx)
        except Exception as err:
            raise self._explain(err, f"{getattr(fn, '__name__', 'read')}", calls) from err
        raise AssertionError("unreachable: tenacity re-raises or returns")

    def _act(self) -> str | None:
        calls = 0

        def once() -> str | None:
            nonlocal calls
            if self.runner.stop.is_set():
                raise Interrupted("stopped before acting")
            if calls and self.step.mutating and self.step.is_done(self.ctx):
                return "done (the previous, failed-looking call took effect)"
            calls += 1
            self.record.attempts = calls
            return self._journaled_act(calls)

        try:
            for attempt in self._retrier():
                with attempt:
                    return once()
        except (PreconditionFailed, StepNotApplicable, GateRefused, Interrupted, JournalError):
            raise
        except Exception as err:
            raise self._explain(err, "act", calls) from err
        raise AssertionError("unreachable: tenacity re-raises or returns")

    def _journaled_act(self, attempt: int) -> str | None:
        if not self.step.mutating:
            return self.step.act(self.ctx)
        recorder = self.runner.recorder
        recorder.emit(EventKind.STEP_INTENT, step=self.step.name, resource=self.step.resource, attempt=attempt)
        try:
            result = self.step.act(self.ctx)
        except Exception as err:  # a KeyboardInterrupt leaves the intent open: resume asks is_done
            recorder.emit(EventKind.STEP_OUTCOME, step=self.step.name, status="error", attempt=attempt,
                          detail=describe_error(err))
            raise
        recorder.emit(EventKind.STEP_OUTCOME, step=self.step.name, status="ok", attempt=attempt,
                      detail=result or "")
        return result

    def _explain(self, err: BaseException, what: str, calls: int) -> BaseException:
        passthrough = PreconditionFailed | StepNotApplicable | GateRefused | Interrupted | StepFailed | JournalError
        if isinstance(err, passthrough):
            return err
        budget = self.step.budget
        tries = f" after {calls} attempt(s)" if calls else ""
        if not is_retryable(err):
            return StepFailed(f"{what} failed with a non-retryable error{tries}: {describe_error(err)}")
        if calls < self.step.max_attempts:
            return StepFailed(f"budget of {budget:g}s spent{tries}; last error: {describe_error(err)}")
        return StepFailed(f"gave up{tries} (attempt limit {self.step.max_attempts}); "
                          f"last error: {describe_error(err)}")

    def _verify(self) -> None:
        interval = self.step.poll_initial
        last = ""
        while True:
            try:
                if self.step.verify(self.ctx):
                    return
            except Exception as err:
                if not is_retryable(err):
                    raise StepFailed(f"verification failed: {describe_error(err)}") from err
                last = f"; last error: {describe_error(err)}"
            # A first interrupt lets a step that called AWS finish verifying within its budget; a second stops it.
            if self.runner.halt.is_set() or (self.runner.stop.is_set() and not self.step.mutating):
                raise Interrupted("stopped while verifying; resume re-checks it")
            failed = None if self.step.mutating else self.runner.aborting()
            if failed is not None:  # a read-only step has nothing to finish: it stops waiting
                raise Interrupted(f"stopped waiting: {failed} failed")
            remaining = self.deadline - self.clock.monotonic()
            if remaining <= 0:
                raise StepFailed(f"not verified within its budget of {self.step.budget:g}s{last}")
            waiting, self.on_wait = self.on_wait, None
            if waiting is not None:
                waiting()
            self.clock.sleep(min(interval, remaining))
            interval = min(interval * 2, self.step.poll_max)
