"""The sandbox's Aurora-cloning fidelity fix that drills rely on: a clone is a standalone cluster."""

from __future__ import annotations

from drill_support import shared_sandbox

from dr.testing import InProcessSandbox

__all__ = ["shared_sandbox"]


class TestAuroraCloneInSandbox:
    def test_clone_of_a_global_secondary_is_not_a_global_member(self, shared_sandbox: InProcessSandbox) -> None:
        """Cloning the DR secondary leaves the global cluster's members as they were; the clone has none."""
        rds = shared_sandbox.clients.client("rds", "prod", "eu-west-1")
        members = rds.describe_global_clusters(GlobalClusterIdentifier="payments-global")["GlobalClusters"][0][
            "GlobalClusterMembers"]
        clone = rds.restore_db_cluster_to_point_in_time(
            DBClusterIdentifier="c1", SourceDBClusterIdentifier="payments-cluster-euw1", RestoreType="copy-on-write",
            UseLatestRestorableTime=True)["DBCluster"]
        assert clone.get("GlobalClusterIdentifier") is None
        assert clone.get("ReplicationSourceIdentifier") is None
        assert clone.get("MasterUsername")
        after = rds.describe_global_clusters(GlobalClusterIdentifier="payments-global")["GlobalClusters"][0][
            "GlobalClusterMembers"]
        assert after == members

    def test_clone_of_a_replica_cluster_does_not_replicate(self, shared_sandbox: InProcessSandbox) -> None:
        """Cloning the DR replica cluster neither replicates from its source nor appears in the source's replicas."""
        rds = shared_sandbox.clients.client("rds", "prod", "eu-west-1")
        primary = shared_sandbox.clients.client("rds", "prod", "eu-central-1")
        replicas = primary.describe_db_clusters(DBClusterIdentifier="inventory-cluster")["DBClusters"][0][
            "ReadReplicaIdentifiers"]
        clone = rds.restore_db_cluster_to_point_in_time(
            DBClusterIdentifier="c2", SourceDBClusterIdentifier="inventory-cluster-euw1", RestoreType="copy-on-write",
            UseLatestRestorableTime=True)["DBCluster"]
        assert clone.get("ReplicationSourceIdentifier") is None
        assert primary.describe_db_clusters(DBClusterIdentifier="inventory-cluster")["DBClusters"][0][
            "ReadReplicaIdentifiers"] == replicas
