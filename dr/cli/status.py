"""`drctl status`: per database the role of each member, replication and lag; per record the side it
serves; per health check its status. Read-only; exit 0 (2 on a configuration error)."""

from __future__ import annotations

from typing import Any

import typer

from dr.cli.common import ConfigOpt, Output, OutputOpt, SimulateOutageOpt, console, print_json


def status_cmd(
    config: ConfigOpt = None,
    output: OutputOpt = Output.TEXT,
    simulate_outage: SimulateOutageOpt = None,
) -> None:
    """Show where everything stands: database roles, replication and lag, DNS sides, health checks."""
    from dr.errors import DrError

    try:
        report = _run(config, simulate_outage)
    except DrError as err:
        console(stderr=True).print(f"[red]drctl: {err}[/]")
        for finding in getattr(err, "findings", []):
            console(stderr=True).print(f"  {finding}")
        raise typer.Exit(err.exit_code) from None
    if output is Output.JSON:
        from dr.clock import SYSTEM_CLOCK, iso

        print_json({"checked_at": iso(SYSTEM_CLOCK.now()), **report.to_dict()})
    else:
        render(report)


def _run(config: str | None, outage: list[str] | None) -> Any:
    from dr.aws.factory import ClientFactory
    from dr.checks.status import status
    from dr.cli.common import load_topology, outage_faults
    from dr.clock import SYSTEM_CLOCK

    topology = load_topology(config)
    clients = ClientFactory(topology, run_id="status", faults=outage_faults(outage))
    return status(topology, clients, SYSTEM_CLOCK)


def render(report: Any) -> None:
    from rich.table import Table

    out = console()
    dbs = Table(title="databases", title_justify="left")
    for column in ("database", "member", "role, state", "replication", "lag", "RPO"):
        dbs.add_column(column)
    for d in report.databases:
        lag = "-" if d.lag is None or d.lag.seconds is None else f"{d.lag.seconds:.0f} s"
        rpo = "[green]ok[/]" if d.rpo_ok else f"[red]{d.rpo_reason}[/]"
        for i, m in enumerate(d.members):
            first = i == 0
            dbs.add_row(f"{d.name} ({d.engine})" if first else "", f"{m.id} ({m.env}/{m.region})", _member(m),
                        d.replication if first else "", lag if first else "", rpo if first else "",
                        end_section=i == len(d.members) - 1)
    out.print(dbs)
    records = Table(title="DNS records", title_justify="left")
    for column in ("record", "strategy", "serves", "answer"):
        records.add_column(column)
    for r in report.records:
        serves = r.side or ("[red]unknown[/]" if r.error else "[yellow]no side[/]")
        records.add_row(r.name, r.strategy, serves, r.error or (r.answer.detail if r.answer else ""))
    out.print(records)
    checks = Table(title="health checks", title_justify="left")
    for column in ("health check", "side", "records", "status"):
        checks.add_column(column)
    for h in report.health_checks:
        state = {True: "[green]healthy[/]", False: "[red]unhealthy[/]", None: "[yellow]unknown[/]"}[h.healthy]
        detail = h.reason.split(": ", 1)[-1]  # the reason without "health check <id> healthy"
        checks.add_row(h.id, h.side, ", ".join(h.records), f"{state}: {detail}")
    out.print(checks)


def _member(m: Any) -> str:
    if m.state == "unreachable":
        return "[red]unreachable[/]"
    if m.error:
        return f"[red]{m.error}[/]"
    if m.state == "missing":
        return "[red]missing[/]"
    colour = "green" if m.state == "available" else "yellow"
    return f"{m.role}, [{colour}]{m.state}[/]"


def register(app: typer.Typer) -> None:
    app.command("status")(status_cmd)
