"""The `drctl` console script: `--version` answered before the typer app is imported, the same line as the app's."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from dr import __version__
from dr.cli.main import app

PROBE = ("import sys; sys.argv = ['drctl'] + sys.argv[1:]; from dr.cli.entry import main; main(); "
         "print('typer' in sys.modules, 'boto3' in sys.modules)")


def entry(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60,
                          check=False)


class TestEntry:
    @pytest.mark.parametrize("flag", ["--version", "-V"])
    def test_version_is_answered_without_importing_the_app(self, flag: str) -> None:
        """`drctl --version` and `drctl -V` print the version before typer or boto3 is imported."""
        done = entry(flag)
        assert done.returncode == 0, done.stderr
        assert done.stdout == f"drctl {__version__}\nFalse False\n"

    def test_the_app_prints_the_same_version_line(self) -> None:
        result = CliRunner().invoke(app, ["--version"])
        assert result.exit_code == 0
        assert result.output == f"drctl {__version__}\n"

    def test_anything_else_goes_to_the_app(self) -> None:
        """`--help` (and `--version` after other arguments) are the typer app's: it exits through SystemExit."""
        done = subprocess.run([sys.executable, "-c", "from dr.cli.entry import main; main()", "--help"],
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        assert "failover" in done.stdout
        assert "Usage" in done.stdout
