"""A changed static cluster parameter (binlog_format) waits for a reboot in the sandbox: members read
`pending-reboot` until RebootDBInstance, as on AWS."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from dr.sandbox.control import LocalControl
from tests.sandbox_ext_support import rds

REGION = "eu-central-1"
GROUP = "ledger-binlog"


def _set(name: str, value: str, method: str = "pending-reboot") -> None:
    rds(REGION).modify_db_cluster_parameter_group(DBClusterParameterGroupName=GROUP, Parameters=[
        {"ParameterName": name, "ParameterValue": value, "ApplyMethod": method}])


def _statuses(cluster_id: str) -> dict[str, str]:
    found = rds(REGION).describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"][0]
    return {m["DBInstanceIdentifier"]: m["DBClusterParameterGroupStatus"] for m in found["DBClusterMembers"]}


def _cluster(cluster_id: str, members: int, **group: Any) -> None:
    rds(REGION).create_db_cluster(DBClusterIdentifier=cluster_id, Engine="aurora-mysql", MasterUsername="admin",
                                  MasterUserPassword="password1", **group)
    for n in range(1, members + 1):
        rds(REGION).create_db_instance(DBInstanceIdentifier=f"{cluster_id}-{n}", DBClusterIdentifier=cluster_id,
                                       Engine="aurora-mysql", DBInstanceClass="db.r6g.large")


@pytest.fixture
def ledger(sandbox_control: LocalControl) -> str:
    """ledger (writer ledger-1, reader ledger-2) on the custom group with binlog_format ROW; other on the default."""
    rds(REGION).create_db_cluster_parameter_group(DBClusterParameterGroupName=GROUP,
                                                  DBParameterGroupFamily="aurora-mysql8.0", Description="test")
    _set("binlog_format", "ROW")  # before any cluster uses the group: nothing to reboot
    _cluster("ledger", 2, DBClusterParameterGroupName=GROUP)
    _cluster("other", 1)
    return "ledger"


class TestStaticClusterParameters:
    def test_members_start_in_sync(self, ledger: str) -> None:
        """A group set before the cluster used it: every member boots with it (in-sync)."""
        assert _statuses(ledger) == {"ledger-1": "in-sync", "ledger-2": "in-sync"}

    def test_a_changed_binlog_format_leaves_the_groups_members_pending_reboot(self, ledger: str) -> None:
        """binlog_format changed: the group shows the new value at once, its clusters' members read pending-reboot,
        a cluster on another group stays in-sync (moto alone reports in-sync everywhere)."""
        _set("binlog_format", "OFF")
        assert _statuses(ledger) == {"ledger-1": "pending-reboot", "ledger-2": "pending-reboot"}
        assert _statuses("other") == {"other-1": "in-sync"}
        params = rds(REGION).describe_db_cluster_parameters(DBClusterParameterGroupName=GROUP)["Parameters"]
        assert [p["ParameterValue"] for p in params if p["ParameterName"] == "binlog_format"] == ["OFF"]

    def test_rebooting_a_member_brings_it_in_sync(self, ledger: str) -> None:
        """RebootDBInstance of the writer: it reads in-sync; the reader not rebooted still pending-reboot."""
        _set("binlog_format", "MIXED")
        rds(REGION).reboot_db_instance(DBInstanceIdentifier="ledger-1")
        assert _statuses(ledger) == {"ledger-1": "in-sync", "ledger-2": "pending-reboot"}

    def test_immediate_is_refused_for_a_static_parameter(self, ledger: str) -> None:
        """ApplyMethod immediate for binlog_format: InvalidParameterCombination, the value and members unchanged."""
        with pytest.raises(ClientError) as err:
            _set("binlog_format", "OFF", "immediate")
        assert err.value.response["Error"]["Code"] == "InvalidParameterCombination"
        params = rds(REGION).describe_db_cluster_parameters(DBClusterParameterGroupName=GROUP)["Parameters"]
        assert [p["ParameterValue"] for p in params if p["ParameterName"] == "binlog_format"] == ["ROW"]
        assert _statuses(ledger) == {"ledger-1": "in-sync", "ledger-2": "in-sync"}

    def test_a_dynamic_parameter_applies_at_once(self, ledger: str) -> None:
        """A parameter that is not static, applied immediately: no member waits for a reboot."""
        _set("innodb_lock_wait_timeout", "120", "immediate")
        assert _statuses(ledger) == {"ledger-1": "in-sync", "ledger-2": "in-sync"}

    def test_a_member_added_after_the_change_boots_in_sync(self, ledger: str) -> None:
        """An instance created after the change starts with the group's values: in-sync, the others still wait."""
        _set("binlog_format", "OFF")
        rds(REGION).create_db_instance(DBInstanceIdentifier="ledger-3", DBClusterIdentifier=ledger,
                                       Engine="aurora-mysql", DBInstanceClass="db.r6g.large")
        assert _statuses(ledger) == {"ledger-1": "pending-reboot", "ledger-2": "pending-reboot",
                                     "ledger-3": "in-sync"}

    def test_a_cross_region_replica_of_a_source_whose_writer_waits_is_refused(self, ledger: str) -> None:
        """CreateDBCluster replicating ledger while its writer is pending-reboot: refused with AWS's message and no
        cluster; once the writer rebooted (the reader may still wait), the replica cluster is created."""
        _set("binlog_format", "MIXED")
        arn = rds(REGION).describe_db_clusters(DBClusterIdentifier=ledger)["DBClusters"][0]["DBClusterArn"]
        replica = {"DBClusterIdentifier": "ledger-euw1", "Engine": "aurora-mysql",
                   "ReplicationSourceIdentifier": arn, "SourceRegion": REGION}
        with pytest.raises(ClientError) as err:
            rds("eu-west-1").create_db_cluster(**replica)
        assert "doesn't have cluster parameter group in sync on writer" in str(err.value)
        assert rds("eu-west-1").describe_db_clusters()["DBClusters"] == []
        rds(REGION).reboot_db_instance(DBInstanceIdentifier="ledger-1")
        created = rds("eu-west-1").create_db_cluster(**replica)["DBCluster"]
        assert created["ReplicationSourceIdentifier"] == arn
