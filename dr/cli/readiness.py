"""`drctl readiness --env ENV`: can ENV take traffic? Exit 0 ready, 1 not ready, 2 config or usage error."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dr.cli.common import ConfigOpt, Output, OutputOpt, SimulateOutageOpt, console, print_json, table

EnvOpt = Annotated[str, typer.Option("--env", "-e", help="The environment that should be able to take traffic.")]


def readiness_cmd(
    env: EnvOpt,
    config: ConfigOpt = None,
    output: OutputOpt = Output.TEXT,
    simulate_outage: SimulateOutageOpt = None,
) -> None:
    """Confirm ENV can take traffic: replicas available and replicating, lag <= RPO, its health checks
    healthy, its EKS/ECS/ASG at capacity. Exit 0 ready, 1 not ready, 2 configuration error."""
    from dr.cli.common import write_error
    from dr.errors import DrError

    try:
        results = _run(config, env, simulate_outage)
    except DrError as err:
        write_error(err)
        raise typer.Exit(err.exit_code) from None
    from dr.checks.model import all_ok

    ready = all_ok(results)
    if output is Output.JSON:
        print_json(document(env, results))
    else:
        render(env, results)
    raise typer.Exit(0 if ready else 1)


def _run(config: str | None, env: str, outage: list[str] | None) -> list[Any]:
    from dr.aws.factory import ClientFactory
    from dr.checks.readiness import readiness
    from dr.cli.common import load_topology, outage_faults
    from dr.clock import SYSTEM_CLOCK

    topology = load_topology(config)
    clients = ClientFactory(topology, run_id="status", faults=outage_faults(outage))
    return readiness(topology, clients, SYSTEM_CLOCK, env)


def document(env: str, results: list[Any]) -> dict[str, Any]:
    """The stable JSON document: env, ready, counts, and every check with its reason."""
    from dr.checks.model import all_ok
    from dr.clock import SYSTEM_CLOCK, iso

    return {"env": env, "ready": all_ok(results), "checked_at": iso(SYSTEM_CLOCK.now()),
            "passed": sum(1 for r in results if r.ok), "failed": sum(1 for r in results if not r.ok),
            "checks": [r.to_dict() for r in results]}


def render(env: str, results: list[Any]) -> None:
    from dr.checks.model import all_ok

    checks = table(f"readiness of {env}", "", "check", "resource", "reason")
    for r in results:
        checks.add_row("[green]ok[/]" if r.ok else "[red]FAIL[/]", str(r.check), r.resource, r.reason)
    out = console()
    out.print(checks)
    failed = [r for r in results if not r.ok]
    if all_ok(results):
        out.print(f"[green]{env} is ready[/] ({len(results)} checks passed)")
    elif not results:
        out.print(f"[red]{env} is NOT ready[/]: nothing to check in {env} (no databases, records or resources)")
    else:
        out.print(f"[red]{env} is NOT ready[/]: {len(failed)} of {len(results)} checks failed")


def register(app: typer.Typer) -> None:
    app.command("readiness")(readiness_cmd)
