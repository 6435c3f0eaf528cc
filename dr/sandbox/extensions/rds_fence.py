"""What a fence does on AWS: a renamed writer stops taking writes, and its replicas catch up as each engine shows.

AWS (RDS User Guide, "Renaming a DB instance"): renaming deletes the old DNS name at once and reboots the instance;
read replicas stay associated with it. moto renames an Aurora cluster (`ModifyDBCluster NewDBClusterIdentifier`)
but leaves its replica clusters naming the old ARN: here they follow, as AWS's replicas do. A renamed or stopped
writer is marked with the time its applications lost it (`writes_stopped_at`).

The published lag of a replica whose source stopped taking writes then follows what AWS documents per engine
(RDS User Guide, "Monitoring read replication" and "Monitoring and tuning the replication process" for
PostgreSQL): MySQL-family lag (Seconds_Behind_Master) stays at its setting until the replica has applied what was
written before the stop, then reads 0; PostgreSQL `ReplicaLag` is `now() - pg_last_xact_replay_timestamp()`, so it
grows from the last replayed write once nothing new arrives.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dr.sandbox.extensions import _guard
from dr.sandbox.extensions.state import STATE

STOPPED_AT = "_drctl_writes_stopped_at"


def install() -> None:
    from moto.rds.models import RDSBackend

    _guard.replace(RDSBackend, "modify_db_cluster", _modify_db_cluster, ["kwargs"])
    # a stopped writer is marked by rds_stop, which owns the one patch of stop_db_instance


def mark_stopped(resource: Any) -> None:
    """Applications lost this writer now (renamed away or stopped); the first mark stands."""
    if getattr(resource, STOPPED_AT, None) is None:
        setattr(resource, STOPPED_AT, STATE.now())


def writes_stopped_at(resource: Any) -> datetime | None:
    value = getattr(resource, STOPPED_AT, None)
    return value if isinstance(value, datetime) else None


def _modify_db_cluster(self: Any, kwargs: dict[str, Any]) -> Any:
    new_id = kwargs.get("new_db_cluster_identifier")
    cluster = self.clusters.get(kwargs.get("db_cluster_identifier")) if new_id else None
    if cluster is not None and new_id in self.clusters and new_id != cluster.db_cluster_identifier:
        from moto.rds.exceptions import RDSClientError

        raise RDSClientError("DBClusterAlreadyExistsFault", f"DB cluster {new_id} already exists.")
    old_arn = cluster.db_cluster_arn if cluster is not None else None
    result = _guard.original(type(self), "modify_db_cluster")(self, kwargs)
    if cluster is not None and old_arn is not None and old_arn != cluster.db_cluster_arn:
        mark_stopped(cluster)
        _follow_cluster_rename(cluster, old_arn)
    return result


def _follow_cluster_rename(cluster: Any, old_arn: str) -> None:
    from moto.rds.models import find_cluster

    for ref in list(cluster.read_replica_identifiers):
        try:
            replica = find_cluster(ref)
        except Exception:
            continue
        if replica.replication_source_identifier == old_arn:
            replica.replication_source_identifier = cluster.db_cluster_arn


def source_of(replica: Any, engine: str) -> Any | None:
    """The writer a replica (moto instance or cluster) replicates from, wherever it lives; None if gone."""
    from moto.rds.models import find_cluster

    from dr.sandbox.extensions.rds_promotion import find_instance

    try:
        if engine == "rds-instance":
            source = replica.source_db_instance_identifier
            return find_instance(replica, source) if source else None
        source = replica.replication_source_identifier
        return find_cluster(source) if source else None
    except Exception:
        return None


def lag_at(seconds: float, engine_name: str, stopped_at: datetime | None, at: datetime) -> float:
    """The lag a replica publishes at `at` when its source stopped taking writes at `stopped_at` (None: it still
    takes writes, so the configured lag stands)."""
    if stopped_at is None or seconds < 0 or at < stopped_at:
        return seconds
    since = (at - stopped_at).total_seconds()
    if engine_name.startswith(("postgres", "aurora-postgresql")):
        return max(seconds, since)  # replay timestamp stands at the last write
    return seconds if at < stopped_at + timedelta(seconds=seconds) else 0.0
