"""`drctl deploy --engine stepfunctions`: the runbooks' state machines in the DR region, created or updated."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated, Any

import typer

from dr.cli.common import ConfigOpt, Output, OutputOpt, print_json
from dr.cli.run_options import DeployDryRunOpt


class EngineName(StrEnum):
    LOCAL = "local"
    STEPFUNCTIONS = "stepfunctions"


class DeployRunbook(StrEnum):
    FAILOVER = "failover"
    FAILBACK = "failback"
    ALL = "all"


EngineOpt = Annotated[EngineName, typer.Option(
    "--engine", help="local: this process runs the steps; stepfunctions: the deployed state machine in the DR "
                     "region does (docs/engines.md).")]
DeployEngineOpt = Annotated[EngineName, typer.Option("--engine", help="Only stepfunctions is deployable.")]
"""The same choice, required: `deploy` refuses local (it needs no deployment) with a message saying so."""
DeployRunbookOpt = Annotated[DeployRunbook, typer.Option("--runbook", help="Which runbook's state machines.")]


def deploy_cmd(
    engine: DeployEngineOpt, runbook: DeployRunbookOpt = DeployRunbook.ALL, dry_run: DeployDryRunOpt = False,
    config: ConfigOpt = None, output: OutputOpt = Output.TEXT,
) -> None:
    """Create or update, idempotently, one state machine per runbook and direction (and its execution role) in
    the region and account of the copies it promotes. Exit 2 when a requested runbook cannot be generated."""
    from dr.cli.run_options import fail
    from dr.errors import DrError, UsageError

    try:
        if engine is not EngineName.STEPFUNCTIONS:
            raise UsageError("--engine local needs no deployment; use --engine stepfunctions")
        rows, refused = _deploy_all(config, str(runbook), dry_run)
        if refused and runbook is not DeployRunbook.ALL:
            raise UsageError("; ".join(refused))
    except DrError as err:
        fail(err)
    if output is Output.JSON:
        print_json({"state_machines": rows, "not_deployable": refused})
        return
    for row in rows:
        sys.stdout.write(f"{row['name']}: {row['action']} ({row['arn']})\n")
        if row["caller"] != "none":
            sys.stdout.write(f"   cross-region caller {row['caller_name']}: {row['caller']}\n")
        if dry_run:
            sys.stdout.write(row["definition"] + "\n" + (row["diff"] or "(no difference)\n"))
        for gap in row["gaps"]:
            sys.stdout.write(f"   not in the state machine: {gap}\n")
    for line in refused:
        sys.stdout.write(f"not deployable: {line}\n")


def _deploy_all(config: str | None, which: str, dry_run: bool) -> tuple[list[dict[str, Any]], list[str]]:
    from dr.aws.factory import ClientFactory
    from dr.config import config_path, load
    from dr.engine.journal.header import topology_hash
    from dr.sfn.deploy import deploy
    from dr.sfn.remote import function_name
    from dr.sfn.run import definition_for, directions
    from dr.sfn.run_failback import blocking

    path = config_path(config)
    topology = load(path)
    clients = ClientFactory(topology, run_id="deploy")
    rows: list[dict[str, Any]] = []
    refused: list[str] = []
    for runbook, source, target in directions(topology):
        if which not in ("all", runbook):
            continue
        defn = definition_for(topology, runbook, source, target, clients)
        # a failback deploys when its re-protect can run; `failback --phase switch|all` refuses what it cannot do
        stops = blocking(defn, "reprotect" if runbook == "failback" else None)
        if stops:
            refused.append(f"{runbook} {source}->{target}: " + "; ".join(f"{g.step}: {g.reason}" for g in stops))
            continue
        result = deploy(clients, defn, topology_hash(path), dry_run=dry_run)
        rows.append({"runbook": runbook, "source": source, "target": target, "name": result.name,
                     "arn": result.arn, "action": result.action, "diff": result.diff, "caller": result.caller,
                     "caller_name": function_name(runbook, source, target),
                     "definition": result.definition if dry_run else None,
                     "gaps": [f"{g.step}: {g.reason}" for g in defn.gaps]})
    return rows, refused


def register(app: typer.Typer) -> None:
    app.command("deploy")(deploy_cmd)
