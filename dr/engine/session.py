"""One run, start to finish: lock, journal header, executor with observers and interrupts, report.

`new_header` + `RunSession.start()` begin a run; `load_history` + `RunSession.resume()` continue one from
its journal. Both return a RunOutcome whose `exit_code` follows the exit codes of docs/reference.md.
"""

from __future__ import annotations

import getpass
import os
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from dr.engine.compensation import compensate
from dr.engine.env import kill_after_events
from dr.engine.events import EventBus, EventKind, Observer, Recorder, RunStatus
from dr.engine.executor import Executor
from dr.engine.interrupts import interrupt_guard
from dr.engine.journal.base import Journal, JournalBackend, last_seq, read_events
from dr.engine.journal.header import RunHeader, topology_hash
from dr.engine.journal.liveness import half_moved_by, half_moved_error
from dr.engine.journal.replay import RunHistory, replay
from dr.engine.lock.base import LockInfo, RunLock, lock_key
from dr.engine.report import ReportBuilder
from dr.engine.runbook import Runbook, steps_of
from dr.engine.step import RunContext, RunOptions
from dr.errors import ConfigError, DrError, GateRefused, UsageError

if TYPE_CHECKING:
    from dr.clock import Clock
    from dr.config.model import Topology

T = TypeVar("T")
EXIT_CODES: dict[RunStatus, int] = {
    RunStatus.SUCCEEDED: 0, RunStatus.ALREADY_DONE: 0, RunStatus.FAILED: 1, RunStatus.REFUSED: 3,
    RunStatus.INTERRUPTED: 130, RunStatus.RUNNING: 1,
}


@dataclass
class RunOutcome:
    status: RunStatus
    report: dict[str, Any]

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]


@dataclass
class Services:
    """What a run needs from outside; tests inject fakes."""

    clock: Clock
    backend: JournalBackend
    lock: RunLock | None
    """None: no lock (dry-runs, which change nothing)."""
    observers: list[Observer] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    halt: threading.Event = field(default_factory=threading.Event)
    """Set by a second interrupt: steps stop even verifying a call they made."""


def new_run_id(runbook: str, target: str, now: datetime) -> str:
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{runbook}-{target}-{secrets.token_hex(2)}"


def holder() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def new_header(runbook: type[Runbook], topology: Topology, topology_path: Path, *, source: str, target: str,
               run_id: str, options: RunOptions, now: datetime, incident_start: datetime | None = None
               ) -> RunHeader:
    if incident_start is not None and incident_start > now:
        raise UsageError(f"--incident-start {incident_start.isoformat()} is in the future")
    user, _, host = holder().partition("@")
    return RunHeader(
        run_id=run_id, runbook=runbook.name, source=source, target=target,
        mode="dry-run" if options.dry_run else runbook.mode, topology_path=str(topology_path.resolve()),
        topology_hash=topology_hash(topology_path), started_at=now, clock_started_at=incident_start or now,
        rto_seconds=float(topology.objectives.rto), rpo_seconds=float(topology.objectives.rpo),
        user=user, host=host, pid=os.getpid(), options=options)


def load_history(backend: JournalBackend, run_id: str) -> RunHistory:
    """The replayed journal of `run_id`; an unreachable store is a StateUnavailable (exit 3), not a traceback."""
    return replay(state_call(f"read the journal {backend.location}", lambda: read_events(backend, run_id)))


def check_topology_unchanged(header: RunHeader, path: Path) -> None:
    """Resume rebuilds the steps from the topology: it must be the file the run began with."""
    try:
        current = topology_hash(path)
    except OSError as err:
        raise ConfigError(f"run {header.run_id} used {path}, which cannot be read now: {err}") from err
    if current != header.topology_hash:
        raise ConfigError(f"the topology {path} changed since run {header.run_id} began (sha256 "
                          f"{header.topology_hash[:12]}… then, {current[:12]}… now); resuming would run different "
                          "steps. Restore the file, or start a new run")


class StateUnavailable(GateRefused):
    """The journal store or the lock cannot be reached: the run does not start (exit 3, nothing touched)."""


def state_call(what: str, call: Callable[[], T]) -> T:
    """A call to the run state store; its failures (access denied, unreachable) refuse the run cleanly."""
    try:
        return call()
    except DrError:
        raise
    except Exception as err:
        from dr.aws.errors import describe

        raise StateUnavailable(f"cannot {what}: {describe(err)}; nothing was changed. Check access to it "
                               "(topology `state` section) and run again") from err


class RunSession:
    def __init__(self, runbook: Runbook, ctx: RunContext, header: RunHeader, services: Services) -> None:
        self.runbook = runbook
        self.ctx = ctx
        self.header = header
        self.services = services
        self.phases = runbook.phases(ctx)
        self.order = [s.name for s in steps_of(self.phases)]
        duplicates = sorted({n for n in self.order if self.order.count(n) > 1})
        if duplicates:
            raise UsageError(f"runbook {runbook.name} has duplicate step names {duplicates}: the journal keys "
                             "steps by name")

    def start(self, *, break_lock: bool = False) -> RunOutcome:
        backend = self.services.backend
        existing = state_call(f"read the journal store {backend.location}", lambda: backend.read(self.header.run_id))
        if existing is not None:
            raise UsageError(f"run id {self.header.run_id} is already used; pick another or "
                             f"`drctl resume {self.header.run_id}`")
        return self._run(None, break_lock=break_lock)

    def resume(self, history: RunHistory, *, break_lock: bool = False) -> RunOutcome:
        self.ctx.facts.update(history.facts)
        return self._run(history, break_lock=break_lock)

    def _run(self, history: RunHistory | None, *, break_lock: bool) -> RunOutcome:
        lock = self.services.lock
        me = self._me()
        if history is None and lock is not None and self.runbook.waits_for_dead_runs:
            self._refuse_if_half_moved(lock)
        broken = state_call(f"take the run lock {lock.location}", lambda: lock.acquire(me, break_lock=break_lock)
                        ) if lock is not None else None
        if lock is not None:
            lock.on_lost(self.services.stop.set)
        backend = self.services.backend
        seq = last_seq(backend, self.header.run_id) if history is not None else 0
        journal = Journal(backend, self.header.run_id, last_seq=seq, kill_after=kill_after_events())
        try:
            recorder, report = self._recorder(journal, history)
            if history is None:
                recorder.emit(EventKind.RUN_STARTED, data=self.header.to_data())
            else:
                recorder.emit(EventKind.RUN_RESUMED, data={"pid": os.getpid(), "by": holder()})
            if broken is not None:
                own = broken.run_id == self.header.run_id
                what = "took over the lock of this run's dead process" if own else "broke the lock of"
                recorder.emit(EventKind.LOCK_BROKEN, detail=f"{what}: {broken.describe()}", data=broken.to_data())
            return self._execute(recorder, report, history)
        finally:
            journal.close()
            if lock is not None:
                lock.release()

    def _refuse_if_half_moved(self, lock: RunLock) -> None:
        """Before the lock, the journal and any step: a dead run that changed this pair and never ended must be
        resumed first (its target is half-moved; a new run's gates would refuse it for a misleading reason)."""
        backend, h = self.services.backend, self.header
        dead = state_call(f"read the journals in {backend.location}",
                          lambda: half_moved_by(backend, h.source, h.target, lock, exclude=h.run_id))
        if dead is not None:
            raise half_moved_error(dead)

    def _me(self) -> LockInfo:
        return LockInfo(key=lock_key(self.header.source, self.header.target), run_id=self.header.run_id,
                        holder=holder(), pid=os.getpid(), since=self.services.clock.now())

    def _recorder(self, journal: Journal, history: RunHistory | None) -> tuple[Recorder, ReportBuilder]:
        bus = EventBus()
        report = ReportBuilder(self.header, self.order, journal=self.services.backend.where(self.header.run_id),
                               rto_window=self.runbook.rto_window(self.ctx),
                               milestones=self.runbook.milestones(self.ctx))
        if history is not None:
            report.seed(history)
        bus.subscribe(report)
        for observer in self.services.observers:
            bus.subscribe(observer)
        recorder = Recorder(journal, bus, self.services.clock.now)

        def journal_fact(key: str, value: Any) -> None:
            recorder.emit(EventKind.FACT, data={"key": key, "value": value})

        self.ctx.on_fact = journal_fact
        return recorder, report

    def _execute(self, recorder: Recorder, report: ReportBuilder, history: RunHistory | None) -> RunOutcome:
        stop = self.services.stop
        halt = self.services.halt
        executor = Executor(self.ctx, recorder, dry_run=self.header.options.dry_run, history=history, stop=stop,
                            halt=halt)
        try:
            with interrupt_guard(stop, halt):
                result = executor.run(self.phases)
                status = result.status
                if status is RunStatus.FAILED and self.runbook.compensate_on_failure:
                    compensate(self.ctx, recorder, result.steps, result.results)
        except KeyboardInterrupt:
            status = RunStatus.INTERRUPTED
        document = report.build(status, self.services.clock.now(), self.ctx.facts)
        recorder.emit(EventKind.RUN_FINISHED, status=str(status), detail=document["next_action"],
                      data={"report": document})
        return RunOutcome(status, document)
