"""`drctl export arc-plan --to ENV`: the topology's failover as an AWS ARC Region switch `CreatePlan` document."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from dr.cli.common import ConfigOpt, print_json

export_app = typer.Typer(help="Export the topology's plan for other runners.", no_args_is_help=True)


@export_app.command("arc-plan")
def arc_plan_cmd(
    to: Annotated[str, typer.Option("--to", metavar="ENV", help="The environment the plan activates.")],
    config: ConfigOpt = None,
) -> None:
    """Print the CreatePlan document (JSON) of an ARC Region switch plan moving to ENV, checked against botocore's
    `arc-region-switch` model; what the plan cannot express goes to stderr. Exit 2 when the document fails the
    model (or the topology/options are wrong)."""
    from dr.arc.plan import build
    from dr.arc.validate import model_problems
    from dr.aws.factory import ClientFactory
    from dr.cli.common import load_topology
    from dr.cli.run_options import fail, resolve_pair
    from dr.clock import SYSTEM_CLOCK
    from dr.engine.step import RunContext, RunOptions
    from dr.errors import DrError, UsageError

    try:
        topology = load_topology(config)
        source = resolve_pair(topology, None, to)
        ctx = RunContext(topology=topology, clients=ClientFactory(topology, run_id="export"), clock=SYSTEM_CLOCK,
                         run_id="export", runbook="failover", source=source, target=to,
                         options=RunOptions(dry_run=True))
        plan = build(ctx)
        problems = model_problems("arc-region-switch", "CreatePlan", plan.document)
        if problems:
            raise UsageError("the ARC Region switch plan does not fit AWS's CreatePlan model: " + "; ".join(problems))
    except DrError as err:
        fail(err)
    for line in plan.not_covered:
        sys.stderr.write(f"not in the plan: {line}\n")
    print_json(plan.document)


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
