"""SIGINT/SIGTERM handling: the first signal asks the run to stop cleanly (no new steps, no new calls; a step
that already called AWS finishes verifying within its budget; journal consistent); a second one stops at once:
`halt` is set (steps stop verifying) and the main thread gets KeyboardInterrupt."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def interrupt_guard(stop: threading.Event, halt: threading.Event | None = None) -> Iterator[None]:
    """Set `stop` on SIGINT/SIGTERM while the block runs, and `halt` on the second (main thread only; elsewhere
    a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = 0

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal received
        received += 1
        stop.set()
        if received > 1:
            if halt is not None:
                halt.set()
            raise KeyboardInterrupt
        sys.stderr.write(f"drctl: {signal.Signals(signum).name} received: running steps finish (a step that "
                         "called AWS verifies it within its budget), nothing new starts, then the run stops "
                         "(resumable). Send it again to stop at once.\n")
        sys.stderr.flush()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
