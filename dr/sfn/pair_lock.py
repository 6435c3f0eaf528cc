"""The run lock between the two engines: a Step Functions execution of a pair and a local run of it exclude each
other, as two local runs do.

`drctl failover --engine stepfunctions` takes the pair's run lock (the one a local run takes) while it starts, and
refuses (exit 3) when an execution of any drctl machine of the pair is RUNNING. A local run, holding that lock,
refuses likewise (`guarded`). The machines live in the account and region of the copies they promote (the target's
side), the only region this reads: never the failed one. A local run first lists the state machines there, once per
run; without a drctl machine of the pair it reads nothing more.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dr.engine.lock.base import LockInfo, RunLock
from dr.errors import LockHeld
from dr.sfn import states_lock

log = logging.getLogger(__name__)
RUNBOOKS = ["failover", "failback"]
"""The runbooks drctl deploys as state machines."""
_MACHINES: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], frozenset[str]]] = weakref.WeakKeyDictionary()
"""Per client factory (one per run or command): the state machines of each (environment, region)."""
_CACHE_LOCK = threading.Lock()


@dataclass(frozen=True)
class RunningExecution:
    arn: str
    name: str
    """The execution's name: the drctl run id it was started with."""


def home(topology: Any, source: str, target: str) -> tuple[str, str, str]:
    """(environment, account, region) where the pair's machines that move to `target` live."""
    account, region = states_lock.machine_home(topology, source, target)
    env = next((n for n, e in topology.environments.items() if e.account_id == account), target)
    return env, account, region


def pair_machines(topology: Any, source: str, target: str) -> list[str]:
    """Names of the pair's machines living where the machines moving to `target` live."""
    _, account, region = home(topology, source, target)
    return states_lock.siblings(topology, source, target, (account, region), RUNBOOKS)


def deployed_here(clients: Any, env: str, region: str, *, cache: bool = True) -> frozenset[str]:
    """Names of every state machine in env's account and `region` (ListStateMachines; with `cache`, once per client
    factory: a run's; a long-lived reader such as the exporter reads afresh)."""
    key = (env, region)
    with _CACHE_LOCK:
        cached = _MACHINES.setdefault(clients, {})
        if cache and key in cached:
            return cached[key]
    sfn = clients.client("stepfunctions", env, region)
    names = frozenset(m["name"] for page in sfn.get_paginator("list_state_machines").paginate()
                      for m in page.get("stateMachines", []))
    with _CACHE_LOCK:
        cached[key] = names
    return names


def running(clients: Any, env: str, region: str, arns: list[str]) -> list[RunningExecution]:
    """The RUNNING executions of the machines `arns` (one not deployed has none)."""
    sfn = clients.client("stepfunctions", env, region)
    out: list[RunningExecution] = []
    for arn in arns:
        try:
            pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=arn, statusFilter="RUNNING")
            out += [RunningExecution(e["executionArn"], e["name"]) for page in pages for e in page["executions"]]
        except sfn.exceptions.StateMachineDoesNotExist:
            continue
    return out


def refuse_if_running(topology: Any, clients: Any, source: str, target: str, *, only_deployed: bool) -> None:
    """LockHeld (exit 3) naming the execution when one of the pair runs in Step Functions. `only_deployed`: list
    the region's machines first (cached) and read executions only of drctl machines found there."""
    env, account, region = home(topology, source, target)
    names = pair_machines(topology, source, target)
    if only_deployed:
        names = [n for n in names if n in deployed_here(clients, env, region)]
    arns = states_lock.machine_arns(names, names[0], account, region) if names else []
    found = running(clients, env, region, arns)
    if found:
        first = found[-1]  # ListExecutions lists the most recent first
        raise LockHeld(f"the {source}/{target} pair is being moved by Step Functions: execution {first.arn} (run "
                       f"{first.name}) is RUNNING. Follow it with `drctl runs show {first.name}`; start again once "
                       "it has ended (or stop it: `aws stepfunctions stop-execution --execution-arn ...`)")


class GuardedLock:
    """A RunLock that, once taken, also refuses while a Step Functions execution of the pair runs (then releases
    it). An error reading Step Functions is logged and ignored: a local run must not depend on it."""

    def __init__(self, inner: RunLock, check: Callable[[], None]) -> None:
        self.inner = inner
        self.check = check
        self.location = inner.location

    def acquire(self, me: LockInfo, *, break_lock: bool = False) -> LockInfo | None:
        broken = self.inner.acquire(me, break_lock=break_lock)
        try:
            self.check()
        except LockHeld:
            self.inner.release()
            raise
        except Exception as err:  # Step Functions unreadable: the local lock still holds
            from dr.aws.errors import describe

            log.warning("could not check for a running Step Functions execution of this pair (%s); going on with "
                        "the local lock only", describe(err))
        return broken

    def holder(self) -> LockInfo | None:
        return self.inner.holder()

    def live_holder(self) -> LockInfo | None:
        return self.inner.live_holder()

    def on_lost(self, callback: Callable[[], None]) -> None:
        self.inner.on_lost(callback)

    def release(self) -> None:
        self.inner.release()


def guarded(lock: RunLock, topology: Any, clients: Any, source: str, target: str) -> RunLock:
    """`lock` for a local run of source -> target, refusing while the pair runs in Step Functions."""
    return GuardedLock(lock, lambda: refuse_if_running(topology, clients, source, target, only_deployed=True))
