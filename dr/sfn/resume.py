"""`drctl resume RUN_ID` of a run Step Functions executes: redrive its unsuccessful execution and follow it.

AWS Step Functions API Reference, "RedriveExecution": a FAILED, ABORTED or TIMED_OUT execution of a Standard
workflow, stopped within the last 14 days, continues from its unsuccessful state with that state's input, with the
same definition and execution ARN; the states that succeeded are not run again (an Inline Map or Parallel state
reruns only its failed iterations or branches). That is the local resume's promise (settled steps kept, the rest
re-checked), kept by AWS: every chain of the generated definition reads before it acts as well.

A failback runs as one execution per part (dr/sfn/generate_failback.py); resume redrives the first part that did
not succeed, whose last state starts the next one. A running execution is followed, not redriven; a run whose
executions all succeeded has nothing to resume. A run the RPO gate refused is not redriven: the redriven gate would
read the lag of the window the run started with (the execution's input), so a new run is what re-checks it; nor is
one the in-machine run lock stopped (`DR.Locked`, before any step): a new run takes the lock anew.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from dr.clock import SYSTEM_CLOCK
from dr.engine.events import Event, EventKind
from dr.engine.session import RunOutcome
from dr.errors import UsageError
from dr.sfn import asl, naming
from dr.sfn.generate import Definition
from dr.sfn.states_lock import LOCKED

REDRIVABLE = frozenset({"FAILED", "ABORTED", "TIMED_OUT"})
"""The statuses RedriveExecution accepts (AWS Step Functions API Reference, "RedriveExecution")."""
MAX_CLIENT_TOKEN = 64


@dataclass(frozen=True)
class Unfinished:
    """The execution of a run that did not succeed (None: every one did), and what DescribeExecution says of it."""

    arn: str
    status: str
    error: str
    cause: str
    redrive_count: int


def resume(history: Any, *, config: str | None, output: Any, flags: Any) -> NoReturn:
    """Redrive and follow the run's unfinished execution; exit as a local resume would."""
    from dr.cli.run_options import fail, finish
    from dr.errors import DrError

    try:
        outcome = _resume(history, config, flags)
    except DrError as err:
        fail(err)
    finish(outcome, output, flags)


def _resume(history: Any, config: str | None, flags: Any) -> RunOutcome:
    from dr.cli.run_options import make_clients
    from dr.config import load
    from dr.engine.session import check_topology_unchanged
    from dr.sfn.run import definition_for, follow_run, sfn_client

    header = history.header
    path = Path(config) if config else Path(header.topology_path)
    check_topology_unchanged(header, path)
    topology = load(path)
    clients = make_clients(topology, header.run_id, frozenset())
    defn = definition_for(topology, header.runbook, header.source, header.target, clients)
    sfn = sfn_client(clients, defn)
    arn = run_arn(header, defn)
    found = unfinished(sfn, defn, header)
    if found is None:
        sys.stderr.write(f"run {header.run_id} already finished in Step Functions (succeeded); nothing to resume\n")
    elif found.status == "RUNNING":
        sys.stderr.write(f"run {header.run_id}: execution {found.arn} is still running; following it\n")
    else:
        redrive(sfn, defn, header, found, flags, topology=topology, clients=clients)
    return follow_run(sfn, arn, defn, header, SYSTEM_CLOCK)


def run_arn(header: Any, defn: Definition) -> str:
    from dr.sfn.run import ARN_KEY

    return str(header.options.extra.get(ARN_KEY) or naming.execution_arn(defn, header.run_id))


def arns_of(header: Any, defn: Definition) -> list[str]:
    """The run's executions in order: a failover's one; a failback's parts for its phase."""
    if defn.runbook != "failback":
        return [run_arn(header, defn)]
    from dr.sfn.run_failback import execution_arns, phase_of

    return execution_arns(defn, header.run_id, phase_of(header.options.extra))


def unfinished(sfn: Any, defn: Definition, header: Any) -> Unfinished | None:
    """The first of the run's executions that did not succeed; None when all did. A failback part not started
    while the one before it succeeded is reported as the one before, running (it starts the next as it ends)."""
    last: Unfinished | None = None
    for arn in arns_of(header, defn):
        try:
            found = sfn.describe_execution(executionArn=arn)
        except sfn.exceptions.ExecutionDoesNotExist:
            if last is None:
                raise UsageError(f"run {header.run_id}: its execution {arn} does not exist (deleted, or the "
                                 "journal is from another account); start a new run") from None
            return Unfinished(last.arn, "RUNNING", "", "", last.redrive_count)
        last = Unfinished(arn, str(found["status"]), str(found.get("error", "")), str(found.get("cause", "")),
                          int(found.get("redriveCount", 0)))
        if last.status != "SUCCEEDED":
            return last
    return None


def redrive(sfn: Any, defn: Definition, header: Any, found: Unfinished, flags: Any, *, topology: Any,
            clients: Any) -> None:
    """Refuse what a redrive cannot fix; confirm; under the pair's run lock, redrive and journal it."""
    from dr.engine.session import holder
    from dr.sfn.run import journal_event, pair_locked

    if found.error == LOCKED:
        raise UsageError(
            f"run {header.run_id} stopped before any step: another execution of the {header.source}/{header.target} "
            f"pair was running ({found.error}); nothing was changed. Start a new run once that one has ended "
            f"(`drctl runs list`)")
    if found.error == asl.GATE_REFUSED:
        raise UsageError(
            f"run {header.run_id} was refused by the RPO gate ({found.cause or found.error}); nothing was changed. "
            "A redrive would read the lag of the window the run started with again: start a new run "
            f"(`drctl {header.runbook} --to {header.target} --engine stepfunctions`), with --accept-data-loss "
            "if the data-loss window is accepted")
    check_definition(sfn, defn, found.arn)
    confirm(flags, header, found)
    with pair_locked(topology, clients, header, break_lock=flags.break_lock) as broken:
        try:
            sfn.redrive_execution(executionArn=found.arn,
                                  clientToken=f"{header.run_id}-redrive-{found.redrive_count + 1}"[:MAX_CLIENT_TOKEN])
        except sfn.exceptions.ExecutionNotRedrivable as err:
            raise UsageError(f"run {header.run_id}: Step Functions does not redrive {found.arn}: "
                             f"{err.response['Error'].get('Message', err)}. Start a new run") from None
        journal_event(topology, clients, header, Event(EventKind.RUN_RESUMED, SYSTEM_CLOCK.now(), data={
            "pid": os.getpid(), "by": holder(), "redrive": found.arn, "redrive_count": found.redrive_count + 1}),
            broken)
    sys.stderr.write(f"run {header.run_id}: redriving {found.arn} ({found.status}: {found.error or 'no error'}) "
                     "from its unsuccessful state\n")


def check_definition(sfn: Any, defn: Definition, arn: str) -> None:
    """A redrive runs the definition the execution started with: it must be the one drctl generates now, or the
    execution's steps would be read with another plan (a drctl upgrade, a redeploy from another topology)."""
    import json

    ran = sfn.describe_state_machine_for_execution(executionArn=arn)["definition"]
    if json.dumps(json.loads(ran), indent=2, sort_keys=True) != defn.text():
        raise UsageError(f"execution {arn} ran a definition this drctl and topology no longer generate (drctl "
                         "upgraded, or the machine redeployed since); it is not redriven. Start a new run")


def confirm(flags: Any, header: Any, found: Unfinished) -> None:
    """As a local run: on the controlling terminal, the operator types the target's name (or --yes)."""
    from dr.sfn.run import confirm_lines

    confirm_lines(flags, header.target, [
        f"resume run {header.run_id} ({header.runbook} {header.source} -> {header.target}) in AWS Step Functions: "
        f"redrive {found.arn}, {found.status} ({found.error or 'no error'}: {found.cause[:200]}); the states that "
        "succeeded are not run again"])


_LISTING: list[tuple[Any, Any, dict[tuple[str, str, str], Definition]]] = []
"""One client factory and one generated definition per direction for a whole `runs list` (the topology's)."""


def run_status_of(topology: Any, header: Any) -> str:
    """`runs list`'s status of a run Step Functions executes: its executions' (the journal never says how it
    ended): `running`, `succeeded`, `refused` (a gate, a precondition, the run lock) or `failed`; `unknown (...)`
    when Step Functions cannot be read from here."""
    from dr.aws.factory import ClientFactory
    from dr.sfn.follow import ExecutionView, run_status
    from dr.sfn.run import definition_for, sfn_client

    if not _LISTING or _LISTING[0][0] is not topology:
        _LISTING[:] = [(topology, ClientFactory(topology, run_id="runs"), {})]
    _, clients, definitions = _LISTING[0]
    direction = (header.runbook, header.source, header.target)
    try:
        if direction not in definitions:
            definitions[direction] = definition_for(topology, *direction, clients)
        defn = definitions[direction]
        found = unfinished(sfn_client(clients, defn), defn, header)
    except Exception as err:  # a listing never fails for one run: it says what it could not read
        return f"unknown ({type(err).__name__}: {str(err)[:120]})"
    if found is None:
        return "succeeded"
    return str(run_status(ExecutionView(found.status, error=found.error, cause=found.cause)))
