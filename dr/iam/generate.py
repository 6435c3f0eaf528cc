"""Collect the Grants of a runbook's steps (and of the exporter, the engine's journal and lock) for each move the
topology allows, then keep those of one environment: what its role must be allowed."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from enum import StrEnum

from dr.config.model import Topology
from dr.engine.runbook import Parallel, Phase, Runbook
from dr.engine.step import RunContext, RunOptions, Step
from dr.iam import needs
from dr.iam.grants import Grant, declared


class Scope(StrEnum):
    FAILOVER = "failover"
    FAILBACK = "failback"
    DRILL = "drill"
    EXPORTER = "exporter"
    ALL = "all"


def pairs(topology: Topology) -> list[tuple[str, str]]:
    """(protected env, DR env) of every DR relationship (`dr_for`)."""
    return sorted((env.dr_for, name) for name, env in topology.environments.items() if env.dr_for)


def steps_of(phases: Iterable[Phase]) -> Iterator[Step]:
    for phase in phases:
        if isinstance(phase, Parallel):
            yield from phase.steps
        else:
            yield phase


def _context(topology: Topology, runbook: str, source: str, target: str, **extra: object) -> RunContext:
    from dr.aws.factory import ClientFactory  # makes no call until a client is asked for
    from dr.clock import SYSTEM_CLOCK

    options = RunOptions(dry_run=extra.get("mode") == "dry-run", extra=dict(extra))
    return RunContext(topology=topology, clients=ClientFactory(topology, run_id="iam"), clock=SYSTEM_CLOCK,
                      run_id="iam", runbook=runbook, source=source, target=target, options=options)


def _runbook_grants(runbook: Runbook, ctx: RunContext, *, reads_only: bool = False) -> list[Grant]:
    out: list[Grant] = []
    for step in steps_of(runbook.phases(ctx)):
        if reads_only and step.mutating:
            continue  # a dry run never acts: only the read-only steps call AWS
        out += declared(step, ctx)
    return out


def runbook_grants(topology: Topology, scope: Scope) -> list[Grant]:
    """Every Grant `scope` needs, for every DR pair of the topology, all environments together."""
    from runbooks.drill import Drill
    from runbooks.failback import Failback
    from runbooks.failover import Failover
    from runbooks.fence import Fence

    out: list[Grant] = []
    if scope in (Scope.EXPORTER, Scope.ALL):
        from dr.metrics._permissions import exporter_permissions

        out += exporter_permissions(topology)
    for protected, dr_env in pairs(topology):
        if scope in (Scope.FAILOVER, Scope.ALL):
            out += _runbook_grants(Failover(), _context(topology, "failover", protected, dr_env))
            # `drctl fence --env <protected>` after an unplanned failover is part of the failover's recovery
            out += _runbook_grants(Fence(), _context(topology, "fence", dr_env, protected))
        if scope in (Scope.FAILBACK, Scope.ALL):
            out += _runbook_grants(Failback(), _context(topology, "failback", dr_env, protected, phase="all"))
        if scope in (Scope.DRILL, Scope.ALL):
            out += _runbook_grants(Drill(), _context(topology, "drill", protected, dr_env, mode="clone"))
            out += _runbook_grants(Drill(), _context(topology, "drill", protected, dr_env, mode="dry-run"),
                                   reads_only=True)
            out += _drill_cleanup(topology)
    if scope is not Scope.EXPORTER:
        out += needs.journal(topology) + needs.run_lock_reads(topology)
    return out


def _drill_cleanup(topology: Topology) -> list[Grant]:
    """`drctl drill cleanup` (and the sweep after every drill) looks for drill-tagged databases wherever a drill
    may have created one (dr.drill.leftovers.locations)."""
    from dr.drill.leftovers import locations

    out: list[Grant] = []
    for env, region in locations(topology):
        out += needs.rds_reads(topology, [(db, loc) for db in topology.databases for loc in (db.primary, db.replica)
                                          if loc.env == env and topology.region_of(loc) == region])
    return out


def grants_for(topology: Topology, env: str, scope: Scope) -> list[Grant]:
    """The Grants of `env`'s role: calls made with `env`'s credentials; with the right to simulate its own
    policies (plan evaluation's `permissions` check, dr/iam/simulate.py) when a runbook needs the role. The
    `exporter` scope declares that right itself, for the roles plan evaluation simulates
    (dr/evaluate/_permissions.py)."""
    out = [g for g in runbook_grants(topology, scope) if g.env == env]
    role = topology.environments[env].role_arn
    if out and role and scope is not Scope.EXPORTER:
        out.append(needs.simulate_own(env, role))
    return out
