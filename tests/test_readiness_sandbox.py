"""Readiness against the drctl sandbox (moto + fidelity extensions) seeded with the example: green, and red
with the right reason for each problem injected through the sandbox control."""

from __future__ import annotations

import json

import pytest

from dr.checks.model import CheckResult, all_ok
from dr.checks.readiness import readiness
from dr.clock import SYSTEM_CLOCK
from dr.testing import InProcessSandbox, ServerSandbox

PROD = "111111111111"


def qa_results(sandbox: InProcessSandbox) -> list[CheckResult]:
    return readiness(sandbox.topology, sandbox.clients, SYSTEM_CLOCK, "qa")


def failing(sandbox: InProcessSandbox) -> dict[tuple[str, str], str]:
    """(check, resource) -> reason of every failing qa check."""
    return {(str(r.check), r.resource): r.reason for r in qa_results(sandbox) if not r.ok}


class TestInProcessSandbox:
    def test_example_is_ready_in_qa(self, sandbox: InProcessSandbox) -> None:
        """The seeded example is green in qa through the sandbox's own lag and health extensions."""
        results = qa_results(sandbox)
        assert all_ok(results), [r for r in results if not r.ok]

    def test_each_injected_problem_fails_its_own_check_with_its_reason(self, sandbox: InProcessSandbox) -> None:
        """Broken, no data, ms-lag over RPO, backing-up, unhealthy: exactly those checks fail, each saying why."""
        control, hc = sandbox.control, sandbox.topology.dns[0].health_checks["qa"]
        control.set_replica_lag(PROD, "eu-west-1", "rds-instance", "orders-db-euw1", -1)
        control.set_db_status(PROD, "eu-west-1", "customers-db-euw1", "backing-up")
        control.set_replica_lag(PROD, "eu-west-1", "aurora-cluster", "inventory-cluster-euw1", None)
        control.set_replica_lag(PROD, "eu-west-1", "aurora-global", "payments-cluster-euw1", 301)
        control.set_health(hc, False)
        reasons = failing(sandbox)
        assert reasons == {
            ("replication-running", "orders-db-euw1"): "ReplicaLag -1: replication broken",
            ("lag-within-rpo", "orders-db-euw1"): "ReplicaLag -1: replication broken",
            ("replica-available", "customers-db-euw1"): "customers-db-euw1 is backing-up",
            ("lag-within-rpo", "inventory-cluster-euw1"): "no AuroraBinlogReplicaLag datapoint in the last 10 min",
            ("lag-within-rpo", "payments-cluster-euw1"): "lag 301 s > RPO 300 s",
            ("health-check", hc): reasons[("health-check", hc)],
        }
        assert "unhealthy" in reasons[("health-check", hc)]

    def test_lag_over_rpo_and_stale_lag_fail(self, sandbox: InProcessSandbox) -> None:
        """412 s against a 300 s RPO fails; a 3 s lag whose newest datapoint is 7 minutes old is stale."""
        sandbox.control.set_replica_lag(PROD, "eu-west-1", "rds-instance", "orders-db-euw1", 412)
        sandbox.control.set_replica_lag(PROD, "eu-west-1", "rds-instance", "customers-db-euw1", 3, age_seconds=420)
        reasons = failing(sandbox)
        assert set(reasons) == {("lag-within-rpo", "orders-db-euw1"), ("lag-within-rpo", "customers-db-euw1")}
        assert reasons[("lag-within-rpo", "orders-db-euw1")] == "lag 412 s > RPO 300 s"
        assert "metric stale" in reasons[("lag-within-rpo", "customers-db-euw1")]


@pytest.mark.e2e
class TestSandboxServer:
    def test_drctl_readiness_and_status_as_a_subprocess(self, sandbox_server: ServerSandbox) -> None:
        """`drctl readiness --env qa` exits 0, then 1 once a qa health check fails; `drctl status` names it."""
        ready = sandbox_server.run_drctl("readiness", "--env", "qa", "-o", "json")
        assert ready.returncode == 0, ready.stdout + ready.stderr
        hc = sandbox_server.topology.dns[0].health_checks["qa"]
        sandbox_server.control.set_health(hc, False)
        not_ready = sandbox_server.run_drctl("readiness", "--env", "qa", "-o", "json")
        assert not_ready.returncode == 1
        failing = [c for c in json.loads(not_ready.stdout)["checks"] if not c["ok"]]
        assert [c["resource"] for c in failing] == [hc]
        status = sandbox_server.run_drctl("status", "-o", "json")
        assert status.returncode == 0
        health = {h["id"]: h["healthy"] for h in json.loads(status.stdout)["health_checks"]}
        assert health[hc] is False
