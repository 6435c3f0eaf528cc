"""`drctl exporter` on the command line: option errors and a taken port are exit 2 with a message."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

DRCTL = [sys.executable, "-c", "from dr.cli.main import run; run()"]


def drctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DRCTL, *args], capture_output=True, text=True, timeout=60, check=False)


class TestExporterCommand:
    def test_bad_interval_is_a_usage_error(self, example_path: Path) -> None:
        """--interval that is not a duration exits 2 naming the option, before anything starts."""
        result = drctl("exporter", "-c", str(example_path), "--interval", "soon")
        assert result.returncode == 2
        assert "--interval 'soon'" in result.stderr
        assert "Traceback" not in result.stderr

    def test_taken_port_is_a_usage_error(self, example_path: Path) -> None:
        """A port another process listens on exits 2 with what to change, not a traceback."""
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            result = drctl("exporter", "-c", str(example_path), "--port", str(port))
        assert result.returncode == 2
        assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
        assert "Traceback" not in result.stderr

    def test_help_lists_the_options(self) -> None:
        """`drctl exporter --help` documents --port, --address and --interval."""
        result = drctl("exporter", "--help")
        assert result.returncode == 0
        for option in ("--port", "--address", "--interval", "--config"):
            assert option in result.stdout
