"""`drctl failover --engine stepfunctions` and `drctl runs show` of such a run: start the deployed state machine
with an execution named after the run id (only the DR region is called to start it), follow its history with
progress, and write the local engine's report and exit codes."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, NoReturn

from dr.clock import SYSTEM_CLOCK, Clock, iso
from dr.engine.events import Event, EventKind
from dr.engine.lock.base import LockInfo
from dr.engine.session import RunOutcome
from dr.engine.step import RunContext, RunOptions, StepStatus
from dr.errors import UsageError
from dr.sfn import naming
from dr.sfn.follow import ExecutionView, StepView, execution_input, follow, run_status
from dr.sfn.generate import GATE_WINDOW_SECONDS, Definition, generate

POLL_SECONDS = 5.0
"""Between two reads of the execution's history (every page of it: the API has no 'events since')."""
ENGINE = "stepfunctions"
ENGINE_KEY = "engine"
ARN_KEY = "execution_arn"
"""Kept in the journaled run options (`options.extra`) of a run started in Step Functions."""


def definition_for(topology: Any, runbook: str, source: str, target: str, clients: Any = None) -> Definition:
    """The generated definition of `runbook` from source to target (reads nothing in AWS)."""
    from dr.aws.factory import ClientFactory
    from dr.engine import registry

    cls = registry.get(runbook)
    ctx = RunContext(topology=topology, clients=clients or ClientFactory(topology, run_id="sfn-generate"),
                     clock=SYSTEM_CLOCK, run_id="sfn-generate", runbook=cls.name, source=source, target=target,
                     options=RunOptions(dry_run=True, planned=False))
    return generate(cls(), ctx)


def check_runnable(defn: Definition, clients: Any, phase: str | None = None) -> None:
    """Refuse (exit 2) what the deployed machine cannot do: blocking gaps (of a failback's `phase`), or no
    machine / a stale one."""
    from dr.sfn.deploy import deployed_definition
    from dr.sfn.run_failback import blocking

    if blocking(defn, phase):
        raise UsageError("the Step Functions engine cannot run this move: " + "; ".join(
            f"{g.step}: {g.reason}" for g in blocking(defn, phase)) + ". Use the local engine (--engine local)")
    deployed = deployed_definition(clients, defn)
    if deployed != defn.text():
        what = "is not deployed" if deployed is None else "was generated from another topology or drctl"
        raise UsageError(f"state machine {naming.machine_name(defn.runbook, defn.source, defn.target)} {what} in "
                         f"{defn.region} of account {defn.account}: run `drctl deploy --engine stepfunctions` first")


def generations(ctx: RunContext, defn: Definition) -> list[int]:
    """The generation each promotion writes (the local step's rule; a copy already this move's writer keeps its
    own, so a re-run finds it done)."""
    from dr.aws.lineage import generation, writable
    from runbooks.steps._common import FACT_SOURCE_REACHABLE, lineage, moves

    ctx.facts[FACT_SOURCE_REACHABLE] = False
    out = []
    by_name = {m.db.name: m for m in moves(ctx)}
    for name in defn.databases:
        line = lineage(ctx, by_name[name])
        new = line.copies[-1] if line.copies else None
        done = new is not None and writable(new) and not new.source_arn and generation(new) >= 1
        out.append(generation(new) if done and new is not None else line.next_generation())
    return out


def start(runbook: str, *, config: str | None, target: str, flags: Any, output: Any) -> NoReturn:
    """Run `runbook` toward `target` in Step Functions and exit as a local run would."""
    from dr.cli.run_options import fail, finish
    from dr.errors import DrError

    try:
        outcome = _start(runbook, config=config, target=target, flags=flags)
    except DrError as err:
        fail(err)
    finish(outcome, output, flags)


def _start(runbook: str, *, config: str | None, target: str, flags: Any) -> RunOutcome:
    from dr.cli.run_options import check_options, make_clients, resolve_pair
    from dr.config import config_path, load
    from dr.engine import registry
    from dr.engine.journal.base import check_run_id
    from dr.engine.session import new_header, new_run_id

    if flags.dry_run or flags.simulate_outage:
        raise UsageError("--engine stepfunctions runs the deployed state machine: no --dry-run or --simulate-outage "
                         "(see `drctl deploy --engine stepfunctions --dry-run` and `drctl plan failover`)")
    now = SYSTEM_CLOCK.now()
    incident, _ = check_options(flags, now)  # every option checked before anything runs, as a local run does
    path = config_path(config)
    topology = load(path)
    source = resolve_pair(topology, None, target)
    run_id = check_run_id(flags.run_id or new_run_id(runbook, target, now))
    clients = make_clients(topology, run_id, frozenset())
    defn = definition_for(topology, runbook, source, target, clients)
    arn = naming.execution_arn(defn, run_id)
    options = RunOptions(yes=flags.yes, accept_data_loss=flags.accept_data_loss, planned=flags.planned,
                         extra={**flags.extra, ENGINE_KEY: ENGINE, ARN_KEY: arn})
    header = new_header(registry.get(runbook), topology, path, source=source, target=target, run_id=run_id,
                        options=options, now=now, incident_start=incident)
    check_runnable(defn, clients, flags.extra.get("phase", "all") if runbook == "failback" else None)
    ctx = RunContext(topology=topology, clients=clients, clock=SYSTEM_CLOCK, run_id=run_id, runbook=runbook,
                     source=source, target=target, options=options)
    # a failback is planned by definition: refused (exit 3) when the current writers' region does not answer
    options.planned = planned = decide_planned(ctx, True if runbook == "failback" else flags.planned)
    _confirm(flags, target, planned, runbook)
    gate = (iso(now - timedelta(seconds=GATE_WINDOW_SECONDS)), iso(now))
    payload = execution_input(run_id, flags.accept_data_loss, gate, generations(ctx, defn),
                              planned=planned, fenced_ids=fenced_ids(ctx, defn),
                              catch_up_until=iso(now + timedelta(days=1)))
    if runbook == "failback":  # its phase, first part and re-protect names (dr/sfn/run_failback.py)
        from dr.sfn import run_failback

        payload = run_failback.execution_input(ctx, defn, payload, now)
    sfn = sfn_client(clients, defn)
    with pair_locked(topology, clients, header, break_lock=flags.break_lock) as broken:
        try:
            sfn.start_execution(stateMachineArn=naming.machine_arn(defn), name=run_id, input=payload)
        except sfn.exceptions.ExecutionAlreadyExists:
            sys.stderr.write(f"execution {run_id} exists already: following it\n")
        journal_event(topology, clients, header, Event(EventKind.RUN_STARTED, header.started_at,
                                                       data=header.to_data()), broken, first=True)
    sys.stderr.write(f"{runbook} {source} -> {target}: Step Functions execution {arn}\n")
    return follow_run(sfn, arn, defn, header, SYSTEM_CLOCK)


@contextmanager
def pair_locked(topology: Any, clients: Any, header: Any, *, break_lock: bool = False) -> Iterator[LockInfo | None]:
    """While starting (or redriving): the pair's run lock (a local run's; `break_lock` takes it from its holder,
    whose record is yielded), and no execution of the pair RUNNING (exit 3: an execution is stopped, never broken)."""
    from dr.engine.backends import run_lock
    from dr.engine.lock.base import lock_key
    from dr.engine.session import holder, state_call
    from dr.sfn.pair_lock import refuse_if_running

    lock = run_lock(topology, clients, lock_key(header.source, header.target))
    me = LockInfo(key=lock_key(header.source, header.target), run_id=header.run_id, holder=holder(),
                  pid=os.getpid(), since=SYSTEM_CLOCK.now())
    broken = state_call(f"take the run lock {lock.location}", lambda: lock.acquire(me, break_lock=break_lock))
    try:
        state_call("read the pair's running Step Functions executions",
                   lambda: refuse_if_running(topology, clients, header.source, header.target, only_deployed=False))
        yield broken
    finally:
        lock.release()


def journal_event(topology: Any, clients: Any, header: Any, event: Event, broken: LockInfo | None, *,
                  first: bool = False) -> None:
    """The run's journal (the topology's store) records `event` (RUN_STARTED `first`: `runs list` shows the run,
    `runs show` follows its execution, `resume` redrives it), then a broken lock's holder, as a local run does."""
    from dr.engine.backends import journal_backend
    from dr.engine.journal.base import Journal, last_seq

    backend = journal_backend(topology, clients)
    journal = Journal(backend, header.run_id, last_seq=0 if first else last_seq(backend, header.run_id))
    try:
        journal.record(event)
        if broken is not None:
            journal.record(Event(EventKind.LOCK_BROKEN, event.at, detail=f"broke the lock of: {broken.describe()}",
                                 data=broken.to_data()))
    finally:
        journal.close()


def engine_of(history: Any) -> str | None:
    """`stepfunctions` when the journal's run was started in Step Functions, else None."""
    return history.header.options.extra.get(ENGINE_KEY) if history.header is not None else None


def decide_planned(ctx: RunContext, wanted: bool | None) -> bool:
    """As the local prechecks decide: planned when the source region's RDS answers, unless --unplanned;
    --planned refuses (exit 3) when it does not. The one source-region read drctl itself makes."""
    from dr.errors import GateRefused
    from runbooks.steps.prechecks import probe_source

    if wanted is False:
        return False
    reachable, probe = probe_source(ctx)
    if not reachable and wanted:
        raise GateRefused(f"a planned move needs the source region's RDS to answer ({probe}); nothing was changed. "
                          "Wait for it, or fail over unplanned (--unplanned)")
    return reachable


def fenced_ids(ctx: RunContext, defn: Definition) -> list[str]:
    """The id each source writer is renamed to by this run's fence (the local step's), in the plan's order."""
    from runbooks.steps._common import moves
    from runbooks.steps.fence import fenced_id

    by_name = {m.db.name: m for m in moves(ctx)}
    return [fenced_id(by_name[name].old, ctx.run_id) for name in defn.databases]


def _confirm(flags: Any, target: str, planned: bool, runbook: str = "failover") -> None:
    how = "planned: fence, catch up, promote" if planned else "unplanned: promote past the RPO gate"
    confirm_lines(flags, target, [f"{runbook} in AWS Step Functions -> {target}, {how} (the state machine deployed by "
                                  f"`drctl deploy --engine stepfunctions`); `drctl plan {runbook} --to {target}` "
                                  "lists the steps"])


def confirm_lines(flags: Any, target: str, lines: list[str]) -> None:
    """As a local run: on the controlling terminal (dr.cli.confirm), the operator reads `lines` and types the
    target's name; --yes skips it, and no terminal without --yes is refused."""
    from dr.cli.confirm import confirm_on, open_terminal
    from dr.cli.run_options import is_tty

    if flags.yes:
        return
    terminal = open_terminal(stdio=is_tty())
    if terminal is None:
        raise UsageError("this command changes things and there is no terminal to confirm on: pass --yes")
    try:
        confirm_on(terminal, lines, target, break_lock=flags.break_lock)
    finally:
        terminal.close()


def sfn_client(clients: Any, defn: Definition) -> Any:
    env = next(n for n, e in clients.topology.environments.items() if e.account_id == defn.account)
    return clients.client("stepfunctions", env, defn.region)


def follow_run(sfn: Any, arn: str, defn: Definition, header: Any, clock: Clock, *, once: bool = False) -> RunOutcome:
    def progress(step: StepView) -> None:
        sys.stderr.write(f"  {step.name}: {step.status}{' - ' + step.detail if step.detail else ''}\n")

    try:
        if defn.runbook == "failback":  # one execution per part, followed in turn; the report is the phase's
            from dr.sfn.run_failback import follow_parts, phase_of, scoped

            phase = phase_of(header.options.extra)
            view = follow_parts(sfn, defn, header.run_id, phase, clock, on_step=progress, poll=POLL_SECONDS,
                                once=once)
            defn = scoped(defn, phase)
        else:
            view = follow(sfn, arn, defn, clock, on_step=progress, poll=POLL_SECONDS, once=once)
    except KeyboardInterrupt:
        sys.stderr.write(f"interrupted: the execution goes on in Step Functions; `drctl runs show "
                         f"{header.run_id}` follows it again\n")
        raise SystemExit(130) from None
    return RunOutcome(run_status(view), report(view, defn, header, arn))


def report(view: ExecutionView, defn: Definition, header: Any, arn: str) -> dict[str, Any]:
    """The local run's report (dr/engine/report.py) from the execution's steps; the gaps as skipped steps."""
    from dr.engine.report import ReportBuilder

    builder = ReportBuilder(header, list(defn.steps), journal=arn)
    last = header.started_at
    for step in view.steps.values():
        end = step.ended_at or step.started_at
        last = max(last, end)
        builder.notify(Event(EventKind.STEP_FINISHED, end, step=step.name, status=str(step.status),
                             duration=(end - step.started_at).total_seconds(), detail=step.detail, attempt=1,
                             data={"started_at": iso(step.started_at)}))
    for name in defn.steps:  # a step the execution did not need: the gate with --accept-data-loss
        if view.status == "SUCCEEDED" and name not in view.steps:
            status, reason = not_run(name, view)
            builder.notify(Event(EventKind.STEP_FINISHED, last, step=name, status=str(status),
                                 duration=0.0, detail=reason, data={"started_at": iso(last)}))
    for gap in defn.gaps:
        if not gap.blocking and gap.step not in view.steps:
            builder.notify(Event(EventKind.STEP_FINISHED, last, step=gap.step, status=str(StepStatus.SKIPPED),
                                 duration=0.0, detail=f"not run by Step Functions: {gap.reason}",
                                 data={"started_at": iso(last)}))
    built = builder.build(run_status(view), last, {**measured_windows(view, defn, header), **unfenced_advice(view)})
    built.update({"engine": "stepfunctions", "execution_arn": arn, "execution_status": view.status})
    if view.error:
        built["execution_error"] = {"error": view.error, "cause": view.cause}
    return built


def unfenced_advice(view: ExecutionView) -> dict[str, Any]:
    """The report's advice for each former writer the execution could not fence, as a local run gives it: the
    step's NOT-fenced text (split brain; `drctl fence --env SOURCE`) in `advice` and `next_action`."""
    from dr.engine.facts import advice_fact
    from dr.sfn.states_fence import LEFT_BEHIND

    return {advice_fact(f"unfenced.{step.name.split(':', 1)[1]}"): step.detail for step in view.steps.values()
            if step.name.startswith(f"{LEFT_BEHIND}:") and step.status in (StepStatus.SKIPPED, StepStatus.FAILED)}


def not_run(name: str, view: ExecutionView) -> tuple[StepStatus, str]:
    """How the report shows a step a succeeded execution did not run, as the local run shows it: a former writer
    its planned fence renamed before promotion is already fenced (`already-done`, the local step's is-done); the
    gate with --accept-data-loss, and the rest, skipped."""
    if name == "rpo-gate":
        return StepStatus.SKIPPED, "passed with --accept-data-loss, lag not read"
    if name.startswith("fence-old-writer:"):
        fenced = view.steps.get("fence:" + name.split(":", 1)[1])
        if fenced is not None and fenced.status is StepStatus.SUCCEEDED:
            return StepStatus.ALREADY_DONE, f"already in the desired state: fenced before promotion ({fenced.name})"
    return StepStatus.SKIPPED, "not needed by the execution"


def measured_windows(view: ExecutionView, defn: Definition, header: Any) -> dict[str, Any]:
    """The data-loss windows a finished planned execution measured: 0 for every database, since each passed its
    fence and catch-up (lag evidence after the fence) or its global switchover before being promoted; none (the
    report's window unknown) for an unplanned one, whose state machine measures nothing."""
    from dr.engine.facts import rpo_window_fact

    if view.status != "SUCCEEDED" or not header.options.planned:
        return {}
    return {rpo_window_fact(name): 0.0 for name in defn.databases}


def attach(header: Any, *, config: str | None, output: Any) -> NoReturn:
    """`drctl runs show RUN_ID` of a run its journal (`header`) says Step Functions executes: follow the execution
    to its end and print its report with the journaled header (its clock start), then exit with the run's code."""
    from dr.cli.run_options import RunFlags, fail, finish, make_clients
    from dr.config import config_path, load
    from dr.errors import DrError, UsageError

    try:
        topology = load(config_path(config))
        clients = make_clients(topology, header.run_id, frozenset())
        defn = definition_for(topology, header.runbook, header.source, header.target, clients)
        arn = str(header.options.extra.get(ARN_KEY) or naming.execution_arn(defn, header.run_id))
        sfn = sfn_client(clients, defn)
        try:
            sfn.describe_execution(executionArn=arn)
        except sfn.exceptions.ExecutionDoesNotExist:
            raise UsageError(f"run {header.run_id}: its execution {arn} does not exist (deleted, or the "
                                   "journal is from another account)") from None
    except DrError as err:
        fail(err)
    finish(follow_run(sfn, arn, defn, header, SYSTEM_CLOCK), output, RunFlags())


def directions(topology: Any) -> list[tuple[str, str, str]]:
    out = []
    for name, env in topology.environments.items():
        if env.dr_for:
            out += [("failover", env.dr_for, name), ("failback", name, env.dr_for)]
    return out
