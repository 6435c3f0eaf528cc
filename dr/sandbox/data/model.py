"""The modelled data of the sandbox's databases: branches of writes, database copies, families.

A write is (branch, sequence number, wall time). A writer extends its own branch; a promotion starts a
new branch forked from what the promoted copy had applied; the sequence numbers of a branch continue its
parent's, so a position (branch, seq) names a whole history: the branch's writes up to seq and, below its
fork point, its ancestors'. Writes come from the load at regular ticks, so a branch stores runs of
evenly spaced writes instead of every write (a day of 50 ms ticks is one run).
"""

from __future__ import annotations

import bisect
import itertools
import math
import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Run:
    """`count` writes with sequence numbers from `first_seq`, the j-th at `start + (k0 + j) * interval`."""

    first_seq: int
    start: float
    interval: float
    k0: int
    count: int

    @property
    def last_seq(self) -> int:
        return self.first_seq + self.count - 1

    def ts(self, seq: int) -> float:
        return self.start + (self.k0 + seq - self.first_seq) * self.interval

    @property
    def first_ts(self) -> float:
        return self.ts(self.first_seq)

    def last_at_or_before(self, ts: float) -> int | None:
        """The sequence number of the last write of this run at or before `ts`, if any."""
        if ts < self.first_ts:
            return None
        steps = math.floor((ts - self.first_ts) / self.interval + 1e-9)
        return self.first_seq + min(steps, self.count - 1)


@dataclass
class Branch:
    """The writes one copy made as a writer. `fork_seq`: the last write of `parent` this branch inherits."""

    id: str
    family: str
    parent: str | None
    fork_seq: int
    writer: str
    """Key of the copy that writes this branch."""
    created_at: float
    runs: list[Run] = field(default_factory=list)

    @property
    def head(self) -> int:
        return self.runs[-1].last_seq if self.runs else self.fork_seq

    @property
    def writes(self) -> int:
        return sum(run.count for run in self.runs)

    def append(self, start: float, interval: float, k0: int, count: int) -> None:
        last = self.runs[-1] if self.runs else None
        if last is not None and (last.start, last.interval) == (start, interval) and last.k0 + last.count == k0:
            last.count += count
            return
        self.runs.append(Run(self.head + 1, start, interval, k0, count))

    def ts(self, seq: int) -> float | None:
        """Wall time of this branch's own write `seq` (None when seq is not one of its own writes)."""
        index = bisect.bisect_right([run.first_seq for run in self.runs], seq) - 1
        if index < 0 or seq > self.runs[index].last_seq:
            return None
        return self.runs[index].ts(seq)

    def last_at_or_before(self, ts: float, limit: int | None = None) -> int | None:
        """This branch's own last write at or before `ts` with seq <= limit."""
        for run in reversed(self.runs):
            if limit is not None and run.first_seq > limit:
                continue
            seq = run.last_at_or_before(ts)
            if seq is not None:
                return seq if limit is None else min(seq, limit)
        return None


@dataclass
class Copy:
    """One database copy (an RDS instance or an Aurora cluster), keyed by a token stored on the moto object."""

    key: str
    obj: Any
    kind: str  # db-instance | db-cluster
    account: str
    region: str
    created_id: str
    created_arn: str
    engine: str
    branch: str
    writer: bool
    """True while the copy owns `branch` (a standalone writer); False while it replicates into it."""
    applied: int = 0
    """Last write of `branch`'s history this copy holds (a writer: its own head)."""
    acknowledged: int = 0
    deleted: bool = False
    blocked_until: float = float("-inf")
    """Wall time until which a promotion in progress keeps this copy from accepting writes."""


@dataclass
class Family:
    """Copies linked by replication and promotion: one root branch and everything forked from it."""

    name: str
    root: str
    concurrent_writer_ticks: int = 0


class DataModel:
    """Every branch, copy and family of this process's sandbox. All access under `lock`."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.branches: dict[str, Branch] = {}
        self.copies: dict[str, Copy] = {}
        self.families: dict[str, Family] = {}
        self.schedule: Any = None
        """The application load's `dr.sandbox.data.load.Schedule`, None when stopped."""
        self.active = False
        """True once the load has been started (until `clear`): from then on every call catches the model up."""
        self._copy_ids = itertools.count(1)
        self._branch_ids = itertools.count(1)

    def clear(self) -> None:
        with self.lock:
            self.branches.clear()
            self.copies.clear()
            self.families.clear()
            self.schedule = None
            self.active = False

    def new_key(self) -> str:
        return f"c{next(self._copy_ids)}"

    def new_branch(self, writer: Copy | None, parent: str | None, fork_seq: int, now: float,
                   family_hint: str = "") -> Branch:
        """A new branch: a root (new family named after `family_hint`) or a fork of `parent` at `fork_seq`."""
        branch_id = f"b{next(self._branch_ids)}"
        if parent is None:
            name = family_hint or branch_id
            name = name if name not in self.families else f"{name}#{len(self.families) + 1}"
            self.families[name] = Family(name, branch_id)
            family = name
        else:
            family = self.branches[parent].family
        branch = Branch(branch_id, family, parent, fork_seq, writer.key if writer else "", now)
        self.branches[branch_id] = branch
        return branch

    def chain(self, branch_id: str) -> list[tuple[Branch, int | None]]:
        """The branch and its ancestors, each with the highest seq of it in this history (None: its head)."""
        out: list[tuple[Branch, int | None]] = []
        limit: int | None = None
        current: str | None = branch_id
        while current is not None:
            branch = self.branches[current]
            out.append((branch, limit))
            limit, current = branch.fork_seq, branch.parent
        return out

    def position_at(self, branch_id: str, ts: float, limit: int | None = None) -> int:
        """Seq of the last write at or before `ts` in the history of `branch_id` (up to `limit`); 0: none."""
        for branch, chain_limit in self.chain(branch_id):
            bound = chain_limit if limit is None else (limit if chain_limit is None else min(limit, chain_limit))
            seq = branch.last_at_or_before(ts, bound)
            if seq is not None:
                return seq
            limit = None
        return 0

    def ts_of(self, branch_id: str, seq: int) -> float | None:
        """Wall time of write `seq` in the history of `branch_id` (None for 0 or unknown)."""
        for branch, _ in self.chain(branch_id):
            if seq > branch.fork_seq:
                return branch.ts(seq)
        return None

    def head(self, branch_id: str) -> int:
        return self.branches[branch_id].head

    def common_prefix(self, branch_id: str, seq: int, other: str) -> int:
        """How much of history (`branch_id`, `seq`) is also history of `other` (its last shared seq)."""
        mine = {b.id: limit for b, limit in self.chain(branch_id)}
        for branch, limit in self.chain(other):
            if branch.id in mine:
                own_limit = mine[branch.id]
                bounds = [seq] + [x for x in (limit, own_limit) if x is not None]
                return min(bounds)
        return 0


DATA = DataModel()
