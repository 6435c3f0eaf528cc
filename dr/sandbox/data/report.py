"""What the data model observed, as one JSON-able document: per copy and per database family.

A family's current writer is the live standalone copy on its newest branch. Its lost writes are the
writes acknowledged on any branch of the family that are neither on the current writer's branch nor in
its history below a fork point: writes a client was told succeeded and that the database it now uses
does not have.
"""

from __future__ import annotations

from typing import Any

from dr.clock import iso
from dr.sandbox.data import copies
from dr.sandbox.data.load import catch_up
from dr.sandbox.data.model import DATA, Branch, Copy
from dr.sandbox.extensions.state import STATE


def data_report() -> dict[str, Any]:
    """Catch up, then describe every copy and family (docs/sandbox-extensions.md has the shape)."""
    with DATA.lock:
        catch_up()
        schedule = DATA.schedule
        return {
            "generated_at": iso(STATE.now()),
            "load": {
                "running": schedule is not None,
                "interval_seconds": schedule.interval if schedule else None,
                "ticks": schedule.ticks if schedule else 0,
            },
            "copies": [_copy(copy) for copy in DATA.copies.values()],
            "families": [_family(name) for name in DATA.families],
        }


def _at(ts: float) -> str:
    from datetime import UTC, datetime

    return iso(datetime.fromtimestamp(ts, tz=UTC))


def _copy(copy: Copy) -> dict[str, Any]:
    kind, ident, arn = copies.identity(copy.obj)
    refused = copies.refusal(copy)
    if refused is None and copies.blocked_until(copy) > STATE.now().timestamp():
        refused = f"promotion in progress until {_at(copies.blocked_until(copy))}"
    branch = DATA.branches[copy.branch]
    return {
        "key": copy.key,
        "kind": kind,
        "identifier": ident,
        "created_identifier": copy.created_id,
        "arn": arn,
        "created_arn": copy.created_arn,
        "account": copy.account,
        "region": copy.region,
        "engine": copy.engine,
        "role": "writer" if copy.writer else "replica",
        "deleted": copy.deleted,
        "accepts_writes": refused is None,
        "refused": refused,
        "family": branch.family,
        "branch": copy.branch,
        "lineage": [{"branch": b.id, "parent": b.parent, "fork_seq": b.fork_seq} for b, _ in DATA.chain(copy.branch)],
        "acknowledged_writes": copy.acknowledged,
        "applied": {"branch": copy.branch, "seq": copy.applied, "at": _ts(copy.branch, copy.applied)},
    }


def _ts(branch_id: str, seq: int) -> str | None:
    ts = DATA.ts_of(branch_id, seq)
    return _at(ts) if ts is not None else None


def _branch(branch: Branch) -> dict[str, Any]:
    writer = DATA.copies.get(branch.writer)
    first = branch.runs[0].first_seq if branch.runs else None
    return {
        "branch": branch.id,
        "parent": branch.parent,
        "fork_seq": branch.fork_seq,
        "writer": copies.identity(writer.obj)[1] if writer else None,
        "writer_key": branch.writer,
        "writes": branch.writes,
        "first_seq": first,
        "last_seq": branch.head if branch.runs else None,
        "first_write_at": _ts(branch.id, first) if first is not None else None,
        "last_write_at": _ts(branch.id, branch.head) if branch.runs else None,
    }


def current_writer(family: str) -> Copy | None:
    """The live standalone copy on the family's newest branch (None when it has none)."""
    order = list(DATA.branches)
    writers = [c for c in DATA.copies.values()
               if c.writer and not c.deleted and DATA.branches[c.branch].family == family]
    return max(writers, key=lambda c: order.index(c.branch), default=None)


def _family(name: str) -> dict[str, Any]:
    family = DATA.families[name]
    branches = [b for b in DATA.branches.values() if b.family == name]
    writer = current_writer(name)
    lost, first, last = _lost(branches, writer.branch if writer else branches[-1].id)
    return {
        "family": name,
        "root_branch": family.root,
        "branches": [_branch(b) for b in branches],
        "writes_by_branch": {b.id: b.writes for b in branches},
        "current_writer": None if writer is None else {
            "identifier": copies.identity(writer.obj)[1], "account": writer.account, "region": writer.region,
            "branch": writer.branch, "key": writer.key},
        "concurrent_writer_ticks": family.concurrent_writer_ticks,
        "lost_writes": lost,
        "lost_first_at": _at(first) if first is not None else None,
        "lost_last_at": _at(last) if last is not None else None,
        "loss_window_seconds": (last - first) if first is not None and last is not None else 0.0,
    }


def _lost(branches: list[Branch], current: str) -> tuple[int, float | None, float | None]:
    """(count, first time, last time) of the writes not in the history of `current`."""
    kept = {branch.id: limit for branch, limit in DATA.chain(current)}
    count, first, last = 0, None, None
    for branch in branches:
        if branch.id in kept and kept[branch.id] is None:
            continue  # the current writer's own branch
        low = max(kept.get(branch.id) or 0, branch.fork_seq)  # kept below a fork point, else none of its own
        if branch.head <= low:
            continue
        count += branch.head - low
        first_ts, last_ts = branch.ts(low + 1), branch.ts(branch.head)
        first = first_ts if first is None or (first_ts is not None and first_ts < first) else first
        last = last_ts if last is None or (last_ts is not None and last_ts > last) else last
    return count, first, last
