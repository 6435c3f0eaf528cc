"""Progress for the operator on stderr: a live table on a TTY (rich), plain timestamped lines otherwise."""

from __future__ import annotations

import sys
import threading
from typing import IO, Any

from dr.clock import Clock
from dr.engine.events import Event, EventKind
from dr.engine.journal.header import RunHeader

_ICONS = {"succeeded": "ok", "already-done": "=", "failed": "FAILED", "skipped": "skip", "planned": "plan"}


class PlainProgress:
    """One line per event, for logs and pipes."""

    def __init__(self, header: RunHeader, clock: Clock, stream: IO[str] | None = None) -> None:
        self.header = header
        self.clock = clock
        self.stream = stream or sys.stderr
        self._lock = threading.Lock()

    def _rto_left(self) -> float:
        spent = (self.clock.now() - self.header.clock_started_at).total_seconds()
        return self.header.rto_seconds - spent

    def notify(self, event: Event) -> None:
        line = self._line(event)
        if line is None:
            return
        with self._lock:
            self.stream.write(f"{event.at.strftime('%H:%M:%S')} [RTO left {self._rto_left():7.1f}s] {line}\n")
            self.stream.flush()

    def _line(self, e: Event) -> str | None:
        h = self.header
        if e.kind is EventKind.RUN_STARTED:
            return f"{h.runbook} {h.source} -> {h.target} ({h.mode}) run {h.run_id} started"
        if e.kind is EventKind.RUN_RESUMED:
            return f"run {h.run_id} resumed"
        if e.kind is EventKind.STEP_STARTED:
            return f"{e.step}: started (budget {e.budget or 0:g}s) {e.resource}".rstrip()
        if e.kind is EventKind.STEP_RETRIED:
            return f"{e.step}: attempt {e.attempt} failed, retrying: {e.detail}"
        if e.kind is EventKind.STEP_FINISHED:
            return f"{e.step}: {_ICONS.get(e.status, e.status)} in {e.duration or 0:.1f}s - {e.detail}"
        if e.kind is EventKind.LOCK_BROKEN:
            return e.detail
        if e.kind is EventKind.RUN_FINISHED:
            return f"run {h.run_id} {e.status}: {e.detail}"
        return None


class LiveProgress:
    """A live table (rich), redrawn 4 times a second: each step with status, elapsed vs budget, and the RTO
    left. It renders itself (`__rich__`), so running steps and the RTO countdown tick between events.

    `transient`: the table erases itself when the run ends, for when the final report is printed on the same
    terminal next (one final report on screen, not the table and then the report); otherwise its last state
    stays as the screen's record."""

    def __init__(self, header: RunHeader, clock: Clock, order: list[str], *, transient: bool = False) -> None:
        self.header = header
        self.transient = transient
        self.clock = clock
        self.rows: dict[str, _Row] = {name: _Row() for name in order}
        self._live: Any = None
        self._lock = threading.Lock()

    def __enter__(self) -> LiveProgress:
        from rich.console import Console
        from rich.live import Live

        self._live = Live(self, console=Console(stderr=True), refresh_per_second=4, transient=self.transient)
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            if not self.transient:
                self._live.refresh()
            self._live.__exit__(None, None, None)

    def notify(self, event: Event) -> None:
        if not event.step:
            return
        with self._lock:
            row = self.rows.setdefault(event.step, _Row())
            if event.kind is EventKind.STEP_STARTED:
                row.status, row.budget, row.started, row.detail = "running", event.budget or 0.0, \
                    self.clock.monotonic(), ""
            elif event.kind is EventKind.STEP_RETRIED:
                row.detail = f"retry {event.attempt}: {event.detail}"
            elif event.kind is EventKind.STEP_FINISHED:
                row.status, row.budget, row.detail = event.status, event.budget or 0.0, event.detail
                row.duration, row.started = event.duration or 0.0, None

    def __rich__(self) -> Any:
        from rich.table import Table

        spent = (self.clock.now() - self.header.clock_started_at).total_seconds()
        table = Table(title=f"{self.header.runbook} {self.header.source} -> {self.header.target} "
                            f"run {self.header.run_id}  RTO left {self.header.rto_seconds - spent:.0f}s")
        for column in ("step", "status", "time", "detail"):
            table.add_column(column, overflow="fold")  # wrap long ids and ARNs, never cut them
        now = self.clock.monotonic()
        with self._lock:
            for name, row in self.rows.items():
                elapsed = now - row.started if row.started is not None else row.duration
                timing = f"{elapsed:.1f}s / {row.budget:g}s" if row.status != "pending" else ""
                table.add_row(name, row.status, timing, row.detail)
        return table


class _Row:
    def __init__(self) -> None:
        self.status = "pending"
        self.budget = 0.0
        self.duration = 0.0
        self.started: float | None = None
        self.detail = ""
