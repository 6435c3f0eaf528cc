"""Journals as files in a local state directory: `<dir>/runs/<run_id>.jsonl`, fsync'd per event."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import IO

from dr.engine.files import open_private, private_dir, read_private


class LocalBackend:
    def __init__(self, directory: Path) -> None:
        self.state = directory
        self.directory = directory / "runs"
        self.location = str(self.directory)
        self._files: dict[str, IO[str]] = {}
        self._lock = threading.Lock()

    def _path(self, run_id: str) -> Path:
        return self.directory / f"{run_id}.jsonl"

    def where(self, run_id: str) -> str:
        return str(self._path(run_id))

    def append(self, run_id: str, seq: int, line: str) -> None:
        with self._lock:
            handle = self._files.get(run_id)
            if handle is None:
                private_dir(self.directory, under=self.state)
                _drop_torn_tail(self._path(run_id))
                fd = open_private(self._path(run_id), os.O_WRONLY | os.O_APPEND)
                handle = os.fdopen(fd, "a", encoding="utf-8")
                self._files[run_id] = handle
                _fsync_dir(self.directory)
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def read(self, run_id: str) -> list[str] | None:
        try:
            return self._path(run_id).read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return None

    def run_ids(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(p.stem for p in self.directory.glob("*.jsonl"))

    def close(self) -> None:
        with self._lock:
            for handle in self._files.values():
                handle.close()
            self._files.clear()


def _drop_torn_tail(path: Path) -> None:
    """Cut a last line without its newline (a crash mid-write; that event never became durable, so the
    engine never went past it) before appending, so new events do not run into it."""
    try:
        data = read_private(path).encode("utf-8")
    except FileNotFoundError:
        return
    if data and not data.endswith(b"\n"):
        with os.fdopen(open_private(path, os.O_RDWR), "r+b") as handle:
            handle.truncate(data.rfind(b"\n") + 1)
            handle.flush()
            os.fsync(handle.fileno())


def _fsync_dir(directory: Path) -> None:
    """Make the new file's directory entry durable too."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
