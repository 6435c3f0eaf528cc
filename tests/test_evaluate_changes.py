"""Plan evaluation against the sandbox, the checks that need AWS changed: each fails (or passes) with its reason."""

from __future__ import annotations

import json

from test_evaluate import DR_REGION, PROD, enable_replica_backups, outcome

from dr.testing import InProcessSandbox


class TestResourcesChanges:
    def test_a_missing_replica_fails_saying_so(self, sandbox: InProcessSandbox) -> None:
        """A deleted replica is named, with `not found` and how to re-create it."""
        rds = sandbox.clients.client("rds", "prod", DR_REGION)
        rds.promote_read_replica(DBInstanceIdentifier="customers-db-euw1")
        rds.delete_db_instance(DBInstanceIdentifier="customers-db-euw1", SkipFinalSnapshot=True)
        found = outcome(sandbox, "resources")
        assert not found.ok
        assert "customers-db-euw1 (prod/eu-west-1): replica of customers not found" in found.reason

    def test_a_promoted_replica_fails_as_not_replicating(self, sandbox: InProcessSandbox) -> None:
        """A replica that was promoted (writable) no longer has the replica role the topology gives it."""
        sandbox.clients.client("rds", "prod", DR_REGION).promote_read_replica(DBInstanceIdentifier="orders-db-euw1")
        found = outcome(sandbox, "resources")
        assert not found.ok
        assert "orders-db-euw1" in found.reason
        assert "replicates from nothing (writable)" in found.reason


class TestRdsQuotaChanges:
    def test_a_full_quota_fails_with_used_max_and_need(self, sandbox: InProcessSandbox) -> None:
        """DBInstances at its maximum in the DR region: the re-protect's extra instances do not fit."""
        used = len(sandbox.clients.client("rds", "prod", DR_REGION).describe_db_instances()["DBInstances"])
        sandbox.control.set_rds_quota(PROD, DR_REGION, "DBInstances", used)
        found = outcome(sandbox, "rds-quota")
        assert not found.ok
        assert f"DBInstances in prod/{DR_REGION}: {used} used of {used}: a re-protect creates 3 more" in found.reason


class TestReplicaBackupsChanges:
    def test_replicas_with_backups_pass(self, sandbox: InProcessSandbox) -> None:
        """With retention set on the instance replicas, every replica has backups on."""
        enable_replica_backups(sandbox)
        found = outcome(sandbox, "replica-backups")
        assert found.ok, found.reason


class TestCli:
    def test_json_exit_1_while_a_check_fails_then_0(self, sandbox: InProcessSandbox) -> None:
        """`drctl plan evaluate --to qa -o json`: exit 1 with the failing check and reason, 0 once fixed."""
        from typer.testing import CliRunner

        from dr.cli.main import app

        args = ["plan", "evaluate", "--to", "qa", "-c", str(sandbox.config_path), "-o", "json"]
        first = CliRunner().invoke(app, args)
        assert first.exit_code == 1, first.output
        document = json.loads(first.output)
        failing = {c["check"]: c["reason"] for c in document["checks"] if not c["ok"]}
        assert list(failing) == ["replica-backups"]
        enable_replica_backups(sandbox)
        second = CliRunner().invoke(app, args)
        assert second.exit_code == 0, second.output
        assert json.loads(second.output)["ok"] is True
