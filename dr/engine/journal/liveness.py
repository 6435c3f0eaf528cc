"""Dead runs: a journal without an end whose lock is free (or held by another run) belongs to a process that is
gone. `drctl runs list` shows it `interrupted`; a new run on its environment pair is refused until it is resumed,
when its journal shows changes (the target may be half-moved)."""

from __future__ import annotations

import os
import socket

from dr.engine.events import RunStatus
from dr.engine.journal.base import JournalBackend, read_events
from dr.engine.journal.replay import RunHistory, replay
from dr.engine.lock.base import RunLock, lock_key
from dr.errors import DrError, GateRefused


class HalfMoved(GateRefused):
    """A dead run changed things on this pair and never ended: finish it before starting another (exit 3)."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_dead(history: RunHistory, lock: RunLock | None) -> bool:
    """The run's journal has no end and nothing keeps it alive. A real run is alive while it holds its pair's
    lock (judged by the lock's state: flock or lease, valid across hosts). A dry run takes no lock: it is judged
    by its pid on this host, and is never called dead from another host."""
    if history.status is not RunStatus.RUNNING:
        return False
    h = history.header
    if h.mode == "dry-run" or lock is None:
        return h.host == socket.gethostname() and h.pid > 0 and not _pid_alive(h.pid)
    live = lock.live_holder()
    return live is None or live.run_id != h.run_id


def judged_status(history: RunHistory, lock: RunLock | None) -> RunStatus:
    """The status `runs list` and `runs show` print: a dead run is `interrupted`, not `running` forever."""
    try:
        return RunStatus.INTERRUPTED if is_dead(history, lock) else history.status
    except Exception:  # the lock store cannot be read: say what the journal says
        return history.status


def half_moved_by(backend: JournalBackend, source: str, target: str, lock: RunLock, *, exclude: str
                  ) -> RunHistory | None:
    """The newest dead run on the `source`/`target` pair (either direction) whose journal shows a mutation
    (completed, or in flight when it died) and no end, if there is one. Unreadable journals are passed over
    (`runs list` names them)."""
    key = lock_key(source, target)
    found: list[RunHistory] = []
    for run_id in backend.run_ids():
        if run_id == exclude:
            continue
        try:
            history = replay(read_events(backend, run_id))
        except DrError:
            continue
        h = history.header
        touched = history.mutated or bool(history.pending)  # an intent without outcome may have changed AWS
        if lock_key(h.source, h.target) == key and h.mode != "dry-run" and touched and is_dead(history, lock):
            found.append(history)
    return max(found, key=lambda hist: hist.header.started_at) if found else None


def half_moved_error(history: RunHistory) -> HalfMoved:
    h = history.header
    changed = sorted(history.accepted | history.pending)
    shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
    return HalfMoved(
        f"run {h.run_id} ({h.runbook} {h.source} -> {h.target}, started {h.started_at.isoformat()} by "
        f"{h.user}@{h.host}) stopped half-way: its journal shows changes ({shown}) and no end, and its process "
        f"is gone. Nothing was changed by this command. Finish that run with `drctl resume {h.run_id}` "
        f"(`drctl runs show {h.run_id}` shows what it did)")

