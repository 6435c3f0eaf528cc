"""The application load, and how copies and replicas move with it.

`start_writes(interval)` models the app tier, cron jobs and consumers of every region: every `interval`
seconds of sandbox time, each database copy that accepts a write (`copies.refusal`) gets one. Writes are
made lazily, not by a thread: whenever anything may change or observe the sandbox (every AWS call it
receives, control calls, metric reads, promotions) the load catches up to now, tick by tick, judging each
copy by the world as it has been since the previous catch-up (nothing changed it in between). So the
model is exact and deterministic under a `FakeClock`, and costs nothing while the sandbox is idle.

A replica applies its source's writes with timestamp <= now - lag (its lag setting, `STATE.lag` /
`default_lag_seconds`, 0 if none) while both regions are up and its replication is not broken (lag -1,
or a replication state `error`/`stopped`/`terminated`): asynchronous replication as the RDS User Guide
describes it ("Working with DB instance read replicas").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dr.sandbox.data import copies
from dr.sandbox.data.model import DATA, Copy
from dr.sandbox.extensions.outage import is_down
from dr.sandbox.extensions.state import STATE, LagKey

BROKEN_STATES = frozenset({"error", "stopped", "terminated"})
EPSILON = 1e-9


@dataclass
class Schedule:
    """Ticks at `start + k * interval`; `next_k` is the first tick not yet written."""

    start: float
    interval: float
    next_k: int = 0
    ticks: int = 0


def _now() -> float:
    return STATE.now().timestamp()


def start_writes(interval_seconds: float) -> None:
    """Start the load (first tick now); restarting changes the interval from now on."""
    if not interval_seconds > 0:
        raise ValueError(f"the write interval must be > 0 seconds, got {interval_seconds}")
    with DATA.lock:
        catch_up()
        previous, now = DATA.schedule, _now()
        # a running load may just have written the tick of this instant: the new one starts after it
        written_now = previous is not None and previous.start + (previous.next_k - 1) * previous.interval >= now
        DATA.schedule = Schedule(now, float(interval_seconds), next_k=1 if written_now else 0,
                                 ticks=previous.ticks if previous else 0)
        DATA.active = True


def stop_writes() -> None:
    with DATA.lock:
        catch_up()
        DATA.schedule = None


def catch_up_if_running() -> None:
    """Catch up once the load has run (replicas keep applying after it stops): the hook before every call.
    Before that nothing was written, so nothing can be missed; the sandbox pays nothing per call."""
    if DATA.active:
        catch_up()


def catch_up() -> None:
    """Bring the model to now: register copies, follow sources, write due ticks, apply replication."""
    with DATA.lock:
        now = _now()
        live = [copies.see(DATA, obj, now) for obj in copies.live_objects()]
        keys = {copy.key for copy in live}
        for copy in DATA.copies.values():
            copy.deleted = copy.key not in keys
        for copy in live:
            _follow(copy, now)
        if DATA.schedule is not None:
            _write_ticks(DATA.schedule, now, live)
        for copy in live:
            _apply(copy, now)


def _follow(copy: Copy, now: float) -> None:
    """A replica tracks its source's history; a copy that stopped replicating becomes a writer."""
    if copy.writer:
        return  # writers turn into replicas only through `global_writer_moved`
    source = copies.source_of(copy.obj)
    if source is None:
        if not copies.is_replica(copy.obj):  # detached or promoted: a new branch from what it had
            _fork(copy, now)
        return
    source_copy = copies.see(DATA, source, now)
    if source_copy.branch != copy.branch:
        copy.applied = DATA.common_prefix(copy.branch, copy.applied, source_copy.branch)
        copy.branch = source_copy.branch


def _fork(copy: Copy, now: float) -> None:
    branch = DATA.new_branch(copy, copy.branch, copy.applied, now)
    copy.branch, copy.writer = branch.id, True


def _write_ticks(schedule: Schedule, now: float, live: list[Copy]) -> None:
    last_k = math.floor((now - schedule.start) / schedule.interval + EPSILON)
    if last_k < schedule.next_k:
        return
    first_ticks: dict[str, list[int]] = {}
    for copy in live:
        if not copy.writer or copies.refusal(copy) is not None:
            continue
        blocked = copies.blocked_until(copy)
        k0 = schedule.next_k
        if blocked > schedule.start + k0 * schedule.interval:
            k0 = max(k0, math.ceil((blocked - schedule.start) / schedule.interval - EPSILON))
        if k0 > last_k:
            continue
        branch = DATA.branches[copy.branch]
        branch.append(schedule.start, schedule.interval, k0, last_k - k0 + 1)
        copy.acknowledged += last_k - k0 + 1
        copy.applied = branch.head
        first_ticks.setdefault(branch.family, []).append(k0)
    for family, ticks in first_ticks.items():
        if len(ticks) > 1:  # from the second writer's first tick on, two copies took every write
            DATA.families[family].concurrent_writer_ticks += last_k - sorted(ticks)[1] + 1
    schedule.ticks += last_k - schedule.next_k + 1
    schedule.next_k = last_k + 1


def _apply(copy: Copy, now: float) -> None:
    if copy.writer or copy.deleted:
        return
    source = copies.source_of(copy.obj)
    if source is None or is_down(str(source.region)) or is_down(copy.region):
        return
    lag = lag_seconds(copy)
    if lag is None or replication_state(copy) in BROKEN_STATES:
        return
    copy.applied = max(copy.applied, DATA.position_at(copy.branch, now - lag))


def lag_key(copy: Copy) -> LagKey:
    """The key of the replica's lag setting (engine as the topology names it)."""
    from dr.config.model import Engine

    if copy.kind == copies.INSTANCE:
        engine = Engine.RDS_INSTANCE
    elif copy.obj.replication_source_identifier:
        engine = Engine.AURORA_CLUSTER
    else:
        engine = Engine.AURORA_GLOBAL
    return LagKey(copy.account, copy.region, engine.value, copies.identity(copy.obj)[1])


def lag_seconds(copy: Copy) -> float | None:
    """The replica's configured lag (None: replication broken, lag -1)."""
    with STATE.lock:
        setting = STATE.lag.get(lag_key(copy))
        seconds = setting.seconds if setting is not None else STATE.default_lag_seconds
    if seconds is not None and seconds < 0:
        return None
    return float(seconds or 0.0)


def replication_state(copy: Copy) -> str:
    with STATE.lock:
        state = STATE.replication_states.get((copy.account, copy.region, copies.identity(copy.obj)[1].lower()))
    return state[0] if state else "replicating"


def promotion_started(obj: Any, done_at: datetime) -> None:
    """A replica's promotion began: what it applied until now is frozen, its writes start a new branch
    once the promotion is done (RDS: "Promoting a read replica to be a standalone DB instance")."""
    with DATA.lock:
        if DATA.active:  # before the load ever ran nothing was written: registering the copies is enough
            catch_up()
        copy = copies.see(DATA, obj, _now())
        if not copy.writer:
            _fork(copy, _now())
        copy.blocked_until = max(copy.blocked_until, done_at.timestamp())


def global_writer_moved(target: Any, old_writer: Any | None, done_at: datetime, flip: Callable[[], None], *,
                        data_loss: bool) -> None:
    """An Aurora global switchover (every write applied first: "All secondary clusters are synchronized
    with the primary at the beginning of the process", API SwitchoverGlobalCluster) or failover with
    data loss (what the secondary had applied): the target forks, the old writer becomes a secondary.
    `flip` changes the members' writer flags, under the model's lock so no catch-up sees half of it."""
    with DATA.lock:
        if DATA.active:
            catch_up()
        now = _now()
        copy = copies.see(DATA, target, now)  # registered before the flip: as the secondary it still is
        old = copies.see(DATA, old_writer, now) if old_writer is not None else None
        flip()
        if not copy.writer:
            if not data_loss and old is not None and old.branch == copy.branch:
                copy.applied = DATA.head(copy.branch)
            _fork(copy, now)
        copy.blocked_until = max(copy.blocked_until, done_at.timestamp())
        if old is not None and old.writer and old is not copy:
            old.writer = False
            old.applied = DATA.common_prefix(old.branch, old.applied, copy.branch)
            old.branch = copy.branch


def renaming(obj: Any) -> None:
    """A copy is about to be renamed: register it under the identifier its applications know."""
    with DATA.lock:
        copies.see(DATA, obj, _now())
