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
    """A live table (rich): each step with status and elapsed vs budget, and the RTO left."""

    def __init__(self, header: RunHeader, clock: Clock, order: list[str]) -> None:
        self.header = header
        self.clock = clock
        self.rows: dict[str, list[str]] = {name: ["pending", "", ""] for name in order}
        self._live: Any = None
        self._lock = threading.Lock()

    def __enter__(self) -> LiveProgress:
        from rich.console import Console
        from rich.live import Live

        self._live = Live(self._table(), console=Console(stderr=True), refresh_per_second=4, transient=False)
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.update(self._table())
            self._live.__exit__(None, None, None)

    def notify(self, event: Event) -> None:
        if not event.step:
            return
        with self._lock:
            row = self.rows.setdefault(event.step, ["pending", "", ""])
            if event.kind is EventKind.STEP_STARTED:
                row[:] = ["running", f"budget {event.budget or 0:g}s", ""]
            elif event.kind is EventKind.STEP_RETRIED:
                row[2] = f"retry {event.attempt}: {event.detail}"
            elif event.kind is EventKind.STEP_FINISHED:
                row[:] = [event.status, f"{event.duration or 0:.1f}s / {event.budget or 0:g}s", event.detail]
            if self._live is not None:
                self._live.update(self._table())

    def _table(self) -> Any:
        from rich.table import Table

        spent = (self.clock.now() - self.header.clock_started_at).total_seconds()
        table = Table(title=f"{self.header.runbook} {self.header.source} -> {self.header.target} "
                            f"run {self.header.run_id}  RTO left {self.header.rto_seconds - spent:.0f}s")
        for column in ("step", "status", "time", "detail"):
            table.add_column(column)
        for name, (status, timing, detail) in self.rows.items():
            table.add_row(name, status, timing, detail)
        return table
