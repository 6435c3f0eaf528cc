"""Step Functions' quotas a generated definition must stay within, and the definition's worst case against them.

AWS (Step Functions Developer Guide, "Step Functions service quotas" and "Map state processing modes"): a state
machine definition is at most 1 MB (hard quota); an execution's history at most 25,000 events (hard quota); an
inline Map runs at most 40 iterations at once. The worst case walks the definition: every loop turns as often as
its budget counter allows, every Map item takes that path, every acting state runs once. The execution input's
`planned` is one value for the whole execution (a planned one fences and catches up before promoting, an unplanned
one fences what it left behind afterwards): the worst case is the costlier of the two executions, not their sum.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from dr.sfn.states_lock import ITEMS_BOUND

MAX_DEFINITION_BYTES = 1_048_576
MAX_HISTORY_EVENTS = 25_000
MAX_INLINE_MAP_CONCURRENCY = 40
PART_CHOICE = "part?"
"""A failback's first Choice: which part this execution runs (dr/sfn/generate_failback.py)."""
ROUTES = ("$.item.kind", "$.part")
"""Choices of which exactly one route runs: the worst case is the costliest route, not their sum."""
PLANNED = ("$.planned", "$.run.planned")
"""Where a state reads the execution input's `planned` (top level and branches; Map iterations)."""

EVENTS = {"Task": 5, "Pass": 2, "Choice": 2, "Wait": 2, "Succeed": 2, "Fail": 2}
"""History events per state: a Task is entered, scheduled, started, succeeded and exited; the others entered and
exited. A Map or Parallel adds entered, started, succeeded and exited (4), each iteration started and
succeeded (2)."""


@dataclass(frozen=True)
class QuotaReport:
    definition_bytes: int
    max_map_concurrency: int
    worst_history_events: int

    def problems(self) -> list[str]:
        out = []
        if self.definition_bytes > MAX_DEFINITION_BYTES:
            out.append(f"definition of {self.definition_bytes:,} bytes > {MAX_DEFINITION_BYTES:,}")
        if self.max_map_concurrency > MAX_INLINE_MAP_CONCURRENCY:
            out.append(f"an inline Map with MaxConcurrency {self.max_map_concurrency} > {MAX_INLINE_MAP_CONCURRENCY}")
        if self.worst_history_events > MAX_HISTORY_EVENTS:
            out.append(f"worst-case history of {self.worst_history_events:,} events > {MAX_HISTORY_EVENTS:,}")
        return out


def check(asl_doc: dict[str, Any], text: str) -> QuotaReport:
    plan = asl_doc["States"]["plan"]["Result"]
    start, before = asl_doc["StartAt"], 0
    if PART_CHOICE in asl_doc["States"]:  # a failback: each part is an execution of its own (its own history)
        start, before = PART_CHOICE, EVENTS["Pass"]
    worst = max(_chain(_as_if(asl_doc, planned)["States"], start, plan, {}) for planned in (True, False))
    return QuotaReport(len(text.encode()), _max_concurrency(asl_doc), 2 + before + worst)


def _as_if(node: Any, planned: bool) -> Any:
    """A copy of the definition as an execution with input `planned` walks it: each Choice on `planned` becomes a
    Pass to the one state it would choose (same history cost as the Choice)."""
    if isinstance(node, list):
        return [_as_if(v, planned) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _as_if(v, planned) for k, v in node.items()}
    rules = out.get("Choices") if out.get("Type") == "Choice" else None
    if not rules or not any(r.get("Variable") in PLANNED for r in rules):
        return out
    taken = next((r["Next"] for r in rules if r.get("Variable") in PLANNED and r.get("BooleanEquals") is planned),
                 None)
    others = [r for r in rules if r.get("Variable") not in PLANNED]
    if taken is None and others:
        return {**out, "Choices": copy.deepcopy(others)}
    return {"Type": "Pass", "Next": taken or out["Default"]}


def _max_concurrency(node: Any) -> int:
    if isinstance(node, dict):
        here = int(node.get("MaxConcurrency", 0)) if node.get("Type") == "Map" else 0
        return max([here, *(_max_concurrency(v) for v in node.values())])
    if isinstance(node, list):
        return max([0, *(_max_concurrency(v) for v in node)])
    return 0


def _items(path: str, plan: dict[str, Any], item: dict[str, Any]) -> int:
    """How many items a Map's ItemsPath names: in the plan, or (`$.item.x`) the largest such list of any item."""
    if path in ITEMS_BOUND:  # a list read at run time (the lock's running executions), at its largest
        return ITEMS_BOUND[path]
    if path.startswith("$.item."):
        key = path.removeprefix("$.item.")
        return max((len(i.get(key, [])) for i in item.get("_all", [item])), default=1)
    node: Any = plan
    for part in re.findall(r"[^.\[\]]+", path.removeprefix("$.plan.")):
        node = node[int(part)] if part.isdigit() else node[part]
    return len(node)


def _state_events(state: dict[str, Any], plan: dict[str, Any], item: dict[str, Any]) -> int:
    kind = state["Type"]
    if kind == "Parallel":
        return 4 + sum(_chain(b["States"], b["StartAt"], plan, item) for b in state["Branches"])
    if kind == "Map":
        count = _items(state["ItemsPath"], plan, item)
        processor = state["ItemProcessor"]
        items = _sample_items(state["ItemsPath"], plan)
        per = _iteration(processor["States"], processor["StartAt"], plan, {"_all": items} if items else item)
        return 4 + count * (2 + per)
    return EVENTS[kind]


def _sample_items(path: str, plan: dict[str, Any]) -> list[dict[str, Any]]:
    if not path.startswith("$.plan."):
        return []
    node: Any = plan
    for part in re.findall(r"[^.\[\]]+", path.removeprefix("$.plan.")):
        node = node[int(part)] if part.isdigit() else node[part]
    return [n for n in node if isinstance(n, dict)]


def _chain(states: dict[str, Any], start: str, plan: dict[str, Any], item: dict[str, Any]) -> int:
    """Worst case of a scope (the top level, a branch, one Map iteration): a first Choice on the item's kind (or a
    failback's part) takes its costliest route; every state reachable from there counts once, and each
    wait-and-describe loop (a cycle through a `$.polls.n` counter) as often more as its counter allows."""
    first = states[start]
    if first.get("Type") == "Choice" and first.get("Choices", [{}])[0].get("Variable") in ROUTES:
        routes = {rule["Next"] for rule in first["Choices"]} | {first["Default"]}
        return EVENTS["Choice"] + max(_chain(states, r, plan, item) for r in routes)
    reached = _reachable(states, start)
    total = sum(_state_events(states[s], plan, item) for s in reached)
    for name in reached:
        polls = _bound(states[name])
        if polls:
            total += (polls - 1) * sum(_state_events(states[s], plan, item) for s in _cycle(states, name))
    return total


def _iteration(states: dict[str, Any], start: str, plan: dict[str, Any], item: dict[str, Any]) -> int:
    return _chain(states, start, plan, item)


def _cycle(states: dict[str, Any], counter: str) -> list[str]:
    """The states of the loop a counter closes: from where it goes back (its Default) along Next/Default."""
    path, here = [counter], states[counter]["Default"]
    while here != counter and here not in path and here in states:
        path.append(here)
        here = states[here].get("Next") or states[here].get("Default") or ""
    return path


def _reachable(states: dict[str, Any], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        here = todo.pop()
        if here in seen or here not in states:
            continue
        seen.add(here)
        state = states[here]
        todo += [state[k] for k in ("Next", "Default") if k in state]
        todo += [rule["Next"] for key in ("Choices", "Catch") for rule in state.get(key, [])]
    return seen


def _bound(state: dict[str, Any]) -> int:
    return max([0, *(int(rule.get("NumericGreaterThanEquals", 0)) for rule in state.get("Choices", [])
                     if rule.get("Variable") == "$.polls.n")])
