"""Is a move already complete? Then a re-run changes nothing: its read-only steps end `already-done` too."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from dr.engine.step import RunContext, Step
from dr.iam import needs
from dr.iam.grants import Grant, declared
from runbooks.steps._common import Move, current_writers, moves, records

T = TypeVar("T")
MAX_READS = 16
"""Reads in flight at once: quick at seed scale, gentle on API rate limits."""


def all_true(items: Iterable[T], predicate: Callable[[T], bool]) -> bool:
    """`predicate` over `items` concurrently (reads only)."""
    pending = list(items)
    if not pending:
        return True
    with ThreadPoolExecutor(max_workers=min(MAX_READS, len(pending)), thread_name_prefix="drctl-read") as pool:
        return all(pool.map(predicate, pending))


def writers_in_place(ctx: RunContext, todo: list[Move] | None = None) -> bool:
    """Every database's copy on the target side is its current writer (a stale standalone copy is not): one
    listing per account, region and kind (an RdsWatch) answers for all of them."""
    todo = moves(ctx) if todo is None else todo
    return all(current_writers(ctx, todo))


def dns_in_place(ctx: RunContext) -> bool:
    """Every record answers the target: the zone steps' own is_done (one listing per zone, the failover
    records' answers)."""
    from runbooks.failover import dns_steps

    return all_true(dns_steps(records(ctx)), lambda s: s.is_done(ctx))


def move_complete(ctx: RunContext) -> bool:
    """Databases first (cheap, and false on every first run), then DNS. A region that does not answer cannot
    vouch for a complete move: not complete (the steps then judge, and prechecks refuse a DR side it cannot read)."""
    from dr.aws.errors import is_unreachable

    try:
        return writers_in_place(ctx) and dns_in_place(ctx)
    except Exception as exc:
        if is_unreachable(exc):
            return False
        raise


class CompleteAtStart:
    """`move_complete`, evaluated once per run (at its first question), shared by the guarded steps."""

    def __init__(self) -> None:
        self._answers: dict[str, bool] = {}
        self._lock = threading.Lock()

    def permissions(self, ctx: RunContext) -> list[Grant]:
        """Its reads (dr.iam): both copies of each database, and the zones' records and health checks."""
        from runbooks.steps._permissions import move_reads, zones

        return move_reads(ctx) + zones(ctx, change=False) + needs.health(records(ctx))

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

    def permissions(self, ctx: RunContext) -> list[Grant]:
        """The inner step's calls and the completeness check's (dr.iam)."""
        return declared(self.inner, ctx) + self.complete.permissions(ctx)

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
