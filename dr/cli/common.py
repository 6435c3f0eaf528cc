"""Options every command shares, and output helpers. Heavy imports stay inside functions: start-up is fast."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated, Any

import typer


class Output(StrEnum):
    TEXT = "text"
    JSON = "json"


ConfigOpt = Annotated[
    str | None,
    typer.Option("--config", "-c", metavar="PATH", help="Topology file (default: $DRCTL_CONFIG, else ./dr.yaml).",
                 show_default=False),
]
OutputOpt = Annotated[
    Output, typer.Option("--output", "-o", help="text for humans (progress on stderr), json for scripts.")
]


def print_json(document: Any) -> None:
    """One JSON document on stdout."""
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=False, default=str) + "\n")
    sys.stdout.flush()


UNBOUNDED_WIDTH = 10_000
"""The width of a console that is not a terminal: tables take their natural width, so ids and ARNs in logs and
pipes stay whole and copyable (rich would otherwise cut them to $COLUMNS or 80 with an ellipsis)."""


def console(stderr: bool = False) -> Any:
    """A rich console (imported lazily): stdout for results, stderr for progress and errors. On a terminal it
    wraps to the terminal's width; piped or redirected it never cuts a line (see `UNBOUNDED_WIDTH`)."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else UNBOUNDED_WIDTH
    return Console(file=stream, highlight=False, soft_wrap=True, width=width)


def table(title: str, *columns: str) -> Any:
    """A rich table whose cells wrap long words (ids, ARNs) onto the next line instead of cutting them."""
    from rich.table import Table

    out = Table(title=title, title_justify="left")
    for column in columns:
        out.add_column(column, overflow="fold")
    return out


def write_error(err: Exception) -> None:
    """An expected failure on stderr: its message, then its findings (the first ones, and how many more)."""
    from dr.config.findings import first, more_line
    from dr.errors import ConfigError

    sys.stderr.write(f"drctl: {err}\n")
    shown, hidden = first(err.findings if isinstance(err, ConfigError) else [])
    for finding in shown:
        sys.stderr.write(f"  {finding}\n")
    if hidden:
        sys.stderr.write(f"  {more_line(hidden)}\n")


def load_topology(config: str | None) -> Any:
    """Load and validate the topology, raising ConfigError (exit 2) with every finding."""
    from dr.config import load

    return load(config)


SimulateOutageOpt = Annotated[
    list[str] | None,
    typer.Option("--simulate-outage", metavar="REGION",
                 help="Every call to REGION fails as in a regional outage (repeatable; also $DRCTL_SIMULATE_OUTAGE)."),
]


def outage_faults(regions: list[str] | None) -> Any:
    """`Faults` failing every call to the given regions (plus $DRCTL_SIMULATE_OUTAGE, comma-separated), or None;
    UsageError (exit 2) for a name that is not an AWS region."""
    from dr.aws.faults import Faults
    from dr.cli.option_checks import outage_regions

    chosen = outage_regions(regions or [])
    return Faults(outage_regions=chosen) if chosen else None
