"""One patch of moto's replica creation that runs the checks several extensions register.

`_guard.replace` patches a method once, so extensions that each judge part of CreateDBInstanceReadReplica or
CreateDBCluster (with a `ReplicationSourceIdentifier`) register a hook here instead: each receives the backend
the call reached, the call's (snake_case) keyword arguments, which it may amend, and the source database or
cluster (found across regions by ARN), and raises an `RDSClientError` to refuse as AWS does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dr.sandbox.extensions import _guard

Hook = Callable[[Any, dict[str, Any], Any], None]

INSTANCE_REPLICA: list[Hook] = []
"""Run before moto's create_db_instance_read_replica."""
INSTANCE_REPLICA_CREATED: list[Hook] = []
"""Run after moto created the read replica: (backend, kwargs, the new replica)."""
CLUSTER_REPLICA: list[Hook] = []
"""Run before moto's create_db_cluster when the cluster is a replica of another (ReplicationSourceIdentifier)."""


def register(hooks: list[Hook], hook: Hook) -> None:
    """Add `hook` once (extensions install idempotently), then patch moto (also once)."""
    if hook not in hooks:
        hooks.append(hook)
    from moto.rds.models import RDSBackend

    _guard.replace(RDSBackend, "create_db_instance_read_replica", _create_instance_replica, ["db_kwargs"])
    _guard.replace(RDSBackend, "create_db_cluster", _create_cluster, ["kwargs"])


def is_cross_region(backend: Any, source: Any) -> bool:
    return bool(getattr(source, "region", backend.region_name) != backend.region_name)


def _create_instance_replica(self: Any, db_kwargs: Any) -> Any:
    source = self.find_db_from_id(db_kwargs["source_db_instance_identifier"])  # DBInstanceNotFound if absent
    for hook in INSTANCE_REPLICA:
        hook(self, db_kwargs, source)
    replica = _guard.original(type(self), "create_db_instance_read_replica")(self, db_kwargs)
    for hook in INSTANCE_REPLICA_CREATED:
        hook(self, db_kwargs, replica)
    return replica


def _create_cluster(self: Any, kwargs: Any) -> Any:
    source_id = kwargs.get("replication_source_identifier")
    if source_id:
        from moto.rds.models import find_cluster

        source = find_cluster(source_id)
        for hook in CLUSTER_REPLICA:
            hook(self, kwargs, source)
    return _guard.original(type(self), "create_db_cluster")(self, kwargs)
