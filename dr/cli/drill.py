"""`drctl drill` (dry-run | clone | full), `drctl drill cleanup`, `drctl drill history`: game days on the CLI."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from dr.cli.common import ConfigOpt, Output, OutputOpt, print_json
from dr.cli.run_options import (
    BreakLockOpt,
    CleanupDryRunOpt,
    CleanupRunIdOpt,
    DrillDryRunOpt,
    DrillToOpt,
    MetricsFileOpt,
    PushgatewayOpt,
    RunFlags,
    RunIdOpt,
    SimulateOutageOpt,
    YesOpt,
)

if TYPE_CHECKING:
    from dr.drill.runner import DrillResult
    from dr.engine.session import RunOutcome


class Mode(StrEnum):
    DRY_RUN = "dry-run"
    CLONE = "clone"
    FULL = "full"


drill_app = typer.Typer(help="Game-day drills with a report: dry-run, clone (default) or full.",
                        invoke_without_command=True)

ModeOpt = Annotated[Mode | None, typer.Option(
    "--mode", show_default="clone",
    help="dry-run: plan + read-only checks; clone: temporary copies, production untouched; "
         "full: a real failover then failback (announced game days).")]


@drill_app.callback()
def drill_cmd(
    typer_ctx: typer.Context, *, to: DrillToOpt = None, mode: ModeOpt = None, dry_run: DrillDryRunOpt = False,
    config: ConfigOpt = None, output: OutputOpt = Output.TEXT, yes: YesOpt = False, run_id: RunIdOpt = None,
    simulate_outage: SimulateOutageOpt = None, break_lock: BreakLockOpt = False,
    pushgateway: PushgatewayOpt = None, metrics_file: MetricsFileOpt = None,
) -> None:
    """Drill a move to ENV and report the achieved RTO and RPO against the targets (exit 1 when missed)."""
    if typer_ctx.invoked_subcommand is not None:
        return
    from dr.errors import DrError, UsageError

    try:
        mode = chosen_mode(mode, dry_run)
    except UsageError as err:
        _fail(err)
    flags = RunFlags(dry_run=mode is Mode.DRY_RUN, yes=yes, run_id=run_id, simulate_outage=list(simulate_outage or []),
                     break_lock=break_lock, pushgateway=pushgateway, metrics_file=metrics_file,
                     accept_data_loss=mode is Mode.DRY_RUN, extra={"mode": str(mode)})
    try:
        if not to:
            raise UsageError("drctl drill needs --to ENV (the DR environment to drill a move to)")
        result = _full(config, to, flags) if mode is Mode.FULL else _engine_drill(config, to, flags, mode)
    except DrError as err:
        _fail(err)
    _emit(result, output, flags)


def chosen_mode(mode: Mode | None, dry_run: bool) -> Mode:
    """--dry-run is --mode dry-run (as on every mutating command); with another --mode it is a usage error."""
    from dr.errors import UsageError

    if dry_run and mode not in (None, Mode.DRY_RUN):
        raise UsageError(f"--dry-run is --mode dry-run and contradicts --mode {mode}: pass one of them")
    return Mode.DRY_RUN if dry_run else (mode or Mode.CLONE)


def _engine_drill(config: str | None, to: str, flags: RunFlags, mode: Mode) -> DrillResult:
    from dr.cli import run_options
    from dr.drill.runner import finish_run, refuse_active_target

    session = run_options.prepare("drill", config=config, target=to, source=None, flags=flags)
    refuse_active_target(session.ctx)
    # A clone drill leaves production alone but creates (billable) AWS resources: the rule of every mutating
    # command applies — type the target's name on a terminal, pass --yes without one. Dry-run asks nothing.
    run_options.confirm(session, flags)
    outcome = run_options.run_session(session, flags, None)
    return finish_run(session, outcome, str(mode))


def _full(config: str | None, to: str, flags: RunFlags) -> DrillResult:
    from dr.cli import run_options
    from dr.clock import SYSTEM_CLOCK
    from dr.config import config_path, load
    from dr.drill.runner import refuse_active_target, run_full
    from dr.engine.session import new_run_id

    run_options.check_options(flags, SYSTEM_CLOCK.now())  # before the confirmation, not after the failover half
    topology = load(config_path(config))
    source = run_options.resolve_pair(topology, None, to)
    drill_id = flags.run_id or new_run_id("drill", to, SYSTEM_CLOCK.now())
    refuse_active_target(_read_only_context(topology, source, to, drill_id, flags))
    _confirm_full(to, source, flags)

    def run(runbook: str, target: str, run_flags: RunFlags) -> RunOutcome:
        session = run_options.prepare(runbook, config=config, target=target, source=None, flags=run_flags)
        return run_options.run_session(session, run_flags, None)

    return run_full(run, target=to, source=source, run_id=drill_id, flags=flags,
                    export=lambda report: run_options.export_metrics(report, flags))


def _read_only_context(topology: Any, source: str, target: str, run_id: str, flags: RunFlags) -> Any:
    """A context for reads before a full drill starts (its failover and failback make their own)."""
    from dr.cli.option_checks import outage_regions
    from dr.cli.run_options import make_clients
    from dr.clock import SYSTEM_CLOCK
    from dr.engine.step import RunContext, RunOptions

    outage = frozenset(outage_regions(flags.simulate_outage))
    return RunContext(topology=topology, clients=make_clients(topology, run_id, outage), clock=SYSTEM_CLOCK,
                      run_id=run_id, runbook="drill", source=source, target=target,
                      options=RunOptions(dry_run=True, simulate_outage=outage))


def _confirm_full(target: str, source: str, flags: RunFlags) -> None:
    """A full drill moves production: type the target's name on the terminal; without one, --yes is required."""
    from dr.cli.confirm import confirm_on, open_terminal
    from dr.cli.run_options import is_tty
    from dr.errors import UsageError

    if flags.yes:
        return
    terminal = open_terminal(stdio=is_tty())
    if terminal is None:
        raise UsageError("a full drill fails production over for real and there is no terminal to confirm on: "
                         "pass --yes")
    lines = [f"FULL DRILL: a real failover {source} -> {target}, then a failback to {source}. "
             f"`drctl plan failover --to {target}` lists every step."]
    try:
        confirm_on(terminal, lines, target, break_lock=flags.break_lock)
    finally:
        terminal.close()


def _emit(result: DrillResult, output: Output, flags: RunFlags) -> NoReturn:
    from dr.cli.run_options import export_metrics

    export_metrics(result.report, flags)
    if output is Output.JSON:
        print_json(result.report)
    else:
        sys.stdout.write(result.markdown)
        files = result.report.get("report_files", {})
        if files:
            sys.stderr.write(f"drill report saved: {files.get('markdown')} and {files.get('json')}\n")
    raise typer.Exit(result.exit_code)


def _fail(err: Exception) -> NoReturn:
    from dr.cli.run_options import fail

    fail(err)


@drill_app.command("cleanup")
def cleanup_cmd(
    run_id: CleanupRunIdOpt = None, config: ConfigOpt = None, output: OutputOpt = Output.TEXT,
    dry_run: CleanupDryRunOpt = False, simulate_outage: SimulateOutageOpt = None,
) -> None:
    """Find what drills left (tagged drctl:drill=true, drill_name records) in every account/region; delete it."""
    from dr.aws.factory import ClientFactory
    from dr.cli.common import load_topology, outage_faults
    from dr.drill.leftovers import delete_leftovers, find_leftovers
    from dr.errors import DrError

    try:
        faults = outage_faults(simulate_outage)
        topology = load_topology(config)
    except DrError as err:
        _fail(err)
    clients = ClientFactory(topology, run_id=run_id or "drill-cleanup", faults=faults)
    found, errors = find_leftovers(topology, clients, run_id)
    document: dict[str, Any] = {"run_id": run_id, "found": [f.to_dict() for f in found], "dry_run": dry_run}
    if not dry_run:
        result = delete_leftovers(clients, found)
        document["deleted"] = [d.to_dict() for d in result.deleted]
        errors += result.errors
    document["errors"] = errors
    _print_cleanup(document, output)
    raise typer.Exit(1 if errors else 0)


def _print_cleanup(document: dict[str, Any], output: Output) -> None:
    if output is Output.JSON:
        print_json(document)
        return
    verb = "would delete" if document["dry_run"] else "deleted"
    items = document["found"] if document["dry_run"] else document.get("deleted", [])
    for item in items:
        sys.stdout.write(f"{verb} {item['kind']} {item['id']} ({item['env']}/{item['region']}"
                         f"{', run ' + item['run_id'] if item.get('run_id') else ''})\n")
    if not document["found"]:
        sys.stdout.write("no drill leftovers found\n")
    for error in document["errors"]:
        sys.stderr.write(f"drctl: cleanup: {error}\n")


@drill_app.command("history")
def history_cmd(output: OutputOpt = Output.TEXT) -> None:
    """Past drills (from their saved reports): achieved RTO and RPO against the targets, and the trend."""
    from dr.drill.history import load_all, render_table, rows, trend

    reports, unreadable = load_all()
    history = rows(reports)
    if output is Output.JSON:
        print_json({"drills": [r.to_dict() for r in history], "trend": trend(history), "unreadable": unreadable})
    else:
        sys.stdout.write(render_table(history))
        for path in unreadable:
            sys.stderr.write(f"drctl: skipped unreadable drill report {path}\n")


def register(app: typer.Typer) -> None:
    app.add_typer(drill_app, name="drill")
