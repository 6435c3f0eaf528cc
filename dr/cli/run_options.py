"""The options every mutating command shares, and `execute()`: the one way a command runs a runbook.

`execute` loads the topology, resolves source and target, confirms with the operator, takes the lock,
runs with journal, progress and report, exports run metrics and exits with the codes of docs/reference.md:
0 done or already done, 1 a step failed, 2 usage/configuration error (also: no TTY and no --yes),
3 refused (gate, lock held, confirmation declined), 130 interrupted.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from dr.cli.common import Output
from dr.cli.common import SimulateOutageOpt as SimulateOutageOpt  # noqa: PLC0414 - a run command's options in one import
from dr.engine.env import PUSHGATEWAY_ENV_VAR

if TYPE_CHECKING:
    from datetime import datetime

    from dr.engine.runbook import Runbook
    from dr.engine.session import RunOutcome, RunSession

ToOpt = Annotated[str, typer.Option("--to", metavar="ENV", help="The environment to move to.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Plan and read-only checks only; nothing is changed.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask; required without a terminal.")]
RunIdOpt = Annotated[str | None, typer.Option("--run-id", help="Run id (default: generated).", show_default=False)]
IncidentStartOpt = Annotated[str | None, typer.Option(
    "--incident-start", metavar="ISO8601",
    help="Start the RTO clock at the incident, not at the command: a time with its zone (2026-12-05T03:12:00Z), "
         "not in the future, at most 7 days ago.")]
AcceptDataLossOpt = Annotated[bool, typer.Option(
    "--accept-data-loss", help="Pass the RPO gate knowingly (unplanned failover with lag above the RPO).")]
PlannedOpt = Annotated[bool | None, typer.Option(
    "--planned/--unplanned", show_default=False,
    help="Force the kind of move. Default: planned when the source region's RDS answers (fence the source, wait "
         "for catch-up, promote: no write lost); --unplanned promotes past the RPO gate without waiting; --planned "
         "refuses when the source does not answer.")]
BreakLockOpt = Annotated[bool, typer.Option(
    "--break-lock", help="Take the run lock from another run (asks first; journaled). Only if that run is dead.")]
PushgatewayOpt = Annotated[str | None, typer.Option(
    "--pushgateway", metavar="URL", envvar=PUSHGATEWAY_ENV_VAR, help="Push run metrics to this Pushgateway.")]
MetricsFileOpt = Annotated[str | None, typer.Option(
    "--metrics-file", metavar="PATH", help="Write run metrics to a node-exporter textfile.")]

# The same flags where a command gives them another meaning (or makes --to optional), kept beside the shared ones.
PlanToOpt = Annotated[str | None, typer.Option(
    "--to", metavar="ENV", help="The environment to move to (evaluate: default every DR environment).")]
DrillToOpt = Annotated[str | None, typer.Option(
    "--to", metavar="ENV", help="The DR environment to drill a move to.", show_default=False)]
"""Optional for typer only: the `drill` group's callback also runs before `drill history` and `drill cleanup`."""
DrillDryRunOpt = Annotated[bool, typer.Option(
    "--dry-run", help="The same as --mode dry-run: plan and read-only checks, nothing created or changed.")]
DeployDryRunOpt = Annotated[bool, typer.Option(
    "--dry-run", help="Print each definition and its diff against what is deployed; change nothing.")]
CleanupDryRunOpt = Annotated[bool, typer.Option("--dry-run", help="List the leftovers; delete nothing.")]
CleanupRunIdOpt = Annotated[str | None, typer.Option(
    "--run-id", help="Only this drill's leftovers (default: every drill's).", show_default=False)]


@dataclass
class RunFlags:
    """The shared options' values, as a command received them."""

    dry_run: bool = False
    yes: bool = False
    run_id: str | None = None
    incident_start: str | None = None
    accept_data_loss: bool = False
    simulate_outage: list[str] = field(default_factory=list)
    planned: bool | None = None
    break_lock: bool = False
    pushgateway: str | None = None
    metrics_file: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    """Runbook-specific options, journaled and passed to the steps as `ctx.options.extra`."""


def is_tty() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def fail(err: Exception) -> NoReturn:
    """An expected failure: its message on stderr, its exit code, no traceback."""
    from dr.cli.common import write_error
    from dr.errors import DrError

    write_error(err)
    raise typer.Exit(err.exit_code if isinstance(err, DrError) else 1)


def run_runbook(runbook: str | type[Runbook], *, config: str | None, target: str, source: str | None = None,
                flags: RunFlags) -> RunOutcome:
    """Prepare, confirm (TTY or --yes) and run; the outcome, without printing or exiting (for commands that
    post-process it, like drills). DrError propagates."""
    session = prepare(runbook, config=config, target=target, source=source, flags=flags)
    confirm(session, flags)
    return run_session(session, flags)


def execute(runbook: str | type[Runbook], *, config: str | None, output: Output, target: str,
            source: str | None = None, flags: RunFlags | None = None) -> NoReturn:
    """Run `runbook` (a registered name or class) from `source` (default: derived) to `target`; exits."""
    from dr.errors import DrError

    flags = flags or RunFlags()
    try:
        outcome = run_runbook(runbook, config=config, target=target, source=source, flags=flags)
    except DrError as err:
        fail(err)
    finish(outcome, output, flags)


def prepare(runbook: str | type[Runbook], *, config: str | None, target: str, source: str | None,
            flags: RunFlags) -> RunSession:
    """Everything before the run: topology, environments, run id, header, clients, context, journal, lock."""
    from dr.clock import SYSTEM_CLOCK
    from dr.config import config_path
    from dr.engine import registry
    from dr.engine.journal.base import check_run_id
    from dr.engine.session import RunSession, new_header, new_run_id
    from dr.engine.step import RunContext, RunOptions

    cls = registry.get(runbook) if isinstance(runbook, str) else runbook
    now = SYSTEM_CLOCK.now()
    incident, outage = check_options(flags, now)
    path = config_path(config)
    topology = _load(path)
    source = resolve_pair(topology, source, target)
    run_id = check_run_id(flags.run_id or new_run_id(cls.name, target, now))
    options = RunOptions(dry_run=flags.dry_run, yes=flags.yes, accept_data_loss=flags.accept_data_loss,
                         simulate_outage=frozenset(outage), planned=flags.planned, extra=dict(flags.extra))
    header = new_header(cls, topology, path, source=source, target=target, run_id=run_id, options=options,
                        now=now, incident_start=incident)
    clients = make_clients(topology, run_id, options.simulate_outage)
    ctx = RunContext(topology=topology, clients=clients, clock=SYSTEM_CLOCK, run_id=run_id, runbook=cls.name,
                     source=source, target=target, options=options)
    return RunSession(cls(), ctx, header, make_services(ctx, flags))


def _load(path: Path) -> Any:
    from dr.config import load

    return load(path)


def resolve_pair(topology: Any, source: str | None, target: str) -> str:
    """The source environment for `target`; UsageError (exit 2) naming the choices when unknown."""
    from dr.errors import UsageError

    names = ", ".join(topology.environments)
    for env in (target, source):
        if env is not None and env not in topology.environments:
            raise UsageError(f"unknown environment {env!r}; the topology has: {names}")
    if source is None:
        try:
            source = str(topology.source_of(target))
        except KeyError:
            raise UsageError(f"{target!r} is no one's DR side and has none (no dr_for links it); "
                             f"choose one of: {names}") from None
    if source == target:
        raise UsageError(f"source and target are both {target!r}")
    return source


def check_options(flags: RunFlags, now: datetime) -> tuple[datetime | None, set[str]]:
    """Every option and environment hook checked before anything runs (UsageError, exit 2): the incident start
    and the regions to fail, parsed."""
    from dr.cli import option_checks

    option_checks.environment_hooks()
    outage = option_checks.outage_regions(flags.simulate_outage)
    incident = option_checks.incident_start(flags.incident_start, now) if flags.incident_start is not None else None
    option_checks.pushgateway(flags.pushgateway)
    option_checks.metrics_file(flags.metrics_file)
    return incident, outage


def make_clients(topology: Any, run_id: str, outage: frozenset[str]) -> Any:
    from dr.aws.factory import ClientFactory
    from dr.aws.faults import Faults

    return ClientFactory(topology, run_id=run_id, faults=Faults(outage_regions=set(outage)) if outage else None)


def make_services(ctx: Any, flags: RunFlags) -> Any:
    from dr.engine.backends import journal_backend, run_lock
    from dr.engine.lock.base import lock_key
    from dr.engine.session import Services

    lock = None if flags.dry_run else run_lock(ctx.topology, ctx.clients, lock_key(ctx.source, ctx.target),
                                               ctx.clock)
    if lock is not None:  # and no Step Functions execution of the pair running (dr/sfn/pair_lock.py)
        from dr.sfn.pair_lock import guarded

        lock = guarded(lock, ctx.topology, ctx.clients, ctx.source, ctx.target)
    return Services(clock=ctx.clock, backend=journal_backend(ctx.topology, ctx.clients), lock=lock)


def confirm(session: RunSession, flags: RunFlags) -> None:
    """On a terminal, the operator reads what the run will do and types the target's name (dr.cli.confirm);
    without one, --yes is required."""
    from dr.cli.confirm import confirm_on, open_terminal, summary
    from dr.errors import UsageError

    if flags.dry_run or flags.yes:
        return
    terminal = open_terminal(stdio=is_tty())
    if terminal is None:
        raise UsageError("this command changes things and there is no terminal to confirm on: pass --yes")
    try:
        expected = session.runbook.confirmation(session.ctx) or session.ctx.target
        confirm_on(terminal, summary(session, flags.planned), expected, break_lock=flags.break_lock)
    finally:
        terminal.close()


def run_session(session: RunSession, flags: RunFlags, resume: Any = None) -> RunOutcome:
    """Run (or resume) with the progress display matching the terminal."""
    from dr.engine.progress import LiveProgress, PlainProgress

    if is_tty():
        # the report that follows on the same terminal replaces the live table (one final report on screen)
        live = LiveProgress(session.header, session.ctx.clock, session.order, transient=sys.stdout.isatty())
        session.services.observers.append(live)
        with live:
            return _start_or_resume(session, flags, resume)
    session.services.observers.append(PlainProgress(session.header, session.ctx.clock))
    return _start_or_resume(session, flags, resume)


def _start_or_resume(session: RunSession, flags: RunFlags, resume: Any) -> RunOutcome:
    if resume is None:
        return session.start(break_lock=flags.break_lock)
    return session.resume(resume, break_lock=flags.break_lock)


def finish(outcome: RunOutcome, output: Output, flags: RunFlags) -> NoReturn:
    """Export run metrics (never failing the run), print the report, exit with the run's code."""
    from dr.cli.common import print_json
    from dr.engine.report_text import render_text

    export_metrics(outcome.report, flags)
    if output is Output.JSON:
        print_json(outcome.report)
    else:
        sys.stdout.write(render_text(outcome.report) + "\n")
    raise typer.Exit(outcome.exit_code)


def export_metrics(report: dict[str, Any], flags: RunFlags) -> None:
    if not (flags.pushgateway or flags.metrics_file):
        return
    try:
        from dr.metrics.run_metrics import export_run  # type: ignore[import-not-found, unused-ignore]

        export_run(report, pushgateway=flags.pushgateway, metrics_file=flags.metrics_file)
    except Exception as err:
        sys.stderr.write(f"drctl: warning: run metrics were not exported ({type(err).__name__}: {err}); "
                         "the run itself is unaffected\n")
