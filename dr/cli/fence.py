"""`drctl fence --env ENV`: fence every stale writer of ENV (after an unplanned failover, once its region answers)."""

from __future__ import annotations

from typing import Annotated

import typer

from dr.cli.common import ConfigOpt, Output, OutputOpt
from dr.cli.run_options import (
    BreakLockOpt,
    DryRunOpt,
    MetricsFileOpt,
    PushgatewayOpt,
    RunFlags,
    RunIdOpt,
    SimulateOutageOpt,
    YesOpt,
)

EnvOpt = Annotated[str, typer.Option("--env", metavar="ENV", help="The environment whose stale writers are fenced.")]


def fence_cmd(
    *, env: EnvOpt, config: ConfigOpt = None, output: OutputOpt = Output.TEXT, dry_run: DryRunOpt = False,
    yes: YesOpt = False, run_id: RunIdOpt = None, simulate_outage: SimulateOutageOpt = None,
    break_lock: BreakLockOpt = False, pushgateway: PushgatewayOpt = None, metrics_file: MetricsFileOpt = None,
) -> None:
    """Fence every stale writer in ENV's region: each database copy there that is standalone and writable but is
    not the current writer (an unplanned failover left it behind) is tagged, renamed away from its endpoint
    (AWS deletes the old DNS name and reboots it) and stopped where AWS allows. Never touches the current writer;
    refuses when the writer cannot be told. Idempotent."""
    from dr.cli.common import load_topology
    from dr.cli.run_options import execute, fail
    from dr.errors import DrError

    try:
        partner = partner_of(load_topology(config), env)
    except DrError as err:
        fail(err)
    flags = RunFlags(dry_run=dry_run, yes=yes, run_id=run_id, simulate_outage=list(simulate_outage or []),
                     break_lock=break_lock, pushgateway=pushgateway, metrics_file=metrics_file)
    execute("fence", config=config, output=output, target=env, source=partner, flags=flags)


def partner_of(topology: object, env: str) -> str:
    """The environment ENV is paired with: its `dr_for`, or the one whose DR side it is."""
    from dr.errors import UsageError

    environments = getattr(topology, "environments", {})
    if env not in environments:
        raise UsageError(f"unknown environment {env!r}; the topology has: {', '.join(environments)}")
    if environments[env].dr_for:
        return str(environments[env].dr_for)
    for name, spec in environments.items():
        if spec.dr_for == env:
            return str(name)
    raise UsageError(f"{env!r} has no DR pair (no dr_for links it): nothing replicates to or from it")


def register(app: typer.Typer) -> None:
    app.command("fence")(fence_cmd)
