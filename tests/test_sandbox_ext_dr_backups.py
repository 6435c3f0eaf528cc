"""The sandbox's RDS account quotas, replicated automated backups and AWS Backup recovery points, as AWS answers."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from dr.clock import FakeClock
from dr.sandbox.control import LocalControl, SandboxControlError
from tests.sandbox_ext_support import orders_primary_and_replica
from tests.sandbox_ext_support import rds as _rds

ACCOUNT = "123456789012"


def quotas(region: str) -> dict[str, tuple[int, int]]:
    return {q["AccountQuotaName"]: (q["Used"], q["Max"])
            for q in _rds(region).describe_account_attributes()["AccountQuotas"]}


class TestAccountQuotas:
    def test_usage_counts_the_regions_instances_and_the_maximum_is_awss_default(
        self, sandbox_control: LocalControl
    ) -> None:
        """DBInstances counts each region's own instances against 40; a replica's source counts its replicas."""
        orders_primary_and_replica()
        assert quotas("eu-west-1")["DBInstances"] == (1, 40)
        assert quotas("eu-central-1")["DBInstances"] == (1, 40)
        assert quotas("eu-west-1")["DBClusters"] == (0, 40)

    def test_a_quota_set_through_the_control_is_reported_in_that_region_only(
        self, sandbox_control: LocalControl
    ) -> None:
        """set_rds_quota changes Max for one account and region, as a quota increase would; unknown names refused."""
        sandbox_control.set_rds_quota(ACCOUNT, "eu-west-1", "DBInstances", 2)
        assert quotas("eu-west-1")["DBInstances"] == (0, 2)
        assert quotas("eu-central-1")["DBInstances"] == (0, 40)
        with pytest.raises(SandboxControlError, match="unknown RDS quota"):
            sandbox_control.set_rds_quota(ACCOUNT, "eu-west-1", "Snapshots", 2)


class TestReplicatedAutomatedBackups:
    def test_a_seeded_replicated_backup_is_listed_in_the_destination_region_with_its_restore_window(
            self, sandbox_control: LocalControl, control_clock: FakeClock) -> None:
        """In the DR region the source's backup shows with its ARN, its region, `replicating` and LatestTime."""
        arn = orders_primary_and_replica()
        sandbox_control.set_dr_backup(ACCOUNT, "eu-west-1", arn, 3600)
        listed = [b for b in _rds("eu-west-1").describe_db_instance_automated_backups()["DBInstanceAutomatedBackups"]
                  if b["DBInstanceArn"] == arn]
        assert len(listed) == 1
        assert (listed[0]["Region"], listed[0]["Status"]) == ("eu-central-1", "replicating")
        assert (control_clock.now() - listed[0]["RestoreWindow"]["LatestTime"]).total_seconds() == 3600
        other = _rds("eu-central-1").describe_db_instance_automated_backups()["DBInstanceAutomatedBackups"]
        assert all("RestoreWindow" not in b for b in other)

    def test_removing_it_leaves_moto_s_own_listing(self, sandbox_control: LocalControl) -> None:
        """set_dr_backup(..., None) removes the replicated backup: no entry with the source's ARN remains."""
        arn = orders_primary_and_replica()
        sandbox_control.set_dr_backup(ACCOUNT, "eu-west-1", arn, 60)
        sandbox_control.set_dr_backup(ACCOUNT, "eu-west-1", arn, None)
        listed = _rds("eu-west-1").describe_db_instance_automated_backups()["DBInstanceAutomatedBackups"]
        assert all(b.get("DBInstanceArn") != arn for b in listed)


class TestRecoveryPoints:
    def test_points_of_a_resource_in_a_vault_are_listed_and_a_missing_vault_is_not_found(
            self, sandbox_control: LocalControl, control_clock: FakeClock) -> None:
        """ByResourceArn keeps one resource's COMPLETED points with CreationDate; an absent vault is refused."""
        backup = boto3.client("backup", region_name="eu-west-1")
        backup.create_backup_vault(BackupVaultName="dr-vault")
        arn = f"arn:aws:rds:eu-central-1:{ACCOUNT}:cluster:inventory"
        sandbox_control.set_recovery_point(ACCOUNT, "eu-west-1", "dr-vault", arn, 7200)
        other = f"arn:aws:rds:eu-central-1:{ACCOUNT}:db:x"
        sandbox_control.set_recovery_point(ACCOUNT, "eu-west-1", "dr-vault", other, 60)
        points = backup.list_recovery_points_by_backup_vault(BackupVaultName="dr-vault",
                                                             ByResourceArn=arn)["RecoveryPoints"]
        assert [(p["ResourceArn"], p["ResourceType"], p["Status"]) for p in points] == [(arn, "Aurora", "COMPLETED")]
        assert (control_clock.now() - points[0]["CreationDate"]).total_seconds() == 7200
        with pytest.raises(ClientError) as err:
            backup.list_recovery_points_by_backup_vault(BackupVaultName="absent")
        assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
