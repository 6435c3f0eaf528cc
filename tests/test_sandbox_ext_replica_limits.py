"""The sandbox refuses replicas and stops as AWS does: KMS keys for encrypted cross-Region replicas, backups on
the source, no stop of an instance with replicas; replicas start without backups and promotions default to 1 day."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from dr.sandbox.control import LocalControl
from tests.sandbox_ext_support import orders_primary_and_replica
from tests.sandbox_ext_support import rds as _rds

CENTRAL, WEST = "eu-central-1", "eu-west-1"


def _key(region: str, alias: str = "alias/dr") -> str:
    """A KMS key under `alias` in `region`; returns the key's ARN."""
    kms = boto3.client("kms", region_name=region)
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    return str(key["Arn"])


def _encrypted_primary(retention: int = 7) -> dict[str, Any]:
    return _rds(CENTRAL).create_db_instance(  # type: ignore[no-any-return]
        DBInstanceIdentifier="orders-db", DBInstanceClass="db.t3.micro", Engine="postgres", MasterUsername="admin",
        MasterUserPassword="password1", StorageEncrypted=True, KmsKeyId=_key(CENTRAL),
        BackupRetentionPeriod=retention)["DBInstance"]


def _encrypted_cluster() -> dict[str, Any]:
    return _rds(CENTRAL).create_db_cluster(  # type: ignore[no-any-return]
        DBClusterIdentifier="inventory", Engine="aurora-mysql", MasterUsername="admin", MasterUserPassword="password1",
        StorageEncrypted=True, KmsKeyId=_key(CENTRAL))["DBCluster"]


def _code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


class TestKmsKeyForEncryptedCrossRegionReplicas:
    def test_an_encrypted_cross_region_replica_without_a_key_is_refused(self, sandbox_control: LocalControl) -> None:
        """CreateDBInstanceReadReplica of an encrypted source in another region without KmsKeyId: refused."""
        primary = _encrypted_primary()
        with pytest.raises(ClientError) as err:
            _rds(WEST).create_db_instance_read_replica(DBInstanceIdentifier="orders-db-euw1", SourceRegion=CENTRAL,
                                                       SourceDBInstanceIdentifier=primary["DBInstanceArn"])
        assert _code(err) == "InvalidParameterCombination"
        assert "KmsKeyId" in err.value.response["Error"]["Message"]
        assert _rds(WEST).describe_db_instances()["DBInstances"] == []

    def test_a_key_of_another_region_or_unknown_alias_is_not_accessible(self, sandbox_control: LocalControl) -> None:
        """The source region's key, or an alias that does not exist in the destination: KMSKeyNotAccessibleFault."""
        primary = _encrypted_primary()
        central_key = _rds(CENTRAL).describe_db_instances()["DBInstances"][0]["KmsKeyId"]
        for key in (central_key, "alias/missing"):
            with pytest.raises(ClientError) as err:
                _rds(WEST).create_db_instance_read_replica(
                    DBInstanceIdentifier="orders-db-euw1", SourceRegion=CENTRAL, KmsKeyId=key,
                    SourceDBInstanceIdentifier=primary["DBInstanceArn"])
            assert _code(err) == "KMSKeyNotAccessibleFault"

    def test_a_replica_with_a_destination_key_is_encrypted_with_that_key(self, sandbox_control: LocalControl) -> None:
        """With KmsKeyId naming a key of the destination by alias, the replica reports that key's ARN."""
        primary = _encrypted_primary()
        west_key = _key(WEST)
        replica = _rds(WEST).create_db_instance_read_replica(
            DBInstanceIdentifier="orders-db-euw1", SourceRegion=CENTRAL, KmsKeyId="alias/dr",
            SourceDBInstanceIdentifier=primary["DBInstanceArn"])["DBInstance"]
        assert replica["KmsKeyId"] == west_key
        assert replica["StorageEncrypted"] is True

    def test_an_unencrypted_source_needs_no_key(self, sandbox_control: LocalControl) -> None:
        """The rule is only for encrypted sources: the plain replica of the other tests is still created."""
        orders_primary_and_replica()
        assert _rds(WEST).describe_db_instances()["DBInstances"][0]["DBInstanceIdentifier"] == "orders-db-euw1"

    def test_an_encrypted_cross_region_replica_cluster_needs_a_destination_key(
        self, sandbox_control: LocalControl
    ) -> None:
        """CreateDBCluster with ReplicationSourceIdentifier of an encrypted cluster: no key refused; with one,
        the replica cluster is encrypted with it."""
        source = _encrypted_cluster()
        args = {"DBClusterIdentifier": "inventory-euw1", "Engine": "aurora-mysql", "SourceRegion": CENTRAL,
                "ReplicationSourceIdentifier": source["DBClusterArn"], "MasterUsername": "admin",
                "MasterUserPassword": "password1"}
        with pytest.raises(ClientError) as err:
            _rds(WEST).create_db_cluster(**args)
        assert _code(err) == "InvalidParameterCombination"
        west_key = _key(WEST)
        created = _rds(WEST).create_db_cluster(**args, KmsKeyId="alias/dr")["DBCluster"]
        assert (created["StorageEncrypted"], created["KmsKeyId"]) == (True, west_key)


class TestSourceBackups:
    def test_a_source_without_automated_backups_cannot_have_a_replica(self, sandbox_control: LocalControl) -> None:
        """BackupRetentionPeriod 0 on the source: CreateDBInstanceReadReplica is InvalidDBInstanceState."""
        _rds(CENTRAL).create_db_instance(DBInstanceIdentifier="orders-db", DBInstanceClass="db.t3.micro",
                                         Engine="postgres", MasterUsername="admin", MasterUserPassword="password1",
                                         BackupRetentionPeriod=0)
        with pytest.raises(ClientError) as err:
            _rds(CENTRAL).create_db_instance_read_replica(DBInstanceIdentifier="orders-db-r",
                                                          SourceDBInstanceIdentifier="orders-db")
        assert _code(err) == "InvalidDBInstanceState"
        assert "Automated backups are not enabled" in err.value.response["Error"]["Message"]


class TestReplicaBackups:
    def test_a_new_replica_has_backups_off(self, sandbox_control: LocalControl) -> None:
        """AWS creates read replicas with backups disabled, whatever the source keeps."""
        _encrypted_primary(retention=14)
        replica = _rds(CENTRAL).create_db_instance_read_replica(DBInstanceIdentifier="orders-db-r",
                                                                SourceDBInstanceIdentifier="orders-db")["DBInstance"]
        assert replica["BackupRetentionPeriod"] == 0

    def test_a_promotion_without_backup_settings_keeps_one_day(self, sandbox_control: LocalControl) -> None:
        """PromoteReadReplica without BackupRetentionPeriod: 1 day (the API default), not the source's 14."""
        _encrypted_primary(retention=14)
        _rds(CENTRAL).create_db_instance_read_replica(DBInstanceIdentifier="orders-db-r",
                                                      SourceDBInstanceIdentifier="orders-db")
        _rds(CENTRAL).promote_read_replica(DBInstanceIdentifier="orders-db-r")
        found = _rds(CENTRAL).describe_db_instances(DBInstanceIdentifier="orders-db-r")["DBInstances"][0]
        assert found["BackupRetentionPeriod"] == 1

    def test_a_promotion_with_backup_settings_keeps_them(self, sandbox_control: LocalControl) -> None:
        """BackupRetentionPeriod and PreferredBackupWindow given to the promotion are what the writer has."""
        _encrypted_primary(retention=14)
        _rds(CENTRAL).create_db_instance_read_replica(DBInstanceIdentifier="orders-db-r",
                                                      SourceDBInstanceIdentifier="orders-db")
        _rds(CENTRAL).promote_read_replica(DBInstanceIdentifier="orders-db-r", BackupRetentionPeriod=14,
                                           PreferredBackupWindow="02:00-02:30")
        found = _rds(CENTRAL).describe_db_instances(DBInstanceIdentifier="orders-db-r")["DBInstances"][0]
        assert (found["BackupRetentionPeriod"], found["PreferredBackupWindow"]) == (14, "02:00-02:30")


class TestStop:
    def test_an_instance_with_a_read_replica_cannot_be_stopped(self, sandbox_control: LocalControl) -> None:
        """StopDBInstance of a primary that still has a replica: InvalidDBInstanceState; it stays available."""
        orders_primary_and_replica()
        with pytest.raises(ClientError) as err:
            _rds(CENTRAL).stop_db_instance(DBInstanceIdentifier="orders-db")
        assert _code(err) == "InvalidDBInstanceState"
        assert "read replicas" in err.value.response["Error"]["Message"]
        found = _rds(CENTRAL).describe_db_instances(DBInstanceIdentifier="orders-db")["DBInstances"][0]
        assert found["DBInstanceStatus"] == "available"

    def test_a_read_replica_cannot_be_stopped(self, sandbox_control: LocalControl) -> None:
        """StopDBInstance of a replica: InvalidDBInstanceState (moto said InvalidDBClusterStateFault)."""
        orders_primary_and_replica()
        with pytest.raises(ClientError) as err:
            _rds(WEST).stop_db_instance(DBInstanceIdentifier="orders-db-euw1")
        assert _code(err) == "InvalidDBInstanceState"

    def test_a_primary_whose_replica_was_promoted_can_be_stopped(self, sandbox_control: LocalControl) -> None:
        """Once its replica is promoted (unlinked), the former primary stops as usual."""
        orders_primary_and_replica()
        _rds(WEST).promote_read_replica(DBInstanceIdentifier="orders-db-euw1", BackupRetentionPeriod=7)
        stopped = _rds(CENTRAL).stop_db_instance(DBInstanceIdentifier="orders-db")["DBInstance"]
        assert stopped["DBInstanceStatus"] in ("stopped", "stopping")


class TestOptionGroups:
    def test_a_postgresql_16_option_group_can_be_created(self, sandbox_control: LocalControl) -> None:
        """AWS offers option groups for current PostgreSQL versions; moto's table stopped at 13."""
        created = _rds(CENTRAL).create_option_group(OptionGroupName="pg16", EngineName="postgres",
                                                    MajorEngineVersion="16", OptionGroupDescription="d")
        assert created["OptionGroup"]["MajorEngineVersion"] == "16"


class TestCascadingPostgresReplicas:
    def test_a_postgresql_replica_without_backups_can_be_the_source_of_another(
        self, sandbox_control: LocalControl
    ) -> None:
        """RDS for PostgreSQL cascading replicas: the intermediate replica has no backups and is still a source."""
        orders_primary_and_replica()
        assert _rds(WEST).describe_db_instances()["DBInstances"][0]["BackupRetentionPeriod"] == 0
        created = _rds(WEST).create_db_instance_read_replica(DBInstanceIdentifier="orders-db-euw1-2",
                                                             SourceDBInstanceIdentifier="orders-db-euw1")
        assert created["DBInstance"]["ReadReplicaSourceDBInstanceIdentifier"] == "orders-db-euw1"
