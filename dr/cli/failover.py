"""`drctl failover`, `drctl failback` and `drctl plan`: the failover and failback runbooks on the command line."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated, Any

import typer

from dr.cli.common import ConfigOpt, Output, OutputOpt, print_json
from dr.cli.deploy import EngineName, EngineOpt
from dr.cli.run_options import (
    AcceptDataLossOpt,
    BreakLockOpt,
    DryRunOpt,
    IncidentStartOpt,
    MetricsFileOpt,
    PlannedOpt,
    PlanToOpt,
    PushgatewayOpt,
    RunFlags,
    RunIdOpt,
    SimulateOutageOpt,
    ToOpt,
    YesOpt,
)


class FailbackPhase(StrEnum):
    REPROTECT = "reprotect"
    SWITCH = "switch"
    ALL = "all"


class PlanRunbook(StrEnum):
    FAILOVER = "failover"
    FAILBACK = "failback"
    EVALUATE = "evaluate"
    """Not a runbook: `drctl plan evaluate` checks AWS against what the plans need (dr/cli/plan_evaluate.py)."""


PhaseOpt = Annotated[FailbackPhase, typer.Option(
    "--phase", help="reprotect: fence and re-create replicas; switch: the planned move back; all: both.")]


def failover_cmd(
    *, to: ToOpt, config: ConfigOpt = None, output: OutputOpt = Output.TEXT, dry_run: DryRunOpt = False,
    yes: YesOpt = False, run_id: RunIdOpt = None, incident_start: IncidentStartOpt = None,
    accept_data_loss: AcceptDataLossOpt = False, simulate_outage: SimulateOutageOpt = None,
    planned: PlannedOpt = None, break_lock: BreakLockOpt = False, pushgateway: PushgatewayOpt = None,
    metrics_file: MetricsFileOpt = None, engine: EngineOpt = EngineName.LOCAL,
) -> None:
    """Fail over to ENV: prechecks, RPO gate; planned (the source's RDS answers): fence the sources and wait for
    the replicas to catch up; promote every database, then move DNS while confirming; unplanned: fence what was
    left behind where it answers. Timed against the RTO."""
    from dr.cli.run_options import execute

    flags = RunFlags(dry_run=dry_run, yes=yes, run_id=run_id, incident_start=incident_start,
                     accept_data_loss=accept_data_loss, simulate_outage=list(simulate_outage or []),
                     planned=planned, break_lock=break_lock, pushgateway=pushgateway, metrics_file=metrics_file)
    if engine is EngineName.STEPFUNCTIONS:
        from dr.sfn.run import start

        start("failover", config=config, target=to, flags=flags, output=output)
    execute("failover", config=config, output=output, target=to, flags=flags)


def failback_cmd(
    *, to: ToOpt, phase: PhaseOpt = FailbackPhase.ALL, config: ConfigOpt = None, output: OutputOpt = Output.TEXT,
    dry_run: DryRunOpt = False, yes: YesOpt = False, run_id: RunIdOpt = None,
    incident_start: IncidentStartOpt = None, accept_data_loss: AcceptDataLossOpt = False,
    simulate_outage: SimulateOutageOpt = None, break_lock: BreakLockOpt = False,
    pushgateway: PushgatewayOpt = None, metrics_file: MetricsFileOpt = None, engine: EngineOpt = EngineName.LOCAL,
) -> None:
    """Fail back to ENV: fence the stale copies, re-create replicas toward ENV, then switch back, planned by
    definition (fence the writers, wait for catch-up, promote: no write lost; refused when the current writer's
    region does not answer or a target copy does not replicate from the current writer)."""
    from dr.cli.run_options import execute

    flags = RunFlags(dry_run=dry_run, yes=yes, run_id=run_id, incident_start=incident_start,
                     accept_data_loss=accept_data_loss, simulate_outage=list(simulate_outage or []),
                     break_lock=break_lock, pushgateway=pushgateway, metrics_file=metrics_file,
                     extra={"phase": str(phase)})
    if engine is EngineName.STEPFUNCTIONS:
        from dr.sfn.run import start

        start("failback", config=config, target=to, flags=flags, output=output)
    execute("failback", config=config, output=output, target=to, flags=flags)


def plan_cmd(  # noqa: PLR0917 - typer passes the options by keyword; the runbook argument is positional
    runbook: Annotated[PlanRunbook, typer.Argument(help="failover or failback (the steps), or evaluate")],
    to: PlanToOpt = None,
    phase: PhaseOpt = FailbackPhase.ALL, config: ConfigOpt = None, output: OutputOpt = Output.TEXT,
    simulate_outage: SimulateOutageOpt = None,
) -> None:
    """The ordered steps of a failover or failback: resources, budgets and the AWS calls each makes.
    Calls nothing in AWS; `drctl failover --dry-run` also runs the read-only checks.

    `drctl plan evaluate [--to ENV]` instead reads AWS and checks what the plans need: resources and their roles,
    RDS quotas, DNS TTLs, replica backups, DR-region backup copies. Exit 0 all pass, 1 any fails, 2 bad input."""
    from dr.cli.run_options import fail
    from dr.errors import DrError, UsageError

    if runbook is PlanRunbook.EVALUATE:
        from dr.cli.plan_evaluate import evaluate_cmd

        evaluate_cmd(to=to, config=config, output=output, simulate_outage=simulate_outage)
        return
    if to is None:
        fail(UsageError(f"drctl plan {runbook}: --to ENV is required (the environment to move to)"))
    try:
        document = build_plan(str(runbook), config=config, target=to, phase=str(phase))
    except DrError as err:
        fail(err)
    if output is Output.JSON:
        print_json(document)
    else:
        sys.stdout.write(render_plan(document))


def build_plan(runbook: str, *, config: str | None, target: str, phase: str = "all") -> dict[str, Any]:
    """The plan document: phases in order, each step with resource, budget, mutating and its calls."""
    from dr.aws.factory import ClientFactory
    from dr.cli.common import load_topology
    from dr.cli.run_options import resolve_pair
    from dr.clock import SYSTEM_CLOCK
    from dr.engine import registry
    from dr.engine.step import RunContext, RunOptions

    cls = registry.get(runbook)
    topology = load_topology(config)
    source = resolve_pair(topology, None, target)
    ctx = RunContext(topology=topology, clients=ClientFactory(topology, run_id="plan"), clock=SYSTEM_CLOCK,
                     run_id="plan", runbook=cls.name, source=source, target=target,
                     options=RunOptions(dry_run=True, extra={"phase": phase}))
    return plan_document(cls(), ctx, phase=phase if runbook == "failback" else None)


def plan_document(runbook: Any, ctx: Any, *, phase: str | None = None) -> dict[str, Any]:
    """The plan of `runbook` for a (dry-run) context: what `drctl plan` prints and the confirmation summarises."""
    from dr.cli.plan_planes import control_plane_calls, step_planes
    from dr.engine.runbook import Parallel

    topology = ctx.topology
    phases: list[dict[str, Any]] = []
    steps = []
    for item in runbook.phases(ctx):
        members = list(item.steps) if isinstance(item, Parallel) else [item]
        steps += members
        phases.append({"name": item.name, "parallel": isinstance(item, Parallel), "steps": [
            {"name": s.name, "resource": s.resource, "budget_seconds": s.budget, "mutating": s.mutating,
             "calls": list(s.describe(ctx)), "planes": step_planes(s, ctx)} for s in members]})
    critical = sum(max(float(s["budget_seconds"]) for s in p["steps"]) for p in phases)
    rto = float(topology.objectives.rto)
    return {"runbook": runbook.name, "source": ctx.source, "target": ctx.target, "phase": phase,
            "rto_seconds": rto, "rpo_seconds": float(topology.objectives.rpo),
            "budget_seconds": critical, "over_rto": critical > rto, "phases": phases,
            "control_plane_calls": control_plane_calls(steps, ctx)}


def render_plan(plan: dict[str, Any]) -> str:
    from dr.cli.plan_planes import render_counts

    lines = [f"{plan['runbook']}: {plan['source']} -> {plan['target']} (RTO {plan['rto_seconds']:g}s, "
             f"RPO {plan['rpo_seconds']:g}s; step budgets along the path: {plan['budget_seconds']:g}s)"]
    if plan.get("over_rto"):
        lines.append("   note: the budgets are ceilings and add up to more than the RTO; a drill measures the real "
                     "time (drctl drill)")
    for number, phase in enumerate(plan["phases"], 1):
        together = " (in parallel)" if phase["parallel"] and len(phase["steps"]) > 1 else ""
        lines.append(f"{number}. {phase['name']}{together}")
        for step in phase["steps"]:
            kind = "" if step["mutating"] else ", read-only"
            lines.append(f"   - {step['name']}  [{step['resource']}]  budget {step['budget_seconds']:g}s{kind}")
            planes = step.get("planes") or [{}] * len(step["calls"])
            lines.extend(f"       {call}  [{_plane_label(mark)}]" if mark else f"       {call}"
                         for call, mark in zip(step["calls"], planes, strict=False))
    lines += render_counts(plan.get("control_plane_calls") or {})
    return "\n".join(lines) + "\n"


def _plane_label(mark: dict[str, str]) -> str:
    return f"{mark['plane']} plane, {mark['scope']}"


def register(app: typer.Typer) -> None:
    app.command("failover")(failover_cmd)
    app.command("failback")(failback_cmd)
    app.command("plan")(plan_cmd)
