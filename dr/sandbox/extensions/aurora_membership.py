"""Aurora global-cluster membership across regions: detaching and deleting member clusters.

moto keeps global clusters in the us-east-1 backend but looks them up in the caller's region, so
`RemoveFromGlobalCluster` silently does nothing outside us-east-1 and a deleted member cluster stays
listed. Here the member is found by ARN or id in any region of the account: detaching makes it a
standalone cluster, deleting it drops it from the global cluster.
"""

from __future__ import annotations

from typing import Any

from dr.sandbox.extensions import _guard

GLOBAL_REGION = "us-east-1"


def install() -> None:
    from moto.rds.models import RDSBackend

    _guard.replace(
        RDSBackend,
        "remove_from_global_cluster",
        _remove_from_global_cluster,
        ["global_cluster_identifier", "db_cluster_identifier"],
    )
    _guard.replace(RDSBackend, "delete_db_cluster", _delete_db_cluster, ["cluster_identifier", "snapshot_name"])


def _global_backend(backend: Any) -> Any:
    from moto.rds.models import rds_backends

    return rds_backends[backend.account_id][GLOBAL_REGION]


def _detach(global_cluster: Any, member: Any) -> None:
    global_cluster.members.remove(member)
    member.global_cluster_identifier = None
    member.is_writer = False


def _remove_from_global_cluster(self: Any, global_cluster_identifier: str, db_cluster_identifier: str) -> Any:
    global_cluster = global_cluster_named(_global_backend(self), global_cluster_identifier)
    _detach(global_cluster, member_named(global_cluster, global_cluster_identifier, db_cluster_identifier))
    return global_cluster


def global_cluster_named(backend: Any, global_cluster_identifier: str) -> Any:
    """The global cluster kept by `backend` (moto's us-east-1 backend), else GlobalClusterNotFoundFault."""
    from moto.rds.exceptions import RDSClientError

    global_cluster = backend.global_clusters.get(global_cluster_identifier)
    if global_cluster is None:
        raise RDSClientError("GlobalClusterNotFoundFault", f"Global cluster {global_cluster_identifier} not found.")
    return global_cluster


def member_named(global_cluster: Any, global_cluster_identifier: str, cluster: str) -> Any:
    """The member named by ARN or identifier, else DBClusterNotFoundFault."""
    from moto.rds.exceptions import RDSClientError

    member = next((m for m in global_cluster.members if cluster in (m.db_cluster_arn, m.db_cluster_identifier)), None)
    if member is None:
        raise RDSClientError(
            "DBClusterNotFoundFault",
            f"DB cluster {cluster} is not a member of global cluster {global_cluster_identifier}.",
        )
    return member


def _delete_db_cluster(self: Any, cluster_identifier: str, snapshot_name: str | None = None) -> Any:
    cluster = self.clusters.get(cluster_identifier)
    if cluster is not None and not cluster.deletion_protection and not cluster.members:
        for global_cluster in _global_backend(self).global_clusters.values():
            if cluster in global_cluster.members:
                _detach(global_cluster, cluster)
    delete = _guard.original(type(self), "delete_db_cluster")
    return delete(self, cluster_identifier, snapshot_name)
