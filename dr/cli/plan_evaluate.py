"""`drctl plan evaluate [--to ENV]`: does AWS still hold what a failover and a failback will need?

Exit 0 when every check passes, 1 when any fails, 2 for bad input (unknown environment, invalid topology).
"""

from __future__ import annotations

import sys

import typer

from dr.cli.common import Output, print_json


def evaluate_cmd(*, to: str | None, config: str | None, output: Output, simulate_outage: list[str] | None) -> None:
    """Run every plan check (dr.evaluate.CHECKS) for --to, or for every DR environment, and print them."""
    from dr.aws.factory import ClientFactory
    from dr.cli.common import load_topology, outage_faults
    from dr.cli.run_options import fail
    from dr.clock import SYSTEM_CLOCK
    from dr.errors import DrError
    from dr.evaluate import evaluate, render_text

    try:
        topology = load_topology(config)
        faults = outage_faults(simulate_outage)
        outcomes = evaluate(topology, ClientFactory(topology, run_id="plan-evaluate", faults=faults), SYSTEM_CLOCK,
                            to)
    except DrError as err:
        fail(err)
    ok = all(o.ok for o in outcomes)
    if output is Output.JSON:
        print_json({"ok": ok, "checks": [o.to_dict() for o in outcomes]})
    else:
        sys.stdout.write(render_text(outcomes))
    if not ok:
        raise typer.Exit(1)
