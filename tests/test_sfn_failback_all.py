"""A whole failback (`--phase all`: re-protect, the planned switch back, re-protect toward the DR side) executed by
Step Functions, three executions each starting the next, leaves AWS as the local `--phase all` does."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from dr.testing.sandbox import in_process_sandbox
from tests.test_sfn_failback import SMALL, _drctl, _protected, _set_lags, local_failback, quiet_env


def _names(report: dict[str, Any]) -> list[str]:
    """The report's step names, a zone's id (each sandbox makes its own) replaced by `ZONE`."""
    return [re.sub(r"dns:[A-Z0-9]+$", "dns:ZONE", s["name"]) for s in report["steps"]]


def _by_step_functions(root: Path) -> tuple[dict[str, Any], dict[str, Any], int]:
    """The same failover and whole failback, both executed by Step Functions: AWS after, the report, exit code."""
    with in_process_sandbox(SMALL, root / "sfn") as sandbox:
        config = ["-c", str(sandbox.config_path), "-o", "json"]
        deployed = _drctl("deploy", "--engine", "stepfunctions", "--runbook", "all", *config)
        assert deployed.exit_code == 0, deployed.output
        moved = _drctl("failover", "--to", "qa", "--unplanned", "--accept-data-loss", "--simulate-outage",
                       "eu-central-1", "--yes", "--run-id", "fo-1", *config)
        assert moved.exit_code == 0, moved.output
        _set_lags(sandbox)
        sandbox.control.set_metric_period_seconds(5.0)  # the catch-up's datapoints after the fence come sooner
        back = _drctl("failback", "--to", "prod", "--engine", "stepfunctions", "--yes", "--run-id", "fb-1", *config)
        return _protected(sandbox.topology, sandbox.clients), json.loads(back.stdout), back.exit_code


def test_a_whole_failback_by_step_functions_leaves_aws_as_the_local_one(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Writers, replica sources, fenced and stopped copies, lineage tags and DNS equal the local run's after
    `--phase all`; the report succeeds with the local run's steps, and the three part executions all ran."""
    quiet_env(monkeypatch, tmp_path)
    monkeypatch.setattr("dr.sfn.run.POLL_SECONDS", 2.0)  # the follower reads every page of history at each poll
    local, local_report = local_failback(tmp_path, "all")
    monkeypatch.setenv("DRCTL_STATE_DIR", str(tmp_path / "sfn-state"))  # the same run ids, in another journal
    state, report, code = _by_step_functions(tmp_path)
    assert (code, report["status"], report.get("execution_error")) == (0, "succeeded", None)
    assert state == local
    assert _names(report) == _names(local_report)
