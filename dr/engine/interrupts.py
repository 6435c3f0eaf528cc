"""SIGINT/SIGTERM handling: the first signal asks the run to stop cleanly (no new steps, no new calls,
journal consistent); a second one stops at once with KeyboardInterrupt."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def interrupt_guard(stop: threading.Event) -> Iterator[None]:
    """Set `stop` on SIGINT/SIGTERM while the block runs (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = 0

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal received
        received += 1
        stop.set()
        if received > 1:
            raise KeyboardInterrupt
        sys.stderr.write(f"drctl: {signal.Signals(signum).name} received: running steps finish, nothing new "
                         "starts, then the run stops (resumable). Send it again to stop at once.\n")
        sys.stderr.flush()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
