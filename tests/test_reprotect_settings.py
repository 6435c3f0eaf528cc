"""Re-protect and promotions follow the topology's replica settings on a sandbox with encrypted databases,
custom parameter/option groups and 14-day backups; what AWS requires before a replica or a promotion is checked
first, with reasons."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dr.config import load
from dr.config.model import Database, Topology
from runbooks.steps.confirm import Confirm
from tests.conftest import EXAMPLE
from tests.failover_support import Harness, harness, instance, step

NAMES = ("orders", "customers", "inventory", "payments")
CENTRAL, WEST = "eu-central-1", "eu-west-1"
WINDOW = "02:00-02:30"


def _only(name: str) -> Topology:
    example = load(EXAMPLE)
    return example.model_copy(update={"databases": [d for d in example.databases if d.name == name]})


def _db(h: Harness, name: str) -> Database:
    return next(d for d in h.topology.databases if d.name == name)


def _key_arn(h: Harness, region: str) -> str:
    kms = h.sbx.clients.client("kms", "prod", region)
    return str(kms.describe_key(KeyId="alias/drctl-rds")["KeyMetadata"]["Arn"])


def _cluster(h: Harness, region: str, cluster_id: str) -> dict[str, Any]:
    return dict(h.rds(region).describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"][0])


def _failed_back(h: Harness, phase: str = "reprotect", run_id: str = "fb") -> Any:
    for db in h.topology.databases:
        h.set_lag(db.name, 5.0, at_primary=True)
    return h.run("failback", "prod", run_id=run_id, extra={"phase": phase})


@pytest.fixture
def failed_over(tmp_path: Path) -> Iterator[Harness]:
    with harness(tmp_path, load(EXAMPLE)) as h:
        outcome = h.run("failover", "qa")
        assert outcome.exit_code == 0, outcome.report
        yield h


def assert_instance_as_declared(h: Harness, region: str, db_id: str, *, writer: bool) -> None:
    """KMS key of the region, subnet group, security groups, parameter and option groups; writers: backups."""
    found = instance(h, region, db_id)
    assert found is not None
    settings = h.topology.environments["prod"].replica_settings[region]
    assert (found["StorageEncrypted"], found["KmsKeyId"]) == (True, _key_arn(h, region))
    assert found["DBSubnetGroup"]["DBSubnetGroupName"] == "db-private"
    assert [g["VpcSecurityGroupId"] for g in found["VpcSecurityGroups"]] == settings.vpc_security_group_ids
    assert [g["DBParameterGroupName"] for g in found["DBParameterGroups"]] == ["postgres16-dr"]
    assert [g["OptionGroupName"] for g in found["OptionGroupMemberships"]] == ["postgres16-dr"]
    if writer:
        assert (found["BackupRetentionPeriod"], found["PreferredBackupWindow"]) == (14, WINDOW)


def assert_cluster_as_declared(h: Harness, region: str, cluster_id: str) -> None:
    """KMS key of the region, subnet group, security groups, cluster and member parameter groups, backups."""
    found = _cluster(h, region, cluster_id)
    settings = h.topology.environments["prod"].replica_settings[region]
    assert (found["StorageEncrypted"], found["KmsKeyId"]) == (True, _key_arn(h, region))
    assert found["DBSubnetGroup"] == "db-private"
    assert [g["VpcSecurityGroupId"] for g in found["VpcSecurityGroups"]] == settings.vpc_security_group_ids
    assert found["DBClusterParameterGroup"] == "aurora-mysql8-binlog"
    assert (found["BackupRetentionPeriod"], found["PreferredBackupWindow"]) == (14, WINDOW)
    member = found["DBClusterMembers"][0]["DBInstanceIdentifier"]
    member_groups = instance(h, region, member)["DBParameterGroups"]  # type: ignore[index]
    assert [g["DBParameterGroupName"] for g in member_groups] == ["aurora-mysql8-dr"]


class TestConfiguredAsDeclared:
    def test_failover_then_failback_leaves_every_writer_and_replica_as_the_topology_says(
            self, failed_over: Harness) -> None:
        """After failover and a full failback: prod writers and the re-created qa-side replicas have their
        region's KMS key, subnet and security groups, parameter/option groups; writers keep 14 days at 02:00."""
        h = failed_over
        for name in NAMES:
            h.set_lag(name, 5.0)
        outcome = _failed_back(h, phase="all")
        assert outcome.exit_code == 0, outcome.report
        for db_id in ("orders-db", "customers-db"):
            assert_instance_as_declared(h, CENTRAL, db_id, writer=True)
            assert_instance_as_declared(h, WEST, f"{db_id}-euw1", writer=False)
            # AWS creates read replicas with backups off (RDS for PostgreSQL replicas cannot have them at all)
            assert instance(h, WEST, f"{db_id}-euw1")["ReadReplicaSourceDBInstanceIdentifier"]  # type: ignore[index]
        assert_cluster_as_declared(h, CENTRAL, "inventory-cluster")
        assert_cluster_as_declared(h, WEST, "inventory-cluster-euw1")
        assert _cluster(h, WEST, "inventory-cluster-euw1")["ReplicationSourceIdentifier"]
        payments = _cluster(h, CENTRAL, "payments-cluster")
        assert (payments["BackupRetentionPeriod"], payments["PreferredBackupWindow"]) == (14, WINDOW)

    def test_promotion_keeps_the_declared_backups_on_each_new_writer(self, tmp_path: Path) -> None:
        """After the failover each qa-side writer keeps 14 days and 02:00-02:30 (not AWS's 1-day default); an
        Aurora cluster configured otherwise gets them from a ModifyDBCluster after its promotion."""
        with harness(tmp_path, load(EXAMPLE)) as h:
            h.rds(WEST).modify_db_cluster(DBClusterIdentifier="inventory-cluster-euw1", BackupRetentionPeriod=1,
                                          PreferredBackupWindow="05:00-05:30", ApplyImmediately=True)
            outcome = h.run("failover", "qa")
            assert outcome.exit_code == 0, outcome.report
            self._assert_backups(h)
            assert step(outcome.report, "backups:inventory")["status"] == "succeeded"

    @staticmethod
    def _assert_backups(h: Harness) -> None:
        for db_id in ("orders-db-euw1", "customers-db-euw1"):
            found = instance(h, WEST, db_id)
            assert found is not None
            assert (found["BackupRetentionPeriod"], found["PreferredBackupWindow"]) == (14, WINDOW)
        for cluster_id in ("inventory-cluster-euw1", "payments-cluster-euw1"):
            found = _cluster(h, WEST, cluster_id)
            assert (found["BackupRetentionPeriod"], found["PreferredBackupWindow"]) == (14, WINDOW)
        # one ModifyDBCluster in the DR region (the backups); the one in eu-central-1 is the planned move's fence
        assert [c[1] for c in h.faults.calls if c[1] == "ModifyDBCluster" and c[2] == WEST] == ["ModifyDBCluster"]

    def test_confirm_names_a_writer_whose_backups_differ(self, failed_over: Harness) -> None:
        """A writer with 3-day backups is a confirm problem saying what it has and what the topology says."""
        h = failed_over
        h.rds(WEST).modify_db_instance(DBInstanceIdentifier="orders-db-euw1", BackupRetentionPeriod=3,
                                       ApplyImmediately=True)
        problems = Confirm().problems(h.context("failover", "qa"))
        assert any("orders-db-euw1 has backup retention 3 days, expected 14" in p for p in problems), problems

    def test_reprotect_uses_the_topology_not_the_copy_it_replaces(self, failed_over: Harness) -> None:
        """A parameter group changed in the topology after the failover is what the re-created replica gets
        (the fenced copy still has the old one)."""
        h = failed_over
        h.rds(CENTRAL).create_db_parameter_group(DBParameterGroupName="postgres16-dr-v2",
                                                 DBParameterGroupFamily="postgres16", Description="v2")
        orders = _db(h, "orders")
        settings = orders.primary.model_copy(update={"settings": h.topology.settings_for(orders.primary).model_copy(
            update={"parameter_group": "postgres16-dr-v2"})})
        dbs = [d.model_copy(update={"primary": settings}) if d.name == "orders" else d for d in h.topology.databases]
        h.sbx.topology = h.topology.model_copy(update={"databases": dbs})
        outcome = _failed_back(h, run_id="fb-other")
        assert outcome.exit_code == 0, outcome.report
        groups = instance(h, CENTRAL, "orders-db")["DBParameterGroups"]  # type: ignore[index]
        assert [g["DBParameterGroupName"] for g in groups] == ["postgres16-dr-v2"]


class TestReplicaRequirements:
    def test_an_encrypted_writer_without_a_declared_key_is_not_replicated(self, tmp_path: Path) -> None:
        """No kms_key_id for eu-central-1: re-protect refuses before CreateDBInstanceReadReplica, saying what to
        declare where."""
        with harness(tmp_path, _only("orders")) as h:
            assert h.run("failover", "qa").exit_code == 0
            prod = h.topology.environments["prod"]
            central = prod.replica_settings[CENTRAL].model_copy(update={"kms_key_id": None})
            envs = {**h.topology.environments, "prod": prod.model_copy(
                update={"replica_settings": {**prod.replica_settings, CENTRAL: central}})}
            h.sbx.topology = h.topology.model_copy(update={"environments": envs})
            outcome = _failed_back(h)
            assert outcome.exit_code != 0
            error = step(outcome.report, "reprotect:orders")["detail"]
            assert "orders-db-euw1 is encrypted" in error
            assert "environments.prod.replica_settings.eu-central-1" in error
            assert not any(c[1] == "CreateDBInstanceReadReplica" for c in h.faults.calls)

    def test_a_writer_without_automated_backups_is_not_replicated(self, tmp_path: Path) -> None:
        """BackupRetentionPeriod 0 on the writer: re-protect refuses, naming the command that turns backups on."""
        with harness(tmp_path, _only("orders")) as h:
            assert h.run("failover", "qa").exit_code == 0
            h.rds(WEST).modify_db_instance(DBInstanceIdentifier="orders-db-euw1", BackupRetentionPeriod=0,
                                           ApplyImmediately=True)
            outcome = _failed_back(h)
            assert outcome.exit_code != 0
            error = step(outcome.report, "reprotect:orders")["detail"]
            assert "automated backups are off on the source orders-db-euw1" in error
            assert "--backup-retention-period" in error

    def test_an_aurora_mysql_writer_without_binary_logging_is_not_replicated(self, tmp_path: Path) -> None:
        """binlog_format OFF in the writer cluster's parameter group: no cross-Region replica cluster."""
        with harness(tmp_path, _only("inventory")) as h:
            assert h.run("failover", "qa").exit_code == 0
            _set_binlog_format(h, "OFF")
            outcome = _failed_back(h)
            assert outcome.exit_code != 0
            error = step(outcome.report, "reprotect:inventory")["detail"]
            assert "binary logging is off on inventory-cluster-euw1" in error
            assert not any(c[1] == "CreateDBCluster" for c in h.faults.calls)

    def test_a_binlog_format_not_applied_on_the_writer_waits_for_its_reboot(self, tmp_path: Path) -> None:
        """binlog_format changed (MIXED) but the writer not rebooted (pending-reboot): refused naming the cluster, the
        writer and the reboot command; after the reboot, the resumed run creates the replica cluster."""
        with harness(tmp_path, _only("inventory")) as h:
            assert h.run("failover", "qa").exit_code == 0
            _set_binlog_format(h, "MIXED")
            writer = next(m["DBInstanceIdentifier"] for m in _cluster(h, WEST, "inventory-cluster-euw1")[
                "DBClusterMembers"] if m["IsClusterWriter"])
            outcome = _failed_back(h)
            assert outcome.exit_code != 0
            error = step(outcome.report, "reprotect:inventory")["detail"]
            assert (f"aurora-mysql8-binlog of inventory-cluster-euw1 is not in sync on its writer {writer} "
                    "(DBClusterParameterGroupStatus pending-reboot)") in error
            assert f"aws rds reboot-db-instance --db-instance-identifier {writer} --region {WEST}" in error
            assert "drctl resume fb" in error
            assert not any(c[1] == "CreateDBCluster" for c in h.faults.calls)
            h.rds(WEST).reboot_db_instance(DBInstanceIdentifier=writer)
            resumed = h.run("failback", "prod", run_id="fb", resume=True, extra={"phase": "reprotect"})
            assert resumed.exit_code == 0, resumed.report
            assert _cluster(h, CENTRAL, "inventory-cluster")["ReplicationSourceIdentifier"].endswith(
                ":cluster:inventory-cluster-euw1")


class TestPromotionRequirements:
    def test_a_headless_aurora_dr_cluster_is_not_promoted(self, tmp_path: Path) -> None:
        """The DR cluster without a DB instance: prechecks refuse the failover; nothing is promoted."""
        with harness(tmp_path, _only("inventory")) as h:
            h.rds(WEST).delete_db_instance(DBInstanceIdentifier="inventory-cluster-euw1-1", SkipFinalSnapshot=True)
            outcome = h.run("failover", "qa")
            assert outcome.exit_code != 0
            error = step(outcome.report, "prechecks")["detail"]
            assert "inventory-cluster-euw1 in eu-west-1 has no DB instance (headless)" in error
            assert _cluster(h, WEST, "inventory-cluster-euw1")["ReplicationSourceIdentifier"]
            assert not any(c[1] == "PromoteReadReplicaDBCluster" for c in h.faults.calls)


def _set_binlog_format(h: Any, value: str) -> None:
    """`binlog_format` of the DR writer's cluster parameter group (a static parameter: applied at the reboot)."""
    h.rds(WEST).modify_db_cluster_parameter_group(
        DBClusterParameterGroupName="aurora-mysql8-binlog",
        Parameters=[{"ParameterName": "binlog_format", "ParameterValue": value, "ApplyMethod": "pending-reboot"}])
