"""The `drctl` console script. `drctl --version` (`-V`) is answered here, before typer, rich and the commands are
imported (~0.1 s of a 0.13 s start); everything else goes to the typer app in `dr.cli.main`."""

from __future__ import annotations

import sys

from dr import __version__


def version_line() -> str:
    return f"drctl {__version__}\n"


def main() -> None:
    if sys.argv[1:] in (["--version"], ["-V"]):
        sys.stdout.write(version_line())
        return
    from dr.cli.main import run

    run()
