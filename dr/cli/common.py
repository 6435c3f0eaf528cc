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
    typer.Option("--config", "-c", help="Topology file (default: $DRCTL_CONFIG, else ./dr.yaml).",
                 show_default=False),
]
OutputOpt = Annotated[
    Output, typer.Option("--output", "-o", help="text for humans (progress on stderr), json for scripts.")
]


def print_json(document: Any) -> None:
    """One JSON document on stdout."""
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=False, default=str) + "\n")
    sys.stdout.flush()


def console(stderr: bool = False) -> Any:
    """A rich console (imported lazily): stdout for results, stderr for progress and errors."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


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
    """`Faults` failing every call to the given regions (plus $DRCTL_SIMULATE_OUTAGE, comma-separated), or None."""
    import os

    from dr.aws.faults import OUTAGE_ENV_VAR, Faults

    chosen = {r.strip() for r in (regions or []) if r.strip()}
    chosen |= {r.strip() for r in os.environ.get(OUTAGE_ENV_VAR, "").split(",") if r.strip()}
    return Faults(outage_regions=chosen) if chosen else None
