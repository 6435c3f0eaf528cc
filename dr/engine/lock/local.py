"""A local file lock (fcntl.flock) in the state directory: released by the kernel if the process dies."""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from dr.engine.files import open_private, private_dir, read_private
from dr.engine.lock.base import LockInfo, held_error

HOLDER_WAIT = 1.0
"""Seconds a refused run waits for the holder's record (written right after its flock) to name it."""


class LocalLock:
    def __init__(self, directory: Path, key: str) -> None:
        self.key = key
        self.state = directory
        self.path = directory / "locks" / f"{key}.lock"
        self.location = str(self.path)
        self._handle: IO[str] | None = None

    def acquire(self, me: LockInfo, *, break_lock: bool = False) -> LockInfo | None:
        private_dir(self.path.parent, under=self.state)
        broken: LockInfo | None = None
        for _ in range(10):
            # Not "a+" (follows a symlink) nor "w" (truncates before the lock is ours): 0600, no link followed.
            handle = os.fdopen(open_private(self.path, os.O_RDWR), "r+", encoding="utf-8")
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = self._recorded_holder()
                handle.close()
                if not break_lock:
                    raise held_error(holder, self.key, self.location) from None
                # The holder keeps its flock on the unlinked inode; everyone else now meets a fresh file.
                broken = holder
                self.path.unlink(missing_ok=True)
                continue
            if not self._still_linked(handle):
                handle.close()
                continue
            self._write(handle, me)
            self._handle = handle
            return broken
        raise held_error(self.holder(), self.key, self.location)

    def _still_linked(self, handle: IO[str]) -> bool:
        """The file we locked is still the one at our path (not unlinked by a release or a break)."""
        try:
            return os.fstat(handle.fileno()).st_ino == os.stat(self.path).st_ino
        except FileNotFoundError:
            return False

    @staticmethod
    def _write(handle: IO[str], me: LockInfo) -> None:
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(me.to_data()))
        handle.flush()
        os.fsync(handle.fileno())

    def _recorded_holder(self) -> LockInfo | None:
        """The holder's record, waiting up to HOLDER_WAIT seconds for it: a run that just took the flock writes
        its record right after, and a reader in between would otherwise name nobody."""
        deadline = time.monotonic() + HOLDER_WAIT
        while True:
            found = self.holder()
            if found is not None or time.monotonic() >= deadline:
                return found
            time.sleep(0.05)

    def holder(self) -> LockInfo | None:
        try:
            return LockInfo.from_data(json.loads(read_private(self.path)))
        except (OSError, ValueError, KeyError):
            return None

    def live_holder(self) -> LockInfo | None:
        """The recorded holder while someone holds the flock; None when the file is gone or its flock is free
        (its process died: the kernel released it, the record stays)."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return self.holder()
        finally:
            os.close(fd)  # closing drops a shared flock we may have taken
        return None

    def on_lost(self, callback: Callable[[], None]) -> None:
        """A kernel flock is never lost while the process lives (a --break-lock replaces the file: the
        breaker was told to use it only on dead runs), so there is nothing to watch."""

    def release(self) -> None:
        if self._handle is None:
            return
        if self._still_linked(self._handle):
            self.path.unlink(missing_ok=True)
        self._handle.close()
        self._handle = None
