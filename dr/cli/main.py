"""The `drctl` command line: one typer app; each command group lives in its own module."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from dr.cli.entry import version_line

app = typer.Typer(
    name="drctl",
    help="Disaster-recovery failover for AWS as code: check, fail over, fail back, drill, monitor.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish, PowerShell)
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(version_line())
        raise typer.Exit(0)


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", "-V", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """drctl turns the DR runbook into code. Exit codes: 0 done, 1 step failed, 2 usage/config error,
    3 refused by a safety gate, 130 interrupted (resume with `drctl resume RUN_ID`); each command's --help
    lists its own (readiness and status use 1 for "not ready" and "split brain risk")."""


def _register() -> None:
    from dr.cli import (
        config_cmd,
        conventions,
        deploy,
        drill,
        export,
        exporter,
        failover,
        fence,
        iam,
        readiness,
        runs,
        sandbox,
        status,
    )

    config_cmd.register(app)
    deploy.register(app)
    export.register(app)
    drill.register(app)
    exporter.register(app)
    failover.register(app)
    fence.register(app)
    iam.register(app)
    readiness.register(app)
    sandbox.register(app)
    status.register(app)
    runs.register(app)
    conventions.add_epilogs(app)
    conventions.clean_metavars()


_register()


def run() -> None:
    """Console-script entry point: expected failures become a message and their exit code, no traceback."""
    from dr.errors import DrError

    try:
        app()
    except DrError as err:
        _report_error(err)
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)


def _report_error(err: Exception) -> None:
    from dr.cli.common import write_error

    write_error(err)
