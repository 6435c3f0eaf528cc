"""Runs a runbook's phases in order: single steps inline, parallel groups on a bounded thread pool.

A failed step with policy abort stops the run: members of its group already running finish (a read-only
member still polling to verify stops waiting), nothing new starts, later phases are reported `skipped`. An
interrupt (the `stop` event) does the same.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from dr.engine.env import max_concurrency
from dr.engine.events import Recorder, RunStatus
from dr.engine.journal.replay import RunHistory
from dr.engine.runbook import Parallel, Phase
from dr.engine.step import FailurePolicy, RunContext, Step, StepStatus
from dr.engine.step_runner import StepResult, StepRunner


@dataclass
class RunResult:
    status: RunStatus
    steps: list[Step] = field(default_factory=list)
    results: list[StepResult] = field(default_factory=list)
    failed_step: str | None = None


class Executor:
    def __init__(self, ctx: RunContext, recorder: Recorder, *, dry_run: bool = False,
                 history: RunHistory | None = None, stop: threading.Event | None = None,
                 halt: threading.Event | None = None) -> None:
        self.stop = stop or threading.Event()
        self.runner = StepRunner(ctx, recorder, dry_run=dry_run, history=history, stop=self.stop,
                                 on_failed=self._note_failure, aborting=self._aborting, halt=halt)
        self.history = history
        self._abort_reason: str | None = None
        self._failed_step: str | None = None
        self._lock = threading.Lock()

    def run(self, phases: Sequence[Phase]) -> RunResult:
        results: list[StepResult] = []
        steps: list[Step] = []
        for phase in phases:
            members = list(phase.steps) if isinstance(phase, Parallel) else [phase]
            steps.extend(members)
            if isinstance(phase, Parallel):
                results.extend(self._group(phase))
            else:
                results.append(self._member(phase))
        return RunResult(self._status(steps, results), steps, results, self._failed_step)

    def _member(self, step: Step) -> StepResult:
        reason = self._not_starting()
        if reason is not None:
            return self.runner.skip(step, reason)
        return self.runner.run(step)

    def _note_failure(self, step: Step) -> None:
        """Called by the runner the moment a step fails, before anyone is told: from then on no further
        member of a group is dispatched."""
        if step.policy is not FailurePolicy.ABORT:
            return
        with self._lock:
            if self._abort_reason is None:
                self._failed_step = step.name
                self._abort_reason = f"not started: {step.name} failed"

    def _aborting(self) -> str | None:
        with self._lock:
            return self._failed_step

    def _not_starting(self) -> str | None:
        if self._abort_reason is not None:
            return self._abort_reason
        return self._interrupted()

    def _interrupted(self) -> str | None:
        return "not started: the run was interrupted" if self.stop.is_set() else None

    def _group(self, group: Parallel) -> list[StepResult]:
        """Dispatch members in order as worker slots free up. A member is *started* when it is dispatched:
        it then runs to its end even if another fails meanwhile. The members that fit in the group's slots all
        start together; only a member that queues for a slot checks first whether the run is aborting. So a
        group that fits (e.g. every promotion at once) never starts some members and not others because one
        failed a moment earlier: which members start does not depend on thread scheduling."""
        workers = max(1, min(group.max_concurrency, max_concurrency() or group.max_concurrency, len(group.steps)))
        limits = {family: threading.BoundedSemaphore(n) for family, n in group.family_limits.items()}
        free = threading.Semaphore(workers)

        def member(step: Step) -> StepResult:
            try:
                return self._dispatched(step, limits.get(step.api_family))
            finally:
                free.release()

        results: list[StepResult | Future[StepResult]] = []
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"drctl-{group.name}") as pool:
            before = self._not_starting()  # a run already aborting starts nothing of the group
            for index, step in enumerate(group.steps):
                free.acquire()
                reason = before or (self._not_starting() if index >= workers else self._interrupted())
                if reason is not None:
                    free.release()
                    results.append(self.runner.skip(step, reason))
                else:
                    results.append(pool.submit(member, step))
            return [r.result() if isinstance(r, Future) else r for r in results]

    def _dispatched(self, step: Step, family: threading.BoundedSemaphore | None) -> StepResult:
        """Run a dispatched member. Only one that had to queue for its API family's slot looks again at
        whether the run is stopping (it has not started any work yet). The family slot bounds members
        *working* (reading, acting): a member gives it back when it starts waiting for AWS (verify polling),
        so three hosted zones waiting for INSYNC do not hold back fifty health-check updates."""
        if family is None:
            return self.runner.run(step)
        if not family.acquire(blocking=False):
            family.acquire()
            reason = self._not_starting()
            if reason is not None:
                family.release()
                return self.runner.skip(step, reason)
        slot = _Slot(family)
        try:
            return self.runner.run(step, on_wait=slot.release)
        finally:
            slot.release()

    def _status(self, steps: list[Step], results: list[StepResult]) -> RunStatus:
        failed = [(s, r) for s, r in zip(steps, results, strict=True)
                  if r.record.status is StepStatus.FAILED and s.policy is FailurePolicy.ABORT]
        if failed:
            mutated = self.history is not None and self.history.mutated
            mutated = mutated or any(s.mutating and r.record.status is StepStatus.SUCCEEDED
                                     for s, r in zip(steps, results, strict=True))
            return RunStatus.REFUSED if all(r.refused for _, r in failed) and not mutated else RunStatus.FAILED
        if self.stop.is_set() and any(r.record.status is StepStatus.SKIPPED for r in results):
            return RunStatus.INTERRUPTED
        mutating = [r.record.status for s, r in zip(steps, results, strict=True) if s.mutating]
        # A step that did not apply (skipped) neither makes nor spoils "already done".
        if StepStatus.ALREADY_DONE in mutating and all(
                status in (StepStatus.ALREADY_DONE, StepStatus.SKIPPED) for status in mutating):
            return RunStatus.ALREADY_DONE
        return RunStatus.SUCCEEDED


class _Slot:
    """A held API-family slot, released once: when its step starts waiting, or when it ends."""

    def __init__(self, family: threading.BoundedSemaphore) -> None:
        self._family: threading.BoundedSemaphore | None = family
        self._lock = threading.Lock()

    def release(self) -> None:
        with self._lock:
            family, self._family = self._family, None
        if family is not None:
            family.release()
