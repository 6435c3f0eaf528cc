"""Running a drill end to end: the engine run (clone or dry-run mode) or the real failover + failback
(full mode), then the cleanup sweep, the drill report, saving, metrics. The CLI is a thin shell on this."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dr.drill.report import DrillFacts, build, build_full

if TYPE_CHECKING:
    from dr.cli.run_options import RunFlags
    from dr.engine.session import RunOutcome, RunSession
    from dr.engine.step import RunContext

EXIT_CODES = {"succeeded": 0, "already-done": 0, "failed": 1, "refused": 3, "interrupted": 130}


@dataclass
class DrillResult:
    report: dict[str, Any]
    markdown: str

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(str(self.report["status"]), 1)


def refuse_active_target(ctx: RunContext) -> None:
    """GateRefused (exit 3) when the drill's target is already the active side: its copy of a database is the
    current writer (dr.aws.lineage: writable, newest generation), so it holds production's writes. A clone drill
    would clone production's writers and a full drill would move production; nothing is created. A target whose
    copies cannot be read is not refused here: the drill's prechecks report it."""
    from dr.errors import GateRefused
    from runbooks.steps._common import current_writers, moves, region

    todo = moves(ctx)
    try:
        writers = current_writers(ctx, todo) if todo else []
    except Exception:  # unreadable: judged by the drill's own prechecks
        return
    active = [m for m, is_writer in zip(todo, writers, strict=True) if is_writer]
    if not active:
        return
    which = ", ".join(f"{m.db.name} (writer {m.new.id} in {region(ctx, m.new)})" for m in active)
    raise GateRefused(
        f"{ctx.target} is already the active side: {which} take production's writes there. A drill to it would "
        f"clone or move production's writers; nothing was created. Drills rehearse a move to the standby side: "
        f"see `drctl status`, and drill --to {ctx.target} again after `drctl failback --to {ctx.source}`.")


def drill_facts(session: RunSession, mode: str) -> DrillFacts:
    """DNS coverage and the clones of this drill, from the runbook's own view of the topology."""
    from runbooks.drill import clone_plans
    from runbooks.steps.drill_dns import drill_records, not_exercised

    ctx = session.ctx
    facts = DrillFacts(mode=mode, dns_not_exercised=not_exercised(ctx))
    if mode == "clone":
        facts.dns_exercised = [r.fqdn for r in drill_records(ctx)]
        facts.clones = [{"database": p.database.name, "id": p.ident, "kind": str(p.kind), "env": p.env,
                         "region": p.region} for p in clone_plans(ctx)]
    return facts


def sweep(session: RunSession, when: str) -> dict[str, Any]:
    """Delete whatever this drill run left (tagged clones, drill DNS records), however the run ended.

    A first SIGINT/SIGTERM during the sweep is absorbed (cleanup matters more); a second one stops it.
    """
    from dr.drill.leftovers import cleanup
    from dr.engine.interrupts import interrupt_guard
    from runbooks.drill import clone_plans

    ctx = session.ctx
    places = sorted({(c.env, c.region) for c in clone_plans(ctx)})
    with interrupt_guard(threading.Event()):
        result = cleanup(ctx.topology, ctx.clients, ctx.run_id, places=places, sleep=ctx.clock.sleep)
    return {"when": when, **result.to_dict()}


def finish_run(session: RunSession, outcome: RunOutcome, mode: str) -> DrillResult:
    """The drill report of a finished clone or dry-run drill (after the cleanup sweep in clone mode)."""
    from runbooks.drill import RTO_GROUPS

    facts = drill_facts(session, mode)
    if mode == "clone":
        status = str(outcome.status)
        when = "in run" if status in ("succeeded", "already-done") else f"after the run {status}"
        facts.cleanup = sweep(session, when)
    report = build(outcome.report, session.ctx.facts, facts, RTO_GROUPS)
    return _saved(report)


def _saved(report: dict[str, Any]) -> DrillResult:
    from dr.drill.history import save
    from dr.drill.markdown import render

    markdown = render(report)
    json_path, md_path = save(report, markdown)
    report["report_files"] = {"json": str(json_path), "markdown": str(md_path)}
    save(report, markdown)
    return DrillResult(report, markdown)


RunFn = Callable[[str, str, "RunFlags"], "RunOutcome"]
"""run(runbook, target, flags): the CLI's prepare + run of one runbook; returns its outcome."""


def run_full(run: RunFn, *, target: str, source: str, run_id: str, flags: RunFlags,
             export: Callable[[dict[str, Any]], None]) -> DrillResult:
    """A real failover to `target`, then (if it worked) a failback to `source`; each exported as a run."""
    from dataclasses import replace

    fo_flags = replace(flags, run_id=f"{run_id}-failover", yes=True, dry_run=False, extra={})
    failover = run("failover", target, fo_flags)
    export(failover.report)
    failback = None
    if str(failover.status) in ("succeeded", "already-done"):
        fb_flags = replace(flags, run_id=f"{run_id}-failback", yes=True, dry_run=False, simulate_outage=[],
                           incident_start=None, accept_data_loss=False, extra={"phase": "all"})
        failback = run("failback", source, fb_flags)
        export(failback.report)
    facts = DrillFacts(mode="full")
    report = build_full(failover.report, failback.report if failback else None, facts, run_id)
    return _saved(report)
