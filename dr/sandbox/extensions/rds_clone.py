"""Aurora cloning and point-in-time restore as AWS does them: the new cluster is independent.

moto copies every attribute of the source cluster, so a clone of a global secondary joins the global
cluster and a clone of a replica cluster replicates from the replica's source (which lists it). In AWS a
restored or cloned cluster is standalone: no global-cluster membership, no replication source, no replicas;
its credentials are the source volume's (for a global secondary, the global writer's).
"""

from __future__ import annotations

from typing import Any

from dr.sandbox.extensions import _guard

PARAMS = ["db_cluster_identifier", "source_db_cluster_identifier", "restore_type", "restore_to_time",
          "use_latest_restorable_time", "overrides"]


def install() -> None:
    from moto.rds.models import RDSBackend

    _guard.replace(RDSBackend, "restore_db_cluster_to_point_in_time", _restore, PARAMS)


def _restore(  # noqa: PLR0917 - moto's positional signature
        self: Any, db_cluster_identifier: str, source_db_cluster_identifier: str,
             restore_type: str = "full-copy", restore_to_time: Any = None, use_latest_restorable_time: bool = False,
             **overrides: Any) -> Any:
    from moto.rds.models import RDSBackend

    original = _guard.original(RDSBackend, "restore_db_cluster_to_point_in_time")
    overrides.update(global_cluster_identifier=None, replication_source_identifier=None,
                     read_replica_identifiers=[])
    source = self.describe_db_clusters(db_cluster_identifier=source_db_cluster_identifier)[0]
    if not source.master_username:
        writer = _global_writer(self, source)
        if writer is not None:
            overrides.update(master_username=writer.master_username,
                             master_user_password=getattr(writer, "_master_user_password", None) or "sandbox-clone-1")
    return original(self, db_cluster_identifier, source_db_cluster_identifier, restore_type, restore_to_time,
                    use_latest_restorable_time, **overrides)


def _global_writer(backend: Any, cluster: Any) -> Any | None:
    """The writer cluster of `cluster`'s global database (moto keeps global clusters in us-east-1)."""
    from moto.rds.models import rds_backends

    global_id = getattr(cluster, "global_cluster_identifier", None)
    if not global_id:
        return None
    global_cluster = rds_backends[backend.account_id]["us-east-1"].global_clusters.get(global_id)
    members = global_cluster.members if global_cluster is not None else []
    return next((m for m in members if m.is_writer), None)
