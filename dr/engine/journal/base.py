"""The journal writer and the backend contract: one JSON line per event, durable before `record` returns."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import threading
from typing import Any, Protocol

from dr.engine.events import Event
from dr.errors import DrError, UsageError

log = logging.getLogger(__name__)
RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class JournalError(DrError):
    """The journal could not be written: the run stops, since it could no longer promise exactly-once."""


class JournalBackend(Protocol):
    """Where journals live. `append` is durable when it returns (fsync'd file, or a completed S3 PUT)."""

    location: str
    """Human-readable place, for messages (a directory or s3://bucket/prefix)."""

    def where(self, run_id: str) -> str:
        """Where one run's journal is, for the report and messages."""
        ...

    def append(self, run_id: str, seq: int, line: str) -> None: ...

    def read(self, run_id: str) -> list[str] | None:
        """Every line in order, or None when there is no such run."""
        ...

    def run_ids(self) -> list[str]: ...

    def close(self) -> None: ...


def check_run_id(run_id: str) -> str:
    if not RUN_ID_PATTERN.match(run_id):
        raise UsageError(f"invalid run id {run_id!r}: use letters, digits, '.', '_' and '-' (max 128)")
    return run_id


class Journal:
    """Appends events of one run, numbered by `seq`; thread-safe.

    `kill_after` is a FAULT-INJECTION hook for the crash test ($DRCTL_FAULT_KILL_AFTER_JOURNAL_EVENTS):
    the process SIGKILLs itself right after its N-th durable event, the harshest crash there is.
    """

    def __init__(self, backend: JournalBackend, run_id: str, *, last_seq: int = 0,
                 kill_after: int | None = None) -> None:
        self.backend = backend
        self.run_id = check_run_id(run_id)
        self._seq = last_seq
        self._written = 0
        self._kill_after = kill_after
        self._lock = threading.Lock()

    def record(self, event: Event) -> None:
        with self._lock:
            self._seq += 1
            line = json.dumps({"seq": self._seq, **event.to_record()}, default=str, separators=(",", ":"))
            try:
                self.backend.append(self.run_id, self._seq, line)
            except DrError:
                raise
            except Exception as err:
                raise JournalError(
                    f"cannot write the journal at {self.backend.where(self.run_id)} ({type(err).__name__}: {err}); "
                    f"the run stopped after: {event.kind} {event.step or ''}. Fix the journal store, check the "
                    f"step by hand, then `drctl resume {self.run_id}`") from err
            self._written += 1
            if self._kill_after is not None and self._written >= self._kill_after:
                os.kill(os.getpid(), signal.SIGKILL)

    def close(self) -> None:
        self.backend.close()


def parse_lines(lines: list[str], where: str) -> list[dict[str, Any]]:
    """Records of a journal; a torn last line (a crash mid-write) is ignored, torn lines elsewhere are not."""
    records: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if number == len(lines):
                log.warning("%s: ignoring a torn last line (the writer crashed mid-write)", where)
                continue
            raise UsageError(f"{where}: line {number} is not JSON; the journal is damaged") from None
    return records


def read_events(backend: JournalBackend, run_id: str) -> list[Event]:
    """The events of a run, in order; UsageError (exit 2) when the run does not exist."""
    lines = backend.read(check_run_id(run_id))
    if lines is None:
        raise UsageError(f"no run {run_id!r} in {backend.location}; `drctl runs list` shows the runs")
    return [Event.from_record(r) for r in parse_lines(lines, f"{backend.location}/{run_id}")]


def last_seq(backend: JournalBackend, run_id: str) -> int:
    lines = backend.read(run_id) or []
    records = parse_lines(lines, f"{backend.location}/{run_id}")
    return max((int(r.get("seq", 0)) for r in records), default=0)
