"""The suite's own guard rails: a per-test timeout is configured and active, and CI never drops a check silently."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


class TestTimeout:
    def test_a_per_test_timeout_is_configured(self) -> None:
        """pyproject sets pytest-timeout's per-test limit (minutes, not the ten of a hung drill) and the test
        extra installs the plugin and hypothesis."""
        ini = PYPROJECT["tool"]["pytest"]["ini_options"]
        assert 60 <= int(ini["timeout"]) <= 600
        extra = " ".join(PYPROJECT["project"]["optional-dependencies"]["test"])
        assert "pytest-timeout" in extra
        assert "hypothesis" in extra

    def test_a_hanging_test_fails_instead_of_hanging(self, tmp_path: Path) -> None:
        """With the project's configuration, a test that blocks is failed by the timeout, naming it."""
        hang = tmp_path / "test_hang.py"
        hang.write_text("import threading\n\ndef test_hangs():\n    threading.Event().wait()\n")
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(tmp_path),
             "-p", "no:cacheprovider", "-p", "no:xdist", "-o", "timeout=2", str(hang)],
            capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
        assert result.returncode == 1, result.stdout[-2000:]
        assert "Timeout" in result.stdout
        assert "test_hangs" in result.stdout


class TestContinuousIntegration:
    def test_ci_run_exports_ci_true_before_the_tests(self) -> None:
        """.ci/run sets CI=true itself, so a missing promtool or pushgateway fails instead of being skipped."""
        script = (ROOT / ".ci" / "run").read_text()
        assert "export CI=true" in script
        assert script.index("export CI=true") < script.rindex("scripts/test")
