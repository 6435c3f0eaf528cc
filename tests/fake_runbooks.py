"""Fake steps, runbooks and a virtual clock for the engine's tests; also a plugin module for `drctl`.

Imported by `drctl` through $DRCTL_RUNBOOK_MODULES=tests.fake_runbooks, it registers `test-ledger`: a
runbook whose mutations append lines to a file ledger ($DRCTL_TEST_LEDGER), so a crash test can check
that every mutation happened exactly once.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dr.config import load
from dr.engine.events import Observer
from dr.engine.journal.header import RunHeader, topology_hash
from dr.engine.journal.local import LocalBackend
from dr.engine.lock.local import LocalLock
from dr.engine.registry import register
from dr.engine.runbook import Parallel, Phase, Runbook
from dr.engine.session import RunOutcome, RunSession, Services
from dr.engine.step import FailurePolicy, RunContext, RunOptions, Step
from dr.engine.timeline import Milestones

EXAMPLE = Path(__file__).resolve().parent.parent / "dr" / "examples" / "dr.yaml"
LEDGER_ENV_VAR = "DRCTL_TEST_LEDGER"
KILL_AFTER_ACT_ENV_VAR = "DRCTL_TEST_KILL_AFTER_ACT"
"""FAULT INJECTION (tests only): SIGKILL right after this step's mutation, before its outcome is journaled."""
HOLD_FILE_ENV_VAR = "DRCTL_TEST_HOLD_UNTIL"
"""The `hold` step of `test-hold` waits until this file exists (concurrency test)."""


class VirtualClock:
    """A fake clock on which concurrent sleeps overlap: time advances once `parties` threads sleep (or,
    as a fallback, after a short real wait), to the earliest wake-up. Serial sleeps add up, parallel
    ones do not, so the fake time a group takes measures its real overlap."""

    def __init__(self, parties: int, start: datetime | None = None) -> None:
        self.parties = parties
        self._start = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._now = 0.0
        self._wakes: list[float] = []
        self._cond = threading.Condition()

    def now(self) -> datetime:
        from datetime import timedelta

        with self._cond:
            return self._start + timedelta(seconds=self._now)

    def monotonic(self) -> float:
        with self._cond:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._cond:
            wake = self._now + max(seconds, 0.0)
            self._wakes.append(wake)
            self._cond.notify_all()
            while self._now < wake:
                pending = [w for w in self._wakes if w > self._now]
                if len(pending) >= self.parties or not self._cond.wait(timeout=0.5):
                    self._now = min(w for w in self._wakes if w > self._now)
                    self._cond.notify_all()
            self._wakes.remove(wake)


@dataclass
class Calls:
    """A thread-safe log of (step, method) calls and the fake time each act ran."""

    entries: list[tuple[str, str]] = field(default_factory=list)
    spans: dict[str, tuple[float, float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, step: str, method: str) -> None:
        with self.lock:
            self.entries.append((step, method))

    def of(self, method: str) -> list[str]:
        with self.lock:
            return [s for s, m in self.entries if m == method]


class FakeStep(Step):
    """A configurable step: `act_errors` are raised by the first acts, `sleep` is fake time per act,
    `verify_after` fake seconds after the act it verifies, `done` makes is_done true."""

    def __init__(self, name: str, calls: Calls, *, mutating: bool = True, done: bool = False, sleep: float = 0.0,
                 act_errors: Sequence[BaseException] = (), verify_after: float = 0.0, budget: float = 60.0,
                 policy: FailurePolicy = FailurePolicy.ABORT, family: str = "default", max_attempts: int = 5,
                 check_error: BaseException | None = None, on_act: Callable[[RunContext], None] | None = None
                 ) -> None:
        self.name, self.resource, self.calls = name, f"fake/{name}", calls
        self.mutating, self.done, self.sleep, self.budget = mutating, done, sleep, budget
        self.act_errors = list(act_errors)
        self.verify_after, self.policy, self.api_family = verify_after, policy, family
        self.max_attempts, self.check_error, self.on_act = max_attempts, check_error, on_act
        self._acted_at: float | None = None

    def describe(self, ctx: RunContext) -> Sequence[str]:
        return [f"fake:Act {self.name}"]

    def is_done(self, ctx: RunContext) -> bool:
        self.calls.add(self.name, "is_done")
        return self.done

    def check(self, ctx: RunContext) -> None:
        self.calls.add(self.name, "check")
        if self.check_error is not None:
            raise self.check_error

    def act(self, ctx: RunContext) -> str | None:
        self.calls.add(self.name, "act")
        start = ctx.clock.monotonic()
        if self.act_errors:
            raise self.act_errors.pop(0)
        if self.sleep:
            ctx.clock.sleep(self.sleep)
        if self.on_act is not None:
            self.on_act(ctx)
        self._acted_at = ctx.clock.monotonic()
        with self.calls.lock:
            self.calls.spans[self.name] = (start, self._acted_at)
        return f"acted {self.name}"

    def verify(self, ctx: RunContext) -> bool:
        self.calls.add(self.name, "verify")
        return self._acted_at is not None and ctx.clock.monotonic() >= self._acted_at + self.verify_after


class ListRunbook(Runbook):
    """A runbook over given phases."""

    name = "fake"

    def __init__(self, phases: Sequence[Phase]) -> None:
        self._phases = list(phases)

    def phases(self, ctx: RunContext) -> list[Phase]:
        return self._phases


@dataclass
class Harness:
    """Runs runbooks in-process against a local journal and lock under `state`."""

    state: Path
    clock: Any
    observers: list[Observer] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def context(self, run_id: str, options: RunOptions | None = None) -> RunContext:
        from dr.aws.factory import ClientFactory

        topology = load(EXAMPLE)
        return RunContext(topology=topology, clients=ClientFactory(topology, run_id=run_id), clock=self.clock,
                          run_id=run_id, runbook="fake", source="prod", target="qa",
                          options=options or RunOptions())

    def header(self, ctx: RunContext, mode: str = "real") -> RunHeader:
        now = self.clock.now()
        return RunHeader(run_id=ctx.run_id, runbook=ctx.runbook, source=ctx.source, target=ctx.target, mode=mode,
                         topology_path=str(EXAMPLE), topology_hash=topology_hash(EXAMPLE), started_at=now,
                         clock_started_at=now, rto_seconds=900.0, rpo_seconds=300.0, options=ctx.options)

    def session(self, runbook: Runbook, run_id: str = "run-1", *, dry_run: bool = False,
                backend: Any = None, lock: Any = None) -> RunSession:
        ctx = self.context(run_id, RunOptions(dry_run=dry_run))
        services = Services(clock=self.clock, backend=backend or LocalBackend(self.state),
                            lock=lock or LocalLock(self.state, "prod--qa"), observers=list(self.observers),
                            stop=self.stop)
        return RunSession(runbook, ctx, self.header(ctx, "dry-run" if dry_run else "real"), services)

    def run(self, runbook: Runbook, run_id: str = "run-1", *, dry_run: bool = False) -> RunOutcome:
        return self.session(runbook, run_id, dry_run=dry_run).start()


# ---- the plugin runbooks used by real `drctl` subprocesses -------------------------------------------------

def _ledger() -> Path:
    return Path(os.environ[LEDGER_ENV_VAR])


def ledger_lines() -> list[str]:
    path = _ledger()
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


class LedgerStep(Step):
    """Mutation = append `<name>` (plus the `token` fact for steps that need it) to the ledger, fsync'd."""

    budget = 30.0
    poll_initial = 0.01

    def __init__(self, name: str, needs_fact: bool = False) -> None:
        self.name, self.resource, self.needs_fact = name, f"ledger/{name}", needs_fact

    def _line(self, ctx: RunContext) -> str:
        return f"{self.name}:{ctx.facts['token']}" if self.needs_fact else self.name

    def is_done(self, ctx: RunContext) -> bool:
        return self._line(ctx) in ledger_lines()

    def act(self, ctx: RunContext) -> str | None:
        with _ledger().open("a", encoding="utf-8") as handle:
            handle.write(self._line(ctx) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        if os.environ.get(KILL_AFTER_ACT_ENV_VAR) == self.name:
            os.kill(os.getpid(), signal.SIGKILL)
        return f"wrote {self._line(ctx)}"

    def verify(self, ctx: RunContext) -> bool:
        return self.is_done(ctx)


class TokenCheck(Step):
    """Read-only: records the `token` fact later steps write (restored from the journal on resume)."""

    name = "precheck"
    mutating = False

    def act(self, ctx: RunContext) -> str | None:
        ctx.set_fact("token", f"{ctx.source}-{ctx.target}")
        ctx.set_fact("rpo.data_loss_window_seconds.orders", 1.5)
        return "token recorded"


@register
class LedgerRunbook(Runbook):
    name = "test-ledger"

    def phases(self, ctx: RunContext) -> list[Phase]:
        return [TokenCheck(), LedgerStep("first"),
                Parallel("group", [LedgerStep("par-a"), LedgerStep("par-b"), LedgerStep("par-c", True)]),
                LedgerStep("last", True)]

    def milestones(self, ctx: RunContext) -> Milestones | None:
        """The group plays the promotions, `last` the DNS move, `precheck` the health confirmation."""
        return Milestones(writers=["par-a", "par-b", "par-c"], traffic=["last"], healthy=["precheck"],
                          ttl_seconds=60.0)


class HoldStep(Step):
    name = "hold"
    budget = 30.0

    def act(self, ctx: RunContext) -> str | None:
        release = Path(os.environ[HOLD_FILE_ENV_VAR])
        deadline = time.monotonic() + 20
        while not release.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        return "held"


@register
class HoldRunbook(Runbook):
    name = "test-hold"

    def phases(self, ctx: RunContext) -> list[Phase]:
        return [HoldStep(), LedgerStep("after-hold")]
