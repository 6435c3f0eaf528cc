"""A cross-Region Aurora replica cluster in the sandbox: created without a master user, as AWS does it."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from dr.sandbox.control import LocalControl
from tests.sandbox_ext_support import rds

SOURCE_ARN = "arn:aws:rds:eu-central-1:123456789012:cluster:ledger"


@pytest.fixture
def source(sandbox_control: LocalControl) -> str:
    created = rds("eu-central-1").create_db_cluster(
        DBClusterIdentifier="ledger", Engine="aurora-mysql", MasterUsername="ledger_admin",
        MasterUserPassword="password1")["DBCluster"]
    return str(created["DBClusterArn"])


class TestReplicaClusterWithoutMasterUser:
    def test_a_replica_cluster_needs_no_master_username(self, source: str) -> None:
        """CreateDBCluster with ReplicationSourceIdentifier and no MasterUsername makes a linked replica (moto alone
        refuses: "The parameter MasterUsername must be provided")."""
        created = rds("eu-west-1").create_db_cluster(
            DBClusterIdentifier="ledger-euw1", Engine="aurora-mysql", ReplicationSourceIdentifier=source,
            SourceRegion="eu-central-1")["DBCluster"]
        assert created["ReplicationSourceIdentifier"] == source
        source_view = rds("eu-central-1").describe_db_clusters(DBClusterIdentifier="ledger")["DBClusters"][0]
        assert source_view["ReadReplicaIdentifiers"] == [created["DBClusterArn"]]

    def test_the_master_username_is_taken_from_the_source(self, source: str) -> None:
        """AWS takes the master user from the source cluster: describe shows the source's name."""
        rds("eu-west-1").create_db_cluster(DBClusterIdentifier="ledger-euw1", Engine="aurora-mysql",
                                           ReplicationSourceIdentifier=source, SourceRegion="eu-central-1")
        replica = rds("eu-west-1").describe_db_clusters(DBClusterIdentifier="ledger-euw1")["DBClusters"][0]
        assert replica["MasterUsername"] == "ledger_admin"

    def test_a_cluster_that_is_no_replica_still_needs_a_master_username(self, sandbox_control: LocalControl) -> None:
        """Only replicas inherit a master user: a standalone cluster without one is refused as in AWS."""
        with pytest.raises(ClientError) as err:
            rds("eu-west-1").create_db_cluster(DBClusterIdentifier="plain", Engine="aurora-mysql")
        assert "MasterUsername" in str(err.value)

    def test_a_missing_source_is_refused(self, sandbox_control: LocalControl) -> None:
        """A replica of a cluster that does not exist is DBClusterNotFoundFault, not a cluster with no source."""
        with pytest.raises(ClientError) as err:
            rds("eu-west-1").create_db_cluster(DBClusterIdentifier="ledger-euw1", Engine="aurora-mysql",
                                               ReplicationSourceIdentifier=SOURCE_ARN.replace("ledger", "nope"),
                                               SourceRegion="eu-central-1")
        assert err.value.response["Error"]["Code"] == "DBClusterNotFoundFault"
        assert rds("eu-west-1").describe_db_clusters()["DBClusters"] == []
