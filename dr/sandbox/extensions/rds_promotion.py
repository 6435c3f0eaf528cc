"""RDS and Aurora promotion as AWS does it: unlink, refuse when not a replica or not available, take time.

moto only flips a flag on `promote_read_replica` (the replica keeps its source, the primary keeps
listing it), promotes non-replicas silently, answers a missing id with a bare KeyError, and cannot
delete a linked cross-region replica. Here: the replica is unlinked on both sides (the primary may
live in another region's backend), the status reads `modifying` (clusters: `promoting`) for
`STATE.promotion_seconds` (or the database's own time) and then `available`, and each promotion is
recorded for detection-latency measurements. The data model (`dr.sandbox.data`) is told when a
promotion begins: the copy keeps what it had applied and writes a new branch once available.
"""

from __future__ import annotations

from typing import Any

from dr.sandbox.data.load import promotion_started
from dr.sandbox.extensions import _guard, transitions
from dr.sandbox.extensions.rds_replica_backups import promotion_defaults
from dr.sandbox.extensions.state import STATE

INSTANCE_PROMOTING = "modifying"
CLUSTER_PROMOTING = "promoting"
AVAILABLE = "available"


def install() -> None:
    from moto.rds import models

    _guard.require_attrs(models, ["RDSBackend", "DBInstance", "DBCluster", "rds_backends", "find_cluster"], "moto.rds")
    _guard.require_attrs(models.RDSBackend, ["describe_db_instances", "describe_db_clusters"], "RDSBackend")
    transitions.install_on(models.DBInstance)
    transitions.install_on(models.DBCluster)
    _guard.replace(models.RDSBackend, "promote_read_replica", _promote_read_replica, ["db_kwargs"])
    _guard.replace(
        models.RDSBackend,
        "promote_read_replica_db_cluster",
        _promote_read_replica_db_cluster,
        ["db_cluster_identifier"],
    )
    _guard.replace(
        models.RDSBackend,
        "delete_db_instance",
        _delete_db_instance,
        ["db_instance_identifier", "final_db_snapshot_identifier", "skip_final_snapshot", "delete_automated_backups"],
    )
    _guard.replace(models.DBInstance, "remove_replica", _remove_replica, ["replica"])


def _invalid_instance_state(message: str) -> Exception:
    from moto.rds.exceptions import RDSClientError

    return RDSClientError("InvalidDBInstanceState", message)


def _promote_read_replica(self: Any, db_kwargs: Any) -> Any:
    identifier = db_kwargs["db_instance_identifier"]
    database = self.describe_db_instances(identifier)[0]  # DBInstanceNotFound, not KeyError
    if not database.is_replica:
        raise _invalid_instance_state(f"DB Instance {identifier} is not a read replica.")
    if database.status != AVAILABLE:
        raise _invalid_instance_state(
            f"DB Instance {identifier} is {database.status}; a read replica can be promoted only when available."
        )
    # `modifying` before the unlink: a concurrent describe must never see an available, unlinked instance
    # before the promotion has finished (AWS never shows one).
    done_at = transitions.begin(database, INSTANCE_PROMOTING, AVAILABLE, STATE.promotion_seconds_for(identifier))
    promotion_started(database, done_at)  # the data model freezes what it applied; new writes fork from there
    unlink_replica(database)
    # AWS's defaults for backups not given (rds_replica_backups): 1 day, a random window
    updates = {k: v for k, v in promotion_defaults(dict(db_kwargs)).items() if k != "db_instance_identifier"}
    database.update(**updates)
    STATE.record_promotion("db-instance", database.account_id, database.region, identifier, done_at)
    return database


def unlink_replica(database: Any) -> None:
    """Make `database` a standalone instance: no source link, and its primary (if it still exists) forgets it."""
    source = database.source_db_instance_identifier
    database.is_replica = False
    database.source_db_instance_identifier = None
    if not source:
        return
    primary = find_instance(database, source)
    if primary is not None:
        _forget(primary, database)


def find_instance(near: Any, identifier: str) -> Any | None:
    from moto.rds.models import rds_backends

    backend = near.backend
    if identifier.startswith("arn:"):
        parts = identifier.split(":")
        backend = rds_backends[parts[4]][parts[3]]
        identifier = parts[-1]
    return backend.databases.get(identifier)


def _forget(primary: Any, replica: Any) -> None:
    for ref in (replica.db_instance_arn, replica.db_instance_identifier):
        if ref in primary.replicas:
            primary.replicas.remove(ref)


def _remove_replica(self: Any, replica: Any) -> None:
    # moto removes the plain id, but lists a cross-region replica by ARN (ValueError on delete).
    _forget(self, replica)


def _delete_db_instance(
    self: Any,
    db_instance_identifier: str,
    final_db_snapshot_identifier: str | None = None,
    skip_final_snapshot: bool | None = False,
    delete_automated_backups: bool | None = True,
) -> Any:
    database = self.databases.get(db_instance_identifier)
    if database is not None and database.is_replica and not database.deletion_protection:
        # unlink first: moto looks the primary up after removing the replica, and fails if it is gone
        unlink_replica(database)
    delete = _guard.original(type(self), "delete_db_instance")
    return delete(
        self, db_instance_identifier, final_db_snapshot_identifier, skip_final_snapshot, delete_automated_backups
    )


def _promote_read_replica_db_cluster(self: Any, db_cluster_identifier: str) -> Any:
    from moto.rds.exceptions import RDSClientError
    from moto.rds.models import find_cluster

    cluster = self.describe_db_clusters(db_cluster_identifier)[0]
    source = cluster.replication_source_identifier
    if not source:
        raise RDSClientError("InvalidDBClusterStateFault", f"DB cluster {db_cluster_identifier} is not a read replica.")
    if transitions.settled_status(cluster) != AVAILABLE:
        raise RDSClientError(
            "InvalidDBClusterStateFault",
            f"DB cluster {db_cluster_identifier} is {cluster.status}; "
            "a replica cluster can be promoted only when available.",
        )
    try:
        primary = find_cluster(source)
    except Exception:  # the source cluster (or its whole region) may be gone: promote anyway
        primary = None
    done_at = transitions.begin(  # `promoting` first: no reader sees an available, unlinked cluster too early
        cluster, CLUSTER_PROMOTING, AVAILABLE, STATE.promotion_seconds_for(cluster.db_cluster_identifier)
    )
    promotion_started(cluster, done_at)
    if primary is not None and cluster.db_cluster_arn in primary.read_replica_identifiers:
        primary.read_replica_identifiers.remove(cluster.db_cluster_arn)
    cluster.replication_source_identifier = None
    STATE.record_promotion("db-cluster", cluster.account_id, cluster.region, cluster.db_cluster_identifier, done_at)
    return cluster
