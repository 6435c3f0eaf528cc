"""Failback's re-protect phases in the generated state machine (dr/sfn/generate.py hands them here), the gates that
honour `--phase` (the execution input's `phase`), and what drctl computes for them when it starts an execution.

A failback machine lives where the copies it promotes are (the original region). Its first half (`fence-stale`,
`reprotect`, `replicating`) works there and reads the current writers in the DR region; after the switch, the
`dr-` half works in the DR region through drctl's cross-region caller and reads the new writers at home.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dr.aws.lag_metrics import lag_metric
from dr.config.model import Engine
from dr.engine.step import RunContext, Step
from dr.iam.grants import Grant, declared
from dr.sfn import asl, states_protect, states_rds
from dr.sfn.states_protect import Shape, Sides
from runbooks.steps._common import Move, is_cluster, moves, region
from runbooks.steps.fence import StopFenced

PROTECT_KINDS = frozenset({"FenceStale", "StopFenced", "CreateReplica", "RejoinGlobal", "WaitReplicating"})
PHASES = ("reprotect", "switch", "all")
HISTORY_SHARES = {"fence-stale": 600, "stop-fenced": 600, "create": 2_000, "rejoin": 400, "replicating": 1_400}
"""Execution-history events each re-protect Map of one half may spend at worst (two halves: twice this); the
switch's Maps get the failback's share of the rest (generate.HISTORY_SHARES_FAILBACK)."""
REPLICATING_MIN_POLL = 60.0
"""Lag datapoints have one-minute periods: reading them more often finds nothing new."""


def half_key(prefix: str) -> str:
    return "dr" if prefix else "back"


@dataclass
class Half:
    """One re-protect half: toward the failback's target (`back`, no prefix), or the `dr-` one after the switch."""

    key: str
    prefix: str
    sides: Sides
    items: list[dict[str, Any]]


@dataclass
class ProtectPart:
    """The re-protect states of a failback definition, their plan entries and the step of each Map iteration."""

    ctx: RunContext
    machine_region: str
    halves: dict[str, Half] = field(default_factory=dict)
    shapes: list[Shape] = field(default_factory=list)
    item_steps: dict[str, list[str]] = field(default_factory=dict)
    """Per Map, the step of each iteration ("" where the database has no such step: an Aurora global member)."""
    reprotect_steps: list[str] = field(default_factory=list)
    back_states: list[str] = field(default_factory=list)
    """Top-level states of the first half (what `--phase reprotect` runs)."""
    plan: dict[str, Any] = field(default_factory=dict)
    """`plan.protect`: per half (`back`, `dr`) its `items`, every database of the move once."""
    grants: list[Grant] = field(default_factory=list)
    """What the re-protect steps declare (dr/iam): the resources of the machine's and the caller's roles."""
    first_step: Step | None = None
    """A re-protect step: its retry policy is the one of the Task that starts the next part."""

    def phase(self, name: str, members: list[Step]) -> asl.State:
        """The top-level state of one re-protect phase (`[dr-]fence-stale`, `[dr-]reprotect`, `[dr-]replicating`)."""
        half = self._half("dr-" if name.startswith("dr-") else "")
        self.first_step = self.first_step or members[0]
        self.grants += [g for step in members for g in declared(step, self.ctx)]
        if not half.prefix:
            self.reprotect_steps += [s.name for s in members]
            self.back_states.append(name)
        by_kind: dict[str, list[Step]] = {}
        for step in members:
            by_kind.setdefault(type(step).__name__, []).append(step)
        maps = [self._map(half, kind, steps) for kind, steps in by_kind.items()]
        if len(maps) == 1:
            return maps[0]
        return {"Type": "Parallel", "ResultPath": None, "Comment": name,
                "Branches": [{"StartAt": m["Comment"], "States": {m["Comment"]: {**m, "End": True}}} for m in maps]}

    def _half(self, prefix: str) -> Half:
        key = half_key(prefix)
        if key not in self.halves:
            pairs = moves(self.ctx)
            if prefix:  # after the switch: the copies left behind become replicas of the new writers
                pairs = [Move(m.db, old=m.new, new=m.old) for m in pairs]
            here, writer = ((region(self.ctx, pairs[0].new), region(self.ctx, pairs[0].old)) if pairs
                            else (self.machine_region, self.machine_region))
            sides = Sides(None if here == self.machine_region else here,
                          None if writer == self.machine_region else writer)
            items = [self._item(m, n) for n, m in enumerate(pairs)]
            self.halves[key] = Half(key, prefix, sides, items)
            self.plan[key] = {"items": items}
        return self.halves[key]

    def _map(self, half: Half, kind: str, steps: list[Step]) -> asl.State:
        by_db = {_db_of(s): s.name for s in steps}
        map_name = f"{half.prefix}{_map_key(kind)}"
        self.item_steps[map_name] = [by_db.get(i["db"], "") for i in half.items]
        slowest = max(steps, key=lambda s: s.budget)
        poll = asl.poll_seconds(slowest, len(steps), HISTORY_SHARES[_map_key(kind)])
        states = self._states(kind, slowest, half, poll)
        # one Map (up to 40 at once, the rest queued): re-protecting is not downtime, so no chunks side by side
        state = states_rds.item_map(map_name, states, next(iter(states)), f"protect.{half.key}.items",
                                    min(len(half.items), states_rds.MAX_INLINE_CONCURRENCY))
        state["Comment"] = map_name
        return state

    def _states(self, kind: str, step: Step, half: Half, poll: float) -> dict[str, asl.State]:
        if kind == "FenceStale":
            return states_protect.fence_stale(step, half.sides, half.key, poll)
        if kind == "StopFenced":
            return states_protect.stop_fenced(step, half.sides, half.key)
        if kind == "CreateReplica":
            return states_protect.create_replica(step, half.sides, half.key, self.shapes, poll)
        if kind == "RejoinGlobal":
            return states_protect.rejoin_global(step, half.sides, poll)
        return states_protect.wait_replicating(step, half.sides, max(poll, REPLICATING_MIN_POLL))

    def _item(self, move: Move, n: int) -> dict[str, Any]:
        """What the state machine needs of one database of a half (embedded in the definition)."""
        ctx = self.ctx
        account = ctx.topology.environments[move.old.env].account_id
        cluster = is_cluster(move.db.engine)
        kind = ("global" if move.db.engine is Engine.AURORA_GLOBAL else "cluster" if cluster else "instance")
        arn = f"arn:aws:rds:{region(ctx, move.old)}:{account}:{'cluster' if cluster else 'db'}:{move.old.id}"
        metric = lag_metric(move.db.engine)
        item: dict[str, Any] = {
            "db": move.db.name, "n": n, "kind": kind, "id": move.new.id,
            "writer": {"id": move.old.id, "arn": arn, "region": region(ctx, move.old)},
            "metric": {"namespace": metric.namespace, "name": metric.metric, "to_seconds": metric.to_seconds,
                       "dimensions": metric.cloudwatch_dimensions(move.new.id)},
            # the local step's bound (dr/checks/lag.py rpo_verdict), judged with the datapoint's age by the caller
            "threshold": float(ctx.topology.objectives.rpo) / metric.to_seconds}
        if move.db.engine is Engine.AURORA_CLUSTER and region(ctx, move.old) != region(ctx, move.new):
            item["binlog"] = True  # an Aurora MySQL writer's binary logging is read before the create
        if kind == "global":
            item["global"] = move.db.global_cluster_id
            return item
        settings = ctx.topology.settings_for(move.new)
        create = settings.cluster_replica_args() if cluster else settings.instance_replica_args()
        member = settings.cluster_member_args() if cluster else {}
        kms = bool(settings.kms_key_id) and region(ctx, move.old) != region(ctx, move.new)
        item.update({"create": create, "member": member, "shape": self._shape(kind, create, member, kms)})
        if kms:
            item["kms"] = settings.kms_key_id
        return item

    def _shape(self, kind: str, create: dict[str, Any], member: dict[str, Any], kms: bool) -> int:
        rds_kind = states_rds.INSTANCE if kind == "instance" else states_rds.CLUSTER
        wanted = Shape(rds_kind, 0, tuple(sorted(create)), tuple(sorted(member)), kms)
        for shape in self.shapes:
            if (shape.kind, shape.create, shape.member, shape.kms) == (rds_kind, wanted.create, wanted.member, kms):
                return shape.index
        self.shapes.append(Shape(rds_kind, len(self.shapes), wanted.create, wanted.member, kms))
        return len(self.shapes) - 1


def _map_key(kind: str) -> str:
    return {"FenceStale": "fence-stale", "StopFenced": "stop-fenced", "CreateReplica": "create",
            "RejoinGlobal": "rejoin", "WaitReplicating": "replicating"}[kind]


def _db_of(step: Step) -> str:
    if isinstance(step, StopFenced):
        return step.db.name
    return str(step.move.db.name)  # type: ignore[attr-defined]  # every other re-protect step has its move


PARTS = ("back", "switch", "dr")
"""A failback runs as up to three executions of its machine, one per part, each starting the next as its last
state: `back` (re-protect toward the target), `switch` (the planned move), `dr` (re-protect toward the DR side).
Each has its own history (25,000 events at most), which one execution of all three would exceed at seed scale."""
FIRST_PART = {"reprotect": "back", "all": "back", "switch": "switch"}
"""The part the execution drctl starts runs, per `--phase`."""


def part_execution(run_id: str, part: str, phase: str) -> str:
    """The execution name of `part`: the run id for the one drctl starts, `<run id>-<part>` for the others."""
    return run_id if part == FIRST_PART[phase] else f"{run_id}-{part}"[:80]


def parts_of(phase: str) -> list[str]:
    return list(PARTS[PARTS.index(FIRST_PART[phase]):PARTS.index("back") + 1] if phase == "reprotect"
                else PARTS[PARTS.index(FIRST_PART[phase]):])


def link_parts(order: list[str], states: dict[str, asl.State], protect: ProtectPart,
               machine_arn: str) -> list[list[str]]:
    """The top-level chains of a failback definition, one per part, behind a `part?` Choice after `plan`; each
    part but the last ends by starting the execution of the next (`phase=reprotect` ends after the first)."""
    back = [s for s in order if s in protect.back_states]
    dr = [s for s in order if s.startswith("dr-")]
    switch = [s for s in order if s not in back and s not in dr and s != "plan"]
    states["plan"]["Next"] = "part?"
    states["done"] = asl.succeed()
    routes = [{"Variable": "$.part", "StringEquals": part, "Next": chain[0]}
              for part, chain in (("switch", switch), ("dr", dr)) if chain]
    states["part?"] = asl.choice(routes, back[0] if back else "done")
    step = protect.first_step
    chains = []
    if back:
        states["then-switch?"] = asl.choice([{"Variable": "$.phase", "StringEquals": "reprotect", "Next": "done"}],
                                            "next:switch")
        chains.append([*back, "then-switch?", *_start_next(states, machine_arn, "switch", step)])
    if switch:
        chains.append([*switch, *(_start_next(states, machine_arn, "dr", step) if dr else [])])
    if dr:
        chains.append(dr)
    return chains


def _start_next(states: dict[str, asl.State], machine_arn: str, part: str, step: Step | None) -> list[str]:
    """StartExecution of this machine for `part`, with this execution's input (`part` and the gate window's end
    replaced); already started (a redrive of this execution): nothing to do. The names of the two states."""
    assert step is not None  # a failback with a part to start has re-protect steps
    merged = "States.JsonMerge($$.Execution.Input, $.next, false)"
    params = {"StateMachineArn": machine_arn, "Name.$": f"States.Format('{{}}-{part}', $.run_id)",
              "Input.$": f"States.JsonToString({merged})"}
    started = [{"ErrorEquals": ["Sfn.ExecutionAlreadyExistsException"], "ResultPath": "$.error", "Next": "done"}]
    # the next part's RPO gate reads up to when it starts (from when the run started: ASL computes no times)
    gate = {"start.$": "$.gate.start", "end.$": "$$.State.EnteredTime"}
    states[f"next:{part}"] = asl.pass_state({"part": part, "gate": gate, "parent.$": "$$.Execution.Id"},
                                            f"start:{part}", "$.next")
    states[f"start:{part}"] = asl.task("sfn", "StartExecution", params, step=step, next_state=None, catch=started)
    return [f"next:{part}", f"start:{part}"]


def half_items(plan: dict[str, Any], half: str) -> list[dict[str, Any]]:
    return list(plan.get("protect", {}).get(half, {}).get("items", []))


def protect_input(ctx: RunContext, plan: dict[str, Any]) -> dict[str, dict[str, list[Any]]]:
    """Per half, per item (by its `n`): this run's fenced id and Aurora member id for the copy, and the copies to
    consider stopping (this run's fenced id and those a drctl fence left there, found by tag now)."""
    from runbooks.steps.fence import fenced_copies, fenced_id
    from runbooks.steps.reprotect import member_instance_id

    out: dict[str, dict[str, list[Any]]] = {}
    for half in plan.get("protect", {}):
        row: dict[str, list[Any]] = {"fenced": [], "member": [], "stop": []}
        for item in sorted(half_items(plan, half), key=lambda i: int(i["n"])):
            db = next(d for d in ctx.topology.databases if d.name == item["db"])
            here = db.primary if db.primary.id == item["id"] else db.replica
            fenced = fenced_id(here, ctx.run_id)
            found = [] if item["kind"] == "global" else fenced_copies(ctx, db, here)
            earlier = [str(c.get("DBClusterIdentifier") or c.get("DBInstanceIdentifier")) for c in found]
            row["fenced"].append(fenced)
            row["member"].append(member_instance_id(here.id, ctx.run_id))
            row["stop"].append(list(dict.fromkeys([fenced, *earlier])))
        out[half] = row
    return out
