"""`drctl status`: per database the role of each member, its writers, replication and lag; per record the side
it serves; per health check its status. Read-only; exit 0, 1 when a database has more than one writable copy
(SPLIT BRAIN RISK), 2 on a configuration error."""

from __future__ import annotations

from typing import Any

import typer

from dr.cli.common import ConfigOpt, Output, OutputOpt, SimulateOutageOpt, console, print_json, table


def status_cmd(
    config: ConfigOpt = None,
    output: OutputOpt = Output.TEXT,
    simulate_outage: SimulateOutageOpt = None,
) -> None:
    """Show where everything stands: database roles and writers, replication and lag, DNS sides, health checks.
    Exit 1 when a database has more than one writable copy (SPLIT BRAIN RISK)."""
    from dr.cli.common import write_error
    from dr.errors import DrError

    try:
        report = _run(config, simulate_outage)
    except DrError as err:
        write_error(err)
        raise typer.Exit(err.exit_code) from None
    if output is Output.JSON:
        from dr.clock import SYSTEM_CLOCK, iso

        print_json({"checked_at": iso(SYSTEM_CLOCK.now()), **report.to_dict()})
    else:
        render(report)
    if report.split_brain or report.dormant:
        raise typer.Exit(1)


def _run(config: str | None, outage: list[str] | None) -> Any:
    from dr.aws.factory import ClientFactory
    from dr.checks.status import status
    from dr.cli.common import load_topology, outage_faults
    from dr.clock import SYSTEM_CLOCK

    topology = load_topology(config)
    clients = ClientFactory(topology, run_id="status", faults=outage_faults(outage))
    return status(topology, clients, SYSTEM_CLOCK)


def render(report: Any) -> None:
    out = console()
    dbs = table("databases", "database", "member", "role, state", "writes", "replication", "lag", "RPO")
    for d in report.databases:
        lag = "-" if d.lag is None or d.lag.seconds is None else f"{d.lag.seconds:.0f} s"
        rpo = "[green]ok[/]" if d.rpo_ok else f"[red]{d.rpo_reason}[/]"
        replication = d.replication if d.replication == "replicating" else f"[yellow]{d.replication}[/]"
        for i, m in enumerate(d.members):
            first = i == 0
            dbs.add_row(f"{d.name} ({d.engine})" if first else "", f"{m.id} ({m.env}/{m.region})", _member(m),
                        _writes(d, m), replication if first else "", lag if first else "", rpo if first else "",
                        end_section=i == len(d.members) - 1)
    out.print(dbs)
    _split_brain(out, report)
    records = table("DNS records", "record", "strategy", "serves", "answer")
    for r in report.records:
        serves = r.side or ("[red]unknown[/]" if r.error else "[yellow]no side[/]")
        records.add_row(r.name, r.strategy, serves, r.error or (r.answer.detail if r.answer else ""))
    out.print(records)
    checks = table("health checks", "health check", "side", "records", "status")
    for h in report.health_checks:
        state = {True: "[green]healthy[/]", False: "[red]unhealthy[/]", None: "[yellow]unknown[/]"}[h.healthy]
        detail = h.reason.split(": ", 1)[-1]  # the reason without "health check <id> healthy"
        checks.add_row(h.id, h.side, ", ".join(h.records), f"{state}: {detail}")
    out.print(checks)


def _writes(d: Any, m: Any) -> str:
    """Whether this member takes writes: the writer, a stale writer, or not at all."""
    if not any(w.id == m.id and w.region == m.region for w in d.writers):
        return "-"
    if d.writer is not None and (d.writer.id, d.writer.region) == (m.id, m.region):
        return f"[green]writer[/] (generation {d.writer.generation})"
    return "[red]STALE writer[/]" if d.writer is not None else "[red]writer?[/] (none tagged newest)"


def _split_brain(out: Any, report: Any) -> None:
    """One paragraph per database with more than one writable copy, saying what to do."""
    for d in report.split_brain:
        copies = ", ".join(f"{w.id} ({w.env}/{w.region})" for w in d.writers)
        out.print(f"[bold red]SPLIT BRAIN RISK[/]: {d.name} has {len(d.writers)} writable copies: {copies}.")
        if d.writer is not None:
            stale = ", ".join(f"{s.id} ({s.region})" for s in d.stale)
            fence = " and ".join(f"`drctl fence --env {env}`" for env in d.fence_envs)
            out.print(f"  current writer: {d.writer}; stale: {stale}. Writes that land on a stale copy diverge "
                      f"from the writer: fence it now with {fence}.")
        else:
            out.print("  no copy is tagged as the newest writer (drctl:generation): decide which copy holds the "
                      "writes to keep, then fence the others.")
        out.print("  See runbooks/DRSplitBrainRisk.md.")
    for d in report.dormant:
        copies = ", ".join(f"{c.id} ({c.env}/{c.region})" for c in d.dormant)
        fence = " and ".join(f"`drctl fence --env {env}`" for env in d.fence_envs)
        out.print(f"[bold red]SPLIT BRAIN IN WAITING[/]: {d.name}: {copies} stopped but not fenced; AWS starts it "
                  f"again by itself after 7 days and it takes writes beside {d.writer}. Start it, then {fence} "
                  "(or delete it). See runbooks/DRSplitBrainRisk.md.")
    unread = [d for d in report.databases if d.lineage.unread]
    if unread:
        out.print(f"[yellow]{len(unread)} database(s) have a copy that could not be read[/]: a writable copy "
                  "there would not show in the writers above.")


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
