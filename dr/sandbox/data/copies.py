"""Which moto objects are database copies, what each replicates from, and whether it accepts a write now.

A copy is an RDS DB instance outside any cluster, or an Aurora DB cluster. It accepts a write, as the
application tier would see it (RDS User Guide, "Viewing Amazon RDS DB instance status",
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/accessing-monitoring.html, and "Working with DB
instance read replicas": replicas are read-only; a promotion reboots the instance), when: it still
has the identifier it was created with (a renamed copy lost the endpoint its applications know), it is
not a read replica / replica cluster / global secondary, its region is not in outage, it is not fenced
read-only (tag `drctl:fence=read-only`, or `read_only` / `default_transaction_read_only` on in its DB
parameter group, as the issue's parameter fence would set), its status lets it serve writes, and no
promotion or global switchover/failover is still in progress on it.
"""

from __future__ import annotations

from typing import Any

from dr.sandbox.data.model import Copy, DataModel
from dr.sandbox.extensions import transitions
from dr.sandbox.extensions.outage import is_down

INSTANCE = "db-instance"
CLUSTER = "db-cluster"
FENCE_TAG = ("drctl:fence", "read-only")
READ_ONLY_PARAMETERS = ("read_only", "default_transaction_read_only")
_ON = {"1", "on", "true"}
WRITABLE_STATUSES = frozenset({
    "available", "backing-up", "modifying", "maintenance", "storage-optimization", "storage-config-upgrade",
    "configuring-enhanced-monitoring", "configuring-iam-database-auth", "configuring-log-exports",
    "resetting-master-credentials",
})
"""Statuses in which an instance keeps serving its applications (stopped, stopping, starting, rebooting,
deleting, failed, upgrading and the like do not)."""
KEY_ATTR = "_drctl_data_copy"
GLOBAL_REGION = "us-east-1"


def identity(obj: Any) -> tuple[str, str, str]:
    """(kind, identifier, ARN) of an instance or cluster."""
    if hasattr(obj, "db_instance_identifier"):
        return INSTANCE, str(obj.db_instance_identifier), str(obj.db_instance_arn)
    return CLUSTER, str(obj.db_cluster_identifier), str(obj.db_cluster_arn)


def live_objects() -> list[Any]:
    """Every instance (not an Aurora member) and cluster in every account and region moto holds."""
    from moto.rds.models import rds_backends

    found: list[Any] = []
    for _account, per_region in list(rds_backends.items()):
        for _region, backend in list(per_region.items()):
            found.extend(db for db in list(backend.databases.values()) if not db.db_cluster_identifier)
            found.extend(list(backend.clusters.values()))
    return found


def global_cluster_of(cluster: Any) -> Any | None:
    from moto.rds.models import rds_backends

    if not hasattr(cluster, "db_cluster_identifier"):
        return None
    for global_cluster in list(rds_backends[cluster.account_id][GLOBAL_REGION].global_clusters.values()):
        if cluster in global_cluster.members:
            return global_cluster
    return None


def source_of(obj: Any) -> Any | None:
    """The object `obj` replicates from now (None: standalone or its source is gone)."""
    from dr.sandbox.extensions.rds_promotion import find_instance

    if hasattr(obj, "db_instance_identifier"):
        source = obj.source_db_instance_identifier if obj.is_replica else None
        return find_instance(obj, source) if source else None
    if obj.replication_source_identifier:
        return _cluster(obj, obj.replication_source_identifier)
    global_cluster = global_cluster_of(obj)
    if global_cluster is not None and not obj.is_writer:
        return next((m for m in global_cluster.members if m.is_writer), None)
    return None


def is_replica(obj: Any) -> bool:
    if hasattr(obj, "db_instance_identifier"):
        return bool(obj.is_replica)
    if obj.replication_source_identifier:
        return True
    global_cluster = global_cluster_of(obj)
    return global_cluster is not None and not obj.is_writer


def _cluster(near: Any, identifier: str) -> Any | None:
    from moto.rds.models import rds_backends

    backend = near.backend
    if identifier.startswith("arn:"):
        parts = identifier.split(":")
        backend, identifier = rds_backends[parts[4]][parts[3]], parts[-1]
    return backend.clusters.get(identifier)


def see(model: DataModel, obj: Any, now: float) -> Copy:
    """The copy record of `obj`, registered at first sight (a replica joins its source's history)."""
    key = obj.__dict__.get(KEY_ATTR)
    known = model.copies.get(key) if key else None
    if known is not None and known.obj is obj:  # moto creates replicas by copying their source object
        return known
    kind, ident, arn = identity(obj)
    key = model.new_key()
    obj.__dict__[KEY_ATTR] = key
    source = source_of(obj)
    source_copy = see(model, source, now) if source is not None else None
    copy = Copy(key, obj, kind, str(obj.account_id), str(obj.region), ident, arn, str(obj.engine),
                branch=source_copy.branch if source_copy else "", writer=source_copy is None)
    if source_copy is None:
        copy.branch = model.new_branch(copy, None, 0, now, family_hint=ident).id
    model.copies[key] = copy
    return copy


def refusal(copy: Copy) -> str | None:
    """Why the copy refuses writes now (None: it accepts them, perhaps after `blocked_until`)."""
    obj = copy.obj
    kind, ident, _ = identity(obj)
    if copy.deleted:
        return "deleted"
    if ident.lower() != copy.created_id.lower():
        return f"renamed from {copy.created_id}: its applications lost the endpoint"
    if is_replica(obj):
        return "read replica" if kind == INSTANCE or obj.replication_source_identifier else "global secondary"
    if is_down(copy.region):
        return f"region {copy.region} is in outage"
    fence = _fence(obj)
    if fence:
        return f"fenced read-only ({fence})"
    transition = transitions.pending(obj)
    status = transition.final if transition is not None else str(obj.status)
    if status not in WRITABLE_STATUSES:
        return f"status {status}"
    return None


def blocked_until(copy: Copy) -> float:
    """Until when a promotion or global switchover/failover in progress keeps the copy from writing."""
    until = copy.blocked_until
    for obj in (copy.obj, global_cluster_of(copy.obj)):
        transition = transitions.pending(obj) if obj is not None else None
        if transition is not None:
            until = max(until, transition.until.timestamp())
    return until


def _fence(obj: Any) -> str:
    tags = {tag["Key"]: tag["Value"] for tag in obj.tags}
    if tags.get(FENCE_TAG[0]) == FENCE_TAG[1]:
        return f"tag {FENCE_TAG[0]}={FENCE_TAG[1]}"
    name = getattr(obj, "db_parameter_group_name", None)
    group = obj.backend.db_parameter_groups.get(name) if name else None
    for parameter in READ_ONLY_PARAMETERS:
        value = (group.parameters.get(parameter) or {}).get("ParameterValue") if group is not None else None
        if str(value).lower() in _ON:
            return f"parameter {parameter}={value} in {name}"
    return ""
