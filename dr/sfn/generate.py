"""Runbook -> state machine: the phases the local engine would run, each step translated to states by its class, or
listed as a gap when a state machine in the DR region cannot do it.

The definition is the DR region's machine: its SDK-integration Tasks call the region of the copies being
promoted, Route53 and CloudWatch there; what must be called elsewhere (a move's fences in the source region, ARC
routing controls on the cluster's endpoints) goes through drctl's caller Lambda (dr/sfn/remote). What ASL and the
caller do not cover (a zone listing compared with the wanted values, DNS answers from the name servers) is a `Gap`,
with the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from dr.aws.lag_metrics import lag_metric
from dr.config.model import Engine
from dr.engine.runbook import Parallel, Phase, Runbook
from dr.engine.step import RunContext, Step
from dr.iam.grants import Grant, declared
from dr.sfn import asl, states_arc, states_dns, states_fence, states_lock, states_rds
from dr.sfn.generate_failback import PROTECT_KINDS, ProtectPart, link_parts
from dr.sfn.remote import function_name
from dr.sfn.remote.calls import bind
from runbooks.steps._common import FACT_PLANNED, FACT_SOURCE_REACHABLE, Move, is_cluster, moves, region
from runbooks.steps.backups import KeepClusterBackups
from runbooks.steps.complete import Guarded

GATE_WINDOW_SECONDS = 120.0
"""The RPO gate reads the lag datapoints of the last two minutes (one-minute periods) before the execution
starts: the newest one's age is at most this, so lag <= RPO - this bounds lag + age by the RPO."""
PLANNED = {"FenceSource": "fence", "CatchUp": "catch-up"}
"""The planned part of a move: Maps over the databases that are not Aurora global, run when the execution's input
says `planned` (their source-region calls through drctl's caller, dr/sfn/remote)."""


@dataclass(frozen=True)
class Gap:
    """A step of the runbook the state machine does not do, and why; `blocking`: the move is incomplete
    without it, so drctl refuses to run it there."""

    step: str
    reason: str
    blocking: bool


@dataclass
class Definition:
    runbook: str
    source: str
    target: str
    account: str
    region: str
    asl: dict[str, Any]
    databases: list[str]
    steps: list[str]
    """The local runbook's step names this definition carries out (the report's order)."""
    gaps: list[Gap] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)
    """What the steps the caller carries out declare (dr/iam): its role's resources."""
    item_steps: dict[str, list[str]] = field(default_factory=dict)
    """Maps whose iterations are one local step each, beyond promote/backups/dns (failback's re-protect)."""
    reprotect_steps: list[str] = field(default_factory=list)
    """Failback: the steps `--phase reprotect` runs (the other steps are the switch's)."""

    def text(self) -> str:
        """The definition as deployed: canonical JSON (sorted keys), so equal plans give equal text."""
        return json.dumps(self.asl, indent=2, sort_keys=True)

    @property
    def blocking(self) -> list[Gap]:
        return [g for g in self.gaps if g.blocking]


def unwrap(step: Step) -> Step:
    return step.inner if isinstance(step, Guarded) else step


def generate(runbook: Runbook, ctx: RunContext) -> Definition:
    """The state machine of `runbook` from ctx.source to ctx.target, from the same phases the local run has."""
    ctx.options.planned = False
    ctx.facts.update({FACT_PLANNED: False, FACT_SOURCE_REACHABLE: False})
    todo = moves(ctx)
    account, where = home_of(ctx, todo)
    builder = _Builder(ctx, todo, account, where)
    for phase in runbook.phases(ctx):
        builder.add(phase)
    document = bind(builder.finish(), function_name(runbook.name, ctx.source, ctx.target))
    names = [item["db"] for item in builder.items]
    return Definition(runbook.name, ctx.source, ctx.target, account, where, document, names, builder.steps,
                      builder.gaps, [*builder.grants, *builder.protect.grants],
                      item_steps=builder.protect.item_steps, reprotect_steps=builder.protect.reprotect_steps)


def home_of(ctx: RunContext, todo: list[Move]) -> tuple[str, str]:
    """The account and region the state machine lives in: where the copies being promoted are."""
    if not todo:
        target = ctx.topology.environments[ctx.target]
        return target.account_id, target.region
    first = todo[0].new
    return ctx.topology.environments[first.env].account_id, region(ctx, first)


def plan_item(ctx: RunContext, move: Move) -> dict[str, Any]:
    """What the state machine needs of one database (embedded in the definition)."""
    metric = lag_metric(move.db.engine)
    settings = ctx.topology.settings_for(move.new)
    rpo_native = (float(ctx.topology.objectives.rpo) - GATE_WINDOW_SECONDS) / metric.to_seconds
    kind = ("global" if move.db.engine is Engine.AURORA_GLOBAL else
            "cluster" if is_cluster(move.db.engine) else "instance")
    extra: dict[str, Any] = ({"global": move.db.global_cluster_id} if kind == "global" else
                             {"source": {"id": move.old.id, "region": region(ctx, move.old)}})
    return {"db": move.db.name, "id": move.new.id, "kind": kind, **extra,
            "metric": {"namespace": metric.namespace, "name": metric.metric, "to_seconds": metric.to_seconds,
                       "dimensions": metric.cloudwatch_dimensions(move.new.id)},
            "threshold": max(0.0, rpo_native), "backup": settings.backup_args()}


HISTORY_SHARES = {"promote": 6_000, "confirm": 1_500, "dns": 800, "fence": 700, "catch-up": 2_200,
                  "fence-old-writer": 700}
"""Execution-history events (hard quota 25,000 per execution) each polling Map may spend at worst: its loops poll
slowly enough to stay within (asl.poll_seconds); prechecks, the gate and the fixed states take the rest."""


class _Builder:
    """Collects the top-level states phase by phase."""

    def __init__(self, ctx: RunContext, todo: list[Move], account: str, region: str = "") -> None:
        self.ctx, self.todo, self.account, self.region = ctx, todo, account, region
        self.items = [plan_item(ctx, m) | {"n": n} for n, m in enumerate(todo)]
        self.states: dict[str, asl.State] = {}
        self.order: list[str] = []
        self.steps: list[str] = []
        self.gaps: list[Gap] = []
        self.zones: list[dict[str, Any]] = []
        self.branches: list[dict[str, Any]] = []
        self.backups_step: Step | None = None
        self.protect = ProtectPart(ctx, home_of(ctx, todo)[1])
        self.grants: list[Grant] = []
        self.arcs: list[list[dict[str, str]]] = []
        self.left_behind: list[Any] = []

    def add(self, phase: Phase) -> None:
        members = [unwrap(s) for s in (phase.steps if isinstance(phase, Parallel) else [phase])]
        kinds = {type(s).__name__ for s in members}
        if kinds & PROTECT_KINDS:
            self._protect(phase.name, members)
        elif "Prechecks" in kinds:
            self._top("prechecks", states_rds.prechecks(members[0]), members)
        elif "RpoGate" in kinds:
            self._top("rpo-gate", states_rds.rpo_gate(members[0]), members)
        elif kinds <= set(PLANNED):
            self._planned(PLANNED[next(iter(kinds))], members)
        elif kinds & {"PromoteReplica", "PromoteGlobalMember"}:
            self._promote(members)
        else:
            self._switch(members)

    def _top(self, name: str, states: dict[str, asl.State], members: list[Step]) -> None:
        self.states[name] = states_rds.item_map(name, states, next(iter(states)), "databases", len(self.items))
        self.order.append(name)
        self.steps += [s.name for s in members]

    def _planned(self, name: str, members: list[Step]) -> None:
        """The fence or catch-up Map: one iteration per database that is not Aurora global."""
        slowest = max(members, key=lambda s: s.budget)
        poll = self._poll(slowest, len(members), name)
        states = (states_fence.fences if name == "fence" else states_fence.catch_ups)(slowest, poll)
        plain = [i for i in self.items if i["kind"] != "global"]
        self.states[name] = states_rds.item_map(name, states, next(iter(states)), "plain", len(plain))
        self.order.append(name)
        self.steps += [s.name for s in members]
        if name == "fence":  # its calls go through the caller, whose role gets what these steps declare
            self.grants += [g for s in members for g in declared(s, self.ctx)]

    def _poll(self, step: Step, items: int, share: str) -> int:
        return asl.poll_seconds(step, items, HISTORY_SHARES[share])

    def _protect(self, name: str, members: list[Step]) -> None:
        """A failback's re-protect phase (dr/sfn/generate_failback.py); a switch before it is closed first."""
        self._flush_switch()
        self.states[name] = self.protect.phase(name, members)
        self.order.append(name)
        self.steps += [s.name for s in members]

    def _promote(self, steps: list[Step]) -> None:
        slowest = max(steps, key=lambda s: s.budget)
        self._top("promote", states_rds.promotions(slowest, self._poll(slowest, len(steps), "promote")), steps)

    def _switch(self, members: list[Step]) -> None:
        for step in members:
            kind = type(step).__name__
            if kind == "Confirm":
                states = states_rds.confirm(step, self._poll(step, len(self.items), "confirm"))
                self._branch("confirm", states, "databases", len(self.items))
                self.steps.append(step.name)
                self.gaps.append(Gap("confirm", "readiness of the target's application tier and its health "
                                                "checks are not read by the state machine (drctl readiness)", False))
            elif kind == "UpsertZone":
                self._zone(step)
            elif kind == "ArcSwitch":
                self._arc(step)
            elif isinstance(step, KeepClusterBackups):
                self.steps.append(step.name)
                self.backups_step = step
            elif kind == "FenceLeftBehind":
                self.left_behind.append(step)
                self.steps.append(step.name)
            else:
                self.gaps.append(Gap(step.name, f"{kind} has no Step Functions translation", True))

    def _zone(self, step: Any) -> None:
        env = self.ctx.topology.environments[step.env]
        self.zones.append({"zone": step.zone_id, "role": env.role_arn or "", "account": env.account_id,
                           "step": step, "routed": states_dns.routed_items(step)})
        self.steps.append(step.name)
        if step.routed:
            self.gaps.append(Gap(step.name, "Route53's answers for the failover records are not read from the "
                                            "zone's name servers (GetChange INSYNC only), and a target health "
                                            "check an earlier drctl inverted is not restored", False))

    def _arc(self, step: Any) -> None:
        """One cluster's routing controls, through the caller on the endpoints the topology lists."""
        endpoints = [{"region": e.region, "url": e.url} for e in step.arc.endpoints]
        if not endpoints:
            self.gaps.append(Gap(step.name, f"the topology lists no endpoints of cluster {step.arc.cluster_arn}: "
                                            "the state machine calls them without DescribeCluster (a control-plane "
                                            "call); add them under `arc.endpoints` (`drctl readiness` lists them)",
                                 True))
            return
        env = self.ctx.topology.environments[step.env]
        role = env.role_arn if env.account_id != self.account else None
        wanted = step.wanted(self.ctx)
        self.arcs.append([{"arn": arn, "state": state} for arn, state in wanted.items()])
        poll = self._poll(step, len(wanted), "dns")
        self.branches.append(states_arc.cluster_branch(step, len(self.arcs) - 1, wanted, endpoints, role=role,
                                                       poll=poll))
        self.steps.append(step.name)
        self.grants += declared(step, self.ctx)
        self.gaps.append(Gap(step.name, "the records' DNS answers are not read: the routing control states "
                                        "decide", False))

    def _branch(self, name: str, states: dict[str, asl.State], items_key: str, count: int) -> None:
        self.branches.append({"StartAt": name, "States": {
            name: {**states_rds.item_map(name, states, next(iter(states)), items_key, count), "End": True}}})

    def _dns(self) -> None:
        cross = any(z["account"] != self.account for z in self.zones)
        comment = f"drctl {self.ctx.runbook} {self.ctx.source}->{self.ctx.target} run {{}} (Step Functions)"
        for index, zone in enumerate(self.zones):
            if cross and not zone["role"]:
                self.gaps.append(Gap(zone["step"].name, f"zone {zone['zone']} is in account {zone['account']}, "
                                 "not the state machine's, and its environment has no role_arn", True))
            poll = self._poll(zone["step"], len(self.zones), "dns")
            self.branches.append(states_dns.zone_branch(zone["step"], index, self.ctx.target, comment=comment,
                                                        role=zone["role"] if cross else None, poll=poll))

    def _fence_left_behind(self) -> None:
        """Unplanned executions: the best-effort fence of every former writer that is not Aurora global, a branch
        beside DNS and confirm (dr/sfn/states_fence.py `left_behind`). Each item carries the local step's name and
        its NOT-fenced text, so the execution's history and the report say what the local run says."""
        if not self.left_behind:
            return
        steps = {s.move.db.name: s for s in self.left_behind}
        for item in self.items:
            if item["db"] in steps:
                step = steps[item["db"]]
                item["left_behind"] = {"step": step.name, "unfenced": step._unfenced(self.ctx)}
        slowest = max(self.left_behind, key=lambda s: s.budget)
        poll = self._poll(slowest, len(steps), "fence-old-writer")
        self.branches.append(states_fence.left_behind_branch(slowest, poll, len(steps)))
        self.grants += [g for s in self.left_behind for g in declared(s, self.ctx)]

    def _flush_switch(self) -> None:
        """The switch's Parallel (confirm, DNS and backups side by side), once its steps have all been added."""
        if "switch" in self.states:
            return
        self._dns()
        self._fence_left_behind()
        clusters = [i for i in self.items if i["kind"] in ("cluster", "global")]
        if self.backups_step is not None and clusters:
            self._branch("backups", states_rds.backups(self.backups_step), "clusters", len(clusters))
        if self.branches:
            self.states["switch"] = {"Type": "Parallel", "Branches": self.branches, "ResultPath": None,
                                     "Comment": "confirm, DNS and backups side by side"}
            self.order.append("switch")

    def finish(self) -> dict[str, Any]:
        self._flush_switch()
        clusters = [i for i in self.items if i["kind"] in ("cluster", "global")]
        self.states["plan"] = {"Type": "Pass", "Result": self._plan(clusters), "ResultPath": "$.plan"}
        if not self.protect.halves:
            self._link(["plan", *self.order])
        else:  # a failback: one execution per part (dr/sfn/generate_failback.py)
            name = f"drctl-{self.ctx.runbook}-{self.ctx.source}-to-{self.ctx.target}"[:80]  # naming.machine_name
            arn = f"arn:aws:states:{self.protect.machine_region}:{self.account}:stateMachine:{name}"
            for chain in link_parts(self.order, self.states, self.protect, arn):
                self._link(chain)
        self._lock()
        return {"Comment": f"drctl {self.ctx.runbook} {self.ctx.source} -> {self.ctx.target}, generated from the "
                           "runbook (docs/engines.md)", "StartAt": "plan", "States": self.states}

    def _lock(self) -> None:
        """The run lock right after the plan, before any step (dr/sfn/states_lock.py)."""
        after = self.states["plan"].get("Next")
        if after is None:
            return
        from dr.sfn.naming import machine_name

        ctx = self.ctx
        own = machine_name(ctx.runbook, ctx.source, ctx.target)
        names = states_lock.siblings(ctx.topology, ctx.source, ctx.target, (self.account, self.region),
                                     ["failover", "failback"])
        first, states = states_lock.lock_states(
            states_lock.machine_arns(names, own, self.account, self.region), after)
        self.states.update(states)
        self.states["plan"]["Next"] = first

    def _link(self, chain: list[str]) -> None:
        """Each top-level state to the next; the RPO gate behind a Choice that --accept-data-loss skips, the fence
        and catch-up behind one that an unplanned execution skips."""
        entry = {"rpo-gate": "accept-data-loss?", "fence": "planned?"}
        for here, after in zip(chain, [*chain[1:], None], strict=True):
            state = self.states[here]
            state.pop("End", None)
            if state["Type"] == "Choice":  # failback's --phase gates: their rules are set, the chain is the default
                state["Default"] = entry.get(after, after) if after else "done"
            elif after is None:
                state["End"] = True
            else:
                state["Next"] = entry.get(after, after)
        for gated, choice, variable in (("rpo-gate", "accept-data-loss?", "$.accept_data_loss"),
                                        ("fence", "planned?", "$.planned")):
            if gated not in chain:
                continue
            skip_to = "catch-up" if gated == "fence" and "catch-up" in chain else gated
            rest = chain[chain.index(skip_to) + 1:]
            after = entry.get(rest[0], rest[0]) if rest else "done"
            if after == "done":
                self.states["done"] = asl.succeed()
            rules = [{"Variable": variable, "BooleanEquals": gated != "fence", "Next": after}]
            self.states[choice] = asl.choice(rules, gated)

    def _plan(self, clusters: list[dict[str, Any]]) -> dict[str, Any]:
        plan: dict[str, Any] = {"databases": self.items, "clusters": clusters,
                                "plain": [i for i in self.items if i["kind"] != "global"],
                                "zones": [{"zone": z["zone"], "role": z["role"]} for z in self.zones],
                                "routed": [z["routed"] for z in self.zones], "arc": self.arcs}
        big = {key: plan[key] for key in ("databases", "clusters", "plain")
               if states_rds.chunks(len(plan[key])) > 1}
        if big:
            size = states_rds.MAX_INLINE_CONCURRENCY
            plan["chunks"] = {key: [values[i:i + size] for i in range(0, len(values), size)]
                              for key, values in big.items()}
        if self.protect.plan:
            plan["protect"] = self.protect.plan
        return plan
