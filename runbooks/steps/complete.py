"""Is a move already complete? Then a re-run changes nothing: its read-only steps end `already-done` too."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from dr.engine.step import RunContext, Step
from runbooks.steps._common import is_writer, moves, records, view


def move_complete(ctx: RunContext) -> bool:
    """Every database's copy on the target side is a writer and every record serves the target."""
    from dr.aws.route53 import record_side

    if not all(is_writer(view(ctx, m.db, m.new)) for m in moves(ctx)):
        return False
    return all(record_side(ctx.clients, ctx.topology, r) == ctx.target for r in records(ctx))


class CompleteAtStart:
    """`move_complete`, evaluated once per run (at its first question), shared by the guarded steps."""

    def __init__(self) -> None:
        self._answers: dict[str, bool] = {}
        self._lock = threading.Lock()

    def __call__(self, ctx: RunContext) -> bool:
        with self._lock:
            if ctx.run_id not in self._answers:
                self._answers[ctx.run_id] = move_complete(ctx)
            return self._answers[ctx.run_id]


class Guarded(Step):
    """A step that is also `already-done` when the whole move was complete when the run started."""

    def __init__(self, inner: Step, complete: CompleteAtStart) -> None:
        self.inner = inner
        self.complete = complete
        for attr in ("name", "resource", "budget", "mutating", "policy", "api_family", "max_attempts",
                     "poll_initial", "poll_max"):
            setattr(self, attr, getattr(inner, attr))

    def describe(self, ctx: RunContext) -> Sequence[str]:
        return self.inner.describe(ctx)

    def is_done(self, ctx: RunContext) -> bool:
        return self.complete(ctx) or self.inner.is_done(ctx)

    def check(self, ctx: RunContext) -> None:
        self.inner.check(ctx)

    def act(self, ctx: RunContext) -> str | None:
        return self.inner.act(ctx)

    def verify(self, ctx: RunContext) -> bool:
        return self.inner.verify(ctx)

    def compensate(self, ctx: RunContext) -> None:
        self.inner.compensate(ctx)

    def __getattr__(self, item: str) -> Any:
        return getattr(self.__dict__["inner"], item)
