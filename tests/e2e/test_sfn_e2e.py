"""The Step Functions engine end to end: drctl as subprocesses against the sandbox server, whose Step Functions
interpreter runs the deployed state machine; AWS state checked with plain boto3 clients."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from typing import Any

import pytest

from dr.sandbox.session import drctl_command, subprocess_env
from dr.testing.sandbox import ServerSandbox
from tests.e2e.test_failover_e2e import api_value, fast, independent, source_of

pytestmark = pytest.mark.e2e


def _killed_after_start(sbx: ServerSandbox, *args: str) -> int:
    """`drctl ARGS...` killed (SIGKILL) once it says which execution it started; its exit status."""
    proc = subprocess.Popen([*drctl_command(), *args], env=subprocess_env(sbx.env), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:
        if "Step Functions execution" in line or "redriving" in line:
            os.kill(proc.pid, signal.SIGKILL)
            break
    return proc.wait(timeout=60)


def _execution(sbx: ServerSandbox, arn: str) -> dict[str, Any]:
    sfn = independent(sbx, "stepfunctions", "eu-west-1")
    return dict(sfn.describe_execution(executionArn=arn))


class TestStepFunctionsEndToEnd:
    def test_a_refused_execution_is_redriven_by_resume_and_survives_its_killed_follower(
            self, sandbox_server: ServerSandbox) -> None:
        """deploy; a DR copy in backing-up fails the execution's prechecks (exit 3, nothing promoted); once it is
        available, `resume` redrives the execution and its process is killed: the execution goes on in the server,
        and `runs show` follows it to the end (exit 0): every database promoted, the record on qa."""
        sbx = sandbox_server
        fast(sbx)
        deployed = sbx.run_drctl("deploy", "--engine", "stepfunctions", "-o", "json")
        assert deployed.returncode == 0, deployed.stderr
        account = sbx.topology.environments["prod"].account_id
        sbx.control.set_db_status(account, "eu-west-1", "orders-db-euw1", "backing-up")
        refused = sbx.run_drctl("failover", "--to", "qa", "--engine", "stepfunctions", "--unplanned",
                                "--accept-data-loss", "--yes", "--run-id", "e2e-sfn", "-o", "json")
        assert refused.returncode == 3, refused.stdout + refused.stderr
        arn = json.loads(refused.stdout)["execution_arn"]
        west = independent(sbx, "rds", "eu-west-1")
        assert source_of(sbx, west, "orders-db-euw1") != ""
        sbx.control.set_db_status(account, "eu-west-1", "orders-db-euw1", "available")

        assert _killed_after_start(sbx, "resume", "e2e-sfn", "--yes") == -signal.SIGKILL
        shown = sbx.run_drctl("runs", "show", "e2e-sfn", "-o", "json")

        assert shown.returncode == 0, shown.stdout + shown.stderr
        report = json.loads(shown.stdout)
        assert (report["status"], report["execution_arn"]) == ("succeeded", arn)
        described = _execution(sbx, arn)
        assert (described["status"], described.get("redriveCount")) == ("SUCCEEDED", 1)
        assert all(source_of(sbx, west, db.replica.id) == "" for db in sbx.topology.databases
                   if db.engine.value == "rds-instance")
        assert api_value(sbx) == "api.eu-west-1.example.com"
