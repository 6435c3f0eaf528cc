"""`drctl iam policy --env ENV`: the IAM policies ENV's role needs, generated from the steps' own declarations."""

from __future__ import annotations

import json
import re
from typing import Annotated

import typer

from dr.cli.common import ConfigOpt, Output, OutputOpt, print_json
from dr.iam.generate import Scope

_PRINCIPAL = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(root|role/.+|user/.+)$")

iam_app = typer.Typer(help="Least privilege: the IAM policies drctl's roles need (docs/iam.md).",
                      no_args_is_help=True)

EnvOpt = Annotated[str, typer.Option("--env", "-e", help="The environment whose role the policies are for.")]
RunbookOpt = Annotated[Scope, typer.Option("--runbook", help="What the role must be able to run.")]
PrincipalOpt = Annotated[str | None, typer.Option(
    "--principal", metavar="ARN", help="Who may assume the role (trust policy); default: the env's account root.")]


@iam_app.command("policy")
def policy_cmd(env: EnvOpt, runbook: RunbookOpt = Scope.ALL, principal: PrincipalOpt = None,
               config: ConfigOpt = None, output: OutputOpt = Output.TEXT) -> None:
    """Print the permissions policy of ENV's role (no wildcard action; `*` only where AWS has no resource-level
    permission), its trust policy and the caller's sts:AssumeRole policy. Calls nothing. Exit 2 on bad input."""
    from dr.cli.common import load_topology, write_error
    from dr.errors import DrError, UsageError
    from dr.iam.policy import policies

    try:
        topology = load_topology(config)
        if env not in topology.environments:
            raise UsageError(f"--env {env!r}: not an environment of the topology; choose one of "
                             f"{', '.join(sorted(topology.environments))}")
        if principal is not None and not _PRINCIPAL.match(principal):
            raise UsageError(f"--principal {principal!r}: give an IAM ARN such as arn:aws:iam::123456789012:root or "
                             "arn:aws:iam::123456789012:role/oncall")
        result = policies(topology, env, runbook, principal)
    except DrError as err:
        write_error(err)
        raise typer.Exit(err.exit_code) from None
    if output is Output.JSON:
        print_json(result.as_json())
        return
    sections = [(f"permissions policy of {result.role_arn or env + ' (the credentials drctl runs with)'}",
                 result.permissions), ("trust policy of the role", result.trust),
                ("caller policy (the identity running drctl)", result.caller)]
    for title, document in sections:
        if document is not None:
            typer.echo(f"# {title}\n{json.dumps(document, indent=2)}\n")
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)


def register(app: typer.Typer) -> None:
    app.add_typer(iam_app, name="iam")
