"""`drctl runs list`, `drctl runs show RUN_ID`, `drctl resume RUN_ID`, and the hidden `drctl run NAME`
(runs any registered runbook by name: plugin runbooks via $DRCTL_RUNBOOK_MODULES, and the engine's tests)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from dr.cli.common import ConfigOpt, Output, OutputOpt, print_json
from dr.cli.run_options import (
    AcceptDataLossOpt,
    BreakLockOpt,
    DryRunOpt,
    IncidentStartOpt,
    MetricsFileOpt,
    PushgatewayOpt,
    RunFlags,
    RunIdOpt,
    SimulateOutageOpt,
    ToOpt,
    YesOpt,
    execute,
    fail,
    finish,
)

runs_app = typer.Typer(help="List and show runs (their journals).", no_args_is_help=True)
RunIdArg = Annotated[str, typer.Argument(help="The run id (see `drctl runs list`).", show_default=False)]


def _backend(config: str | None) -> tuple[Any, Any]:
    """The journal backend named by the topology (S3 when configured), else the local state directory."""
    from dr.config import config_path, load
    from dr.engine.backends import journal_backend
    from dr.engine.env import state_dir
    from dr.engine.journal.local import LocalBackend

    path = config_path(config)
    if config is None and not path.exists():
        return LocalBackend(state_dir()), None
    from dr.aws.factory import ClientFactory

    topology = load(path)
    return journal_backend(topology, ClientFactory(topology, run_id="runs")), topology


_LOCKS: dict[str, Any] = {}


def _lock(topology: Any, history: Any) -> Any:
    """The run lock of the history's environment pair, as the run took it (to tell a live run from a dead one);
    one per pair for the whole listing."""
    from dr.engine.env import state_dir
    from dr.engine.lock.base import lock_key
    from dr.engine.lock.local import LocalLock

    key = lock_key(history.header.source, history.header.target)
    if topology is None:
        return LocalLock(state_dir(), key)
    cached = _LOCKS.get(key)
    if cached is None or cached[0] is not topology:
        from dr.aws.factory import ClientFactory
        from dr.engine.backends import run_lock

        _LOCKS[key] = cached = (topology, run_lock(topology, ClientFactory(topology, run_id="runs"), key))
    return cached[1]


def _milestones(topology: Any, header: Any) -> Any:
    """The timeline's milestone steps of a run that never finished, from its runbook and the topology (None when
    either is unknown here: the timeline then says so)."""
    if topology is None:
        return None
    from dr.aws.factory import ClientFactory
    from dr.clock import SYSTEM_CLOCK
    from dr.engine import registry
    from dr.engine.step import RunContext

    try:
        runbook = registry.get(header.runbook)()
        ctx = RunContext(topology=topology, clients=ClientFactory(topology, run_id=header.run_id), clock=SYSTEM_CLOCK,
                         run_id=header.run_id, runbook=header.runbook, source=header.source, target=header.target,
                         options=header.options)
        return runbook.milestones(ctx)
    except Exception:  # a runbook no longer registered, a topology that changed: no milestones, not a failure
        return None


def _stored_report(history: Any, backend: Any, topology: Any = None) -> dict[str, Any]:
    """The report of the run's last finish, or one rebuilt from the journal when it never finished (a dead
    run's as `interrupted`)."""
    from dr.engine.events import EventKind, RunStatus
    from dr.engine.journal.liveness import judged_status
    from dr.engine.report import ReportBuilder

    finished = [e for e in history.events if e.kind is EventKind.RUN_FINISHED]
    if history.status is not RunStatus.RUNNING and finished and "report" in finished[-1].data:
        report: dict[str, Any] = finished[-1].data["report"]
        return report
    builder = ReportBuilder(history.header, list(history.steps), journal=backend.where(history.header.run_id),
                            milestones=_milestones(topology, history.header))
    builder.seed(history)
    return builder.build(judged_status(history, _lock(topology, history)), history.events[-1].at, history.facts)


def _listed_status(history: Any, topology: Any) -> str:
    """A local run's status from its journal and lock; a Step Functions run's from its executions (its journal
    records only that it started, and each redrive)."""
    from dr.engine.journal.liveness import judged_status
    from dr.sfn.run import engine_of

    if engine_of(history):
        if topology is None:
            return "unknown (Step Functions run: pass -c CONFIG to read its execution)"
        from dr.sfn.resume import run_status_of

        return run_status_of(topology, history.header)
    return str(judged_status(history, _lock(topology, history)))


@runs_app.command("list")
def list_cmd(config: ConfigOpt = None, output: OutputOpt = Output.TEXT) -> None:
    """Every run in the journal store, oldest first, with its status."""
    from dr.clock import iso
    from dr.errors import DrError

    try:
        backend, topology = _backend(config)
        rows = []
        from dr.engine.session import load_history, state_call
        from dr.sfn.run import engine_of

        for run_id in state_call(f"list the runs in {backend.location}", backend.run_ids):
            try:
                h = load_history(backend, run_id)
            except DrError as err:
                sys.stderr.write(f"drctl: skipping {run_id}: {err}\n")
                continue
            rows.append({"run_id": run_id, "runbook": h.header.runbook, "source": h.header.source,
                         "target": h.header.target, "mode": h.header.mode, "engine": engine_of(h) or "local",
                         "status": _listed_status(h, topology),
                         "started_at": iso(h.header.started_at),
                         "finished_at": iso(h.finished_at) if h.finished_at else None,
                         "by": f"{h.header.user}@{h.header.host}"})
    except DrError as err:
        fail(err)
    rows.sort(key=lambda r: (r["started_at"], r["run_id"]))
    if output is Output.JSON:
        print_json({"journal": backend.location, "runs": rows})
        return
    for r in rows:
        engine = "" if r["engine"] == "local" else f" ({r['engine']})"
        sys.stdout.write(f"{r['run_id']}  {r['runbook']} {r['source']}->{r['target']} {r['mode']}{engine}  "
                         f"{r['status']}  started {r['started_at']} by {r['by']}\n")
    if not rows:
        sys.stdout.write(f"no runs in {backend.location}\n")


@runs_app.command("show")
def show_cmd(run_id: RunIdArg, config: ConfigOpt = None, output: OutputOpt = Output.TEXT,
             events: Annotated[bool, typer.Option("--events", help="Print the raw journal events.")] = False
             ) -> None:
    """A run's report (as far as it got), or with --events its journal, one event per line."""
    import json

    from dr.engine.report_text import render_text
    from dr.engine.session import load_history
    from dr.errors import DrError

    try:
        backend, topology = _backend(config)
        history = load_history(backend, run_id)
    except DrError as err:
        fail(err)
    from dr.sfn.run import attach, engine_of

    if engine_of(history) and not events:  # executed by Step Functions: follow the execution (exits)
        attach(history.header, config=config or history.header.topology_path, output=output)
    if events:
        for event in history.events:
            sys.stdout.write(json.dumps(event.to_record(), default=str) + "\n")
        return
    report = _stored_report(history, backend, topology)
    if output is Output.JSON:
        print_json(report)
    else:
        sys.stdout.write(render_text(report) + "\n")


def resume_cmd(run_id: RunIdArg, *, config: ConfigOpt = None, output: OutputOpt = Output.TEXT, yes: YesOpt = False,
               break_lock: BreakLockOpt = False, pushgateway: PushgatewayOpt = None,
               metrics_file: MetricsFileOpt = None) -> None:
    """Continue an interrupted or failed run from its journal: settled steps are kept, the rest re-checked. A run
    executed by Step Functions is redriven from its unsuccessful state (RedriveExecution) and followed."""
    from dr.cli.run_options import check_options
    from dr.clock import SYSTEM_CLOCK
    from dr.engine.events import RunStatus
    from dr.engine.session import load_history
    from dr.errors import DrError
    from dr.sfn.run import engine_of

    flags = RunFlags(yes=yes, break_lock=break_lock, pushgateway=pushgateway, metrics_file=metrics_file)
    try:
        check_options(flags, SYSTEM_CLOCK.now())
        backend, _ = _backend(config)
        history = load_history(backend, run_id)
        if engine_of(history):  # executed by Step Functions: redrive its execution and follow it (exits)
            from dr.sfn.resume import resume

            resume(history, config=config, output=output, flags=flags)
        if history.status in (RunStatus.SUCCEEDED, RunStatus.ALREADY_DONE):
            sys.stderr.write(f"run {run_id} already finished ({history.status}); nothing to resume\n")
            _print(_stored_report(history, backend), output)
            raise typer.Exit(0)
        outcome = _resume(history, config, flags)
    except DrError as err:
        fail(err)
    finish(outcome, output, flags)


def _print(report: dict[str, Any], output: Output) -> None:
    from dr.engine.report_text import render_text

    if output is Output.JSON:
        print_json(report)
    else:
        sys.stdout.write(render_text(report) + "\n")


def _resume(history: Any, config: str | None, flags: RunFlags) -> Any:
    from dr.cli.run_options import confirm, make_clients, make_services, run_session
    from dr.config import load
    from dr.engine import registry
    from dr.engine.session import RunSession, check_topology_unchanged
    from dr.engine.step import RunContext

    h = history.header
    path = Path(config) if config else Path(h.topology_path)
    check_topology_unchanged(h, path)
    topology = load(path)
    cls = registry.get(h.runbook)
    from dr.clock import SYSTEM_CLOCK

    ctx = RunContext(topology=topology, clients=make_clients(topology, h.run_id, h.options.simulate_outage),
                     clock=SYSTEM_CLOCK, run_id=h.run_id, runbook=h.runbook, source=h.source, target=h.target,
                     options=h.options)
    flags.dry_run = h.options.dry_run
    session = RunSession(cls(), ctx, h, make_services(ctx, flags))
    confirm(session, flags)
    return run_session(session, flags, resume=history)


def run_cmd(
    runbook: Annotated[str, typer.Argument(help="A registered runbook name.")],
    *,
    to: ToOpt,
    source: Annotated[str | None, typer.Option("--from", help="Source environment (default: derived).")] = None,
    config: ConfigOpt = None, output: OutputOpt = Output.TEXT, dry_run: DryRunOpt = False, yes: YesOpt = False,
    run_id: RunIdOpt = None, incident_start: IncidentStartOpt = None, accept_data_loss: AcceptDataLossOpt = False,
    simulate_outage: SimulateOutageOpt = None, break_lock: BreakLockOpt = False,
    pushgateway: PushgatewayOpt = None, metrics_file: MetricsFileOpt = None,
) -> NoReturn:
    """Run any registered runbook by name (plugins and tests; failover/failback/drill have their own commands)."""
    flags = RunFlags(dry_run=dry_run, yes=yes, run_id=run_id, incident_start=incident_start,
                     accept_data_loss=accept_data_loss, simulate_outage=list(simulate_outage or []),
                     break_lock=break_lock, pushgateway=pushgateway, metrics_file=metrics_file)
    execute(runbook, config=config, output=output, target=to, source=source, flags=flags)


def register(app: typer.Typer) -> None:
    app.add_typer(runs_app, name="runs")
    app.command("resume")(resume_cmd)
    app.command("run", hidden=True)(run_cmd)
