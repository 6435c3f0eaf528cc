"""`drctl exporter` on the command line: option errors and a taken port are exit 2 with a message."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_support import free_port, running, stop_process

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

    def test_sigterm_stops_the_exporter_cleanly(self, example_path: Path, tmp_path: Path) -> None:
        """SIGTERM makes a serving `drctl exporter` stop and exit 0 (AWS unreachable does not matter); with -o json
        its start-up line is a JSON document naming the URL and both intervals."""
        port = free_port()
        env = {**os.environ, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}", "AWS_MAX_ATTEMPTS": "1"}
        args = [*DRCTL, "exporter", "-c", str(example_path), "--port", str(port), "--interval", "1s", "-o", "json"]
        with running(args, ready_url=f"http://127.0.0.1:{port}/healthz", log=tmp_path / "exporter.log",
                     env=env) as proc:
            proc.send_signal(signal.SIGTERM)
            assert stop_process(proc, timeout=20) == 0
        log = (tmp_path / "exporter.log").read_text()
        assert "drctl exporter stopped" in log
        start = log.index("{\n  \"event\"")
        document = json.loads(log[start:log.index("\n}", start) + 2])
        assert document == {"event": "listening", "url": f"http://127.0.0.1:{port}/metrics", "interval_seconds": 1.0,
                            "evaluate_interval_seconds": 1800.0}


class TestExporterOptions:
    """Option errors of the plan evaluation and the outage simulation, in-process (they fail before any AWS)."""

    @staticmethod
    def usage_error(*args: str) -> str:
        from typer.testing import CliRunner

        from dr.cli.main import app
        from dr.errors import UsageError

        result = CliRunner().invoke(app, ["exporter", *args])
        assert isinstance(result.exception, UsageError), result.output
        assert result.exception.exit_code == 2
        return str(result.exception)

    def test_evaluate_interval_below_a_minute_is_refused(self, example_path: Path) -> None:
        """--evaluate-interval 10s is refused naming the bounds (1m to 24h)."""
        message = self.usage_error("-c", str(example_path), "--evaluate-interval", "10s")
        assert message == "--evaluate-interval '10s': must be at least 1m and at most 24h"

    def test_evaluate_interval_that_is_not_a_duration_is_refused(self, example_path: Path) -> None:
        """--evaluate-interval hourly is not a duration."""
        assert self.usage_error("-c", str(example_path), "--evaluate-interval", "hourly").startswith(
            "--evaluate-interval 'hourly': ")

    def test_simulated_outage_of_an_unknown_region_is_refused(self, example_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
        """$DRCTL_SIMULATE_OUTAGE is validated like --simulate-outage: a region AWS does not have is exit 2."""
        monkeypatch.setenv("DRCTL_SIMULATE_OUTAGE", "eu-nowhere-1")
        assert "eu-nowhere-1" in self.usage_error("-c", str(example_path))
