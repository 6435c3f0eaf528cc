"""The drill's temporary database copies: what to create per engine, and the RDS calls to create,
promote, read and delete them. Everything created carries the drill tags (dr.drill.tags).

Per engine (documented in docs/drills.md):
- `rds-instance`: a read replica *of the DR replica*, in the DR region (cascading replicas: MySQL,
  MariaDB, PostgreSQL), so the source region is not needed; other engines (Oracle, SQL Server) get a
  cross-region read replica of the primary. Promoted with PromoteReadReplica.
- `aurora-cluster` and `aurora-global`: a copy-on-write clone (Aurora cloning) of the DR replica or
  secondary cluster, in the DR region, plus one writer instance sized like the replica's. A new replica
  cluster would need the source region (and for a global database would change the production global
  cluster); a clone needs neither and copies no data up front. The clone is standalone, so there is
  nothing to promote: the drill confirms it takes writes (should AWS or a test double report it as still
  replicating, it is promoted with PromoteReadReplicaDBCluster). The duration of an Aurora global
  failover itself is only measured by full drills.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dr.aws.errors import is_not_found
from dr.config.model import Database, DbLocation, Engine, Topology
from dr.drill.tags import clone_id, drill_tags, writer_id

CASCADING_ENGINES = ("mysql", "mariadb", "postgres")
"""RDS engines that allow a read replica of a read replica (AWS: PostgreSQL 14.1+, MySQL, MariaDB)."""
AVAILABLE = "available"
GONE_STATUSES = frozenset({"deleting", "deleted"})
DEFAULT_WRITER_CLASS = "db.r6g.large"


class CloneKind(StrEnum):
    INSTANCE_REPLICA = "instance-replica"
    CLUSTER_COPY = "cluster-copy"


KIND_OF: dict[Engine, CloneKind] = {
    Engine.RDS_INSTANCE: CloneKind.INSTANCE_REPLICA,
    Engine.AURORA_CLUSTER: CloneKind.CLUSTER_COPY,
    Engine.AURORA_GLOBAL: CloneKind.CLUSTER_COPY,
}


@dataclass(frozen=True)
class ClonePlan:
    """The temporary copy of one database: where it lives, what it is made from."""

    database: Database
    kind: CloneKind
    env: str
    region: str
    ident: str
    replica: DbLocation
    primary: DbLocation
    primary_region: str

    @property
    def is_cluster(self) -> bool:
        return self.kind is not CloneKind.INSTANCE_REPLICA

    @property
    def writer(self) -> str:
        return writer_id(self.ident)

    def tags(self, run_id: str) -> list[dict[str, str]]:
        return drill_tags(run_id, self.database.name)


def plan_clone(topology: Topology, db: Database, run_id: str, *, writer: DbLocation, replica: DbLocation) -> ClonePlan:
    """The clone of `db` next to `replica` (the DR copy), whose source is `writer`."""
    return ClonePlan(db, KIND_OF[db.engine], replica.env, topology.region_of(replica), clone_id(db.name, run_id),
                     replica, writer, topology.region_of(writer))


def arn_of(topology: Topology, plan: ClonePlan, loc: DbLocation) -> str:
    from dr.aws.rds import member_arn

    return member_arn(topology, plan.database, loc)


def find(client: Any, ident: str, cluster: bool) -> dict[str, Any] | None:
    """The instance or cluster, or None when AWS says it does not exist."""
    try:
        if cluster:
            found = client.describe_db_clusters(DBClusterIdentifier=ident)["DBClusters"]
        else:
            found = client.describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"]
    except Exception as exc:
        if is_not_found(exc) or _code(exc) in ("DBInstanceNotFound", "DBClusterNotFoundFault"):
            return None
        raise
    return dict(found[0]) if found else None


def status(found: dict[str, Any] | None) -> str | None:
    if found is None:
        return None
    return str(found.get("DBInstanceStatus") or found.get("Status") or "")


def replication_source(found: dict[str, Any]) -> str:
    return str(found.get("ReadReplicaSourceDBInstanceIdentifier") or found.get("ReplicationSourceIdentifier") or "")


def create_instance_replica(client: Any, topology: Topology, plan: ClonePlan, run_id: str) -> str:
    """A read replica of the DR replica (cascading) or, where the engine cannot cascade, of the primary."""
    template = find(client, plan.replica.id, cluster=False)
    if template is None:
        raise LookupError(f"DR replica {plan.replica.id} not found in {plan.region}: nothing to copy")
    kwargs: dict[str, Any] = {
        "DBInstanceIdentifier": plan.ident, "DBInstanceClass": template.get("DBInstanceClass"),
        "Tags": plan.tags(run_id), "CopyTagsToSnapshot": False,
    }
    groups = [g["VpcSecurityGroupId"] for g in template.get("VpcSecurityGroups") or [] if "VpcSecurityGroupId" in g]
    if groups:
        kwargs["VpcSecurityGroupIds"] = groups
    engine = str(template.get("Engine") or "")
    if engine.startswith(CASCADING_ENGINES):
        kwargs["SourceDBInstanceIdentifier"] = plan.replica.id
        detail = f"read replica of the DR replica {plan.replica.id}"
    else:
        kwargs.update(SourceDBInstanceIdentifier=arn_of(topology, plan, plan.primary), SourceRegion=plan.primary_region)
        subnet = (template.get("DBSubnetGroup") or {}).get("DBSubnetGroupName")
        if subnet:
            kwargs["DBSubnetGroupName"] = subnet
        if template.get("StorageEncrypted") and template.get("KmsKeyId"):
            kwargs["KmsKeyId"] = template["KmsKeyId"]
        detail = f"cross-region read replica of the primary {plan.primary.id} ({engine} cannot cascade)"
    client.create_db_instance_read_replica(**kwargs)
    return detail


def create_cluster(client: Any, plan: ClonePlan, run_id: str) -> str:
    """Aurora: a copy-on-write clone of the DR replica (or global secondary) cluster, in its VPC."""
    template = find(client, plan.replica.id, cluster=True)
    if template is None:
        raise LookupError(f"DR replica cluster {plan.replica.id} not found in {plan.region}: nothing to copy")
    kwargs: dict[str, Any] = {"DBClusterIdentifier": plan.ident, "Tags": plan.tags(run_id)}
    groups = [g["VpcSecurityGroupId"] for g in template.get("VpcSecurityGroups") or [] if "VpcSecurityGroupId" in g]
    if groups:
        kwargs["VpcSecurityGroupIds"] = groups
    if template.get("DBSubnetGroup"):
        kwargs["DBSubnetGroupName"] = template["DBSubnetGroup"]
    client.restore_db_cluster_to_point_in_time(
        SourceDBClusterIdentifier=plan.replica.id, RestoreType="copy-on-write", UseLatestRestorableTime=True,
        **kwargs)
    return f"copy-on-write clone of the DR cluster {plan.replica.id}"


def writer_class(client: Any, plan: ClonePlan) -> str:
    """The instance class of the DR replica cluster's first member, so the clone is sized like it."""
    template = find(client, plan.replica.id, cluster=True) or {}
    for member in template.get("DBClusterMembers") or []:
        found = find(client, member["DBInstanceIdentifier"], cluster=False)
        if found and found.get("DBInstanceClass"):
            return str(found["DBInstanceClass"])
    return DEFAULT_WRITER_CLASS


def create_writer(client: Any, plan: ClonePlan, run_id: str) -> None:
    cluster = find(client, plan.ident, cluster=True) or {}
    client.create_db_instance(
        DBInstanceIdentifier=plan.writer, DBClusterIdentifier=plan.ident, Engine=cluster.get("Engine"),
        DBInstanceClass=writer_class(client, plan), Tags=plan.tags(run_id))


def promote(client: Any, plan: ClonePlan) -> None:
    if plan.is_cluster:
        client.promote_read_replica_db_cluster(DBClusterIdentifier=plan.ident)
    else:
        client.promote_read_replica(DBInstanceIdentifier=plan.ident)


def delete_instance(client: Any, ident: str) -> bool:
    """Delete an instance without a final snapshot; False when it was already gone."""
    try:
        client.delete_db_instance(DBInstanceIdentifier=ident, SkipFinalSnapshot=True, DeleteAutomatedBackups=True)
    except Exception as exc:
        if is_not_found(exc) or (_code(exc) == "InvalidDBInstanceState" and _deleting(client, ident, False)):
            return False
        raise
    return True


def delete_members(client: Any, ident: str) -> list[str]:
    """Start deleting every instance of the cluster (AWS deletes a cluster only once it has none left);
    returns the members that still exist."""
    cluster = find(client, ident, cluster=True)
    members = [m["DBInstanceIdentifier"] for m in (cluster or {}).get("DBClusterMembers") or []]
    for member in members:
        delete_instance(client, member)
    return [m for m in members if find(client, m, cluster=False) is not None]


def members_gone(client: Any, ident: str) -> bool:
    cluster = find(client, ident, cluster=True)
    return not any(find(client, m["DBInstanceIdentifier"], cluster=False) is not None
                   for m in (cluster or {}).get("DBClusterMembers") or [])


def delete_cluster(client: Any, ident: str) -> bool:
    """Delete a cluster that has no instances left, without a final snapshot; False when already gone.
    Callers delete the members first (`delete_members`) and wait for `members_gone`."""
    cluster = find(client, ident, cluster=True)
    if cluster is None or status(cluster) in GONE_STATUSES:
        return False
    if replication_source(cluster):
        # A cluster still attached to a replication source is detached first (a clone never is, in AWS).
        client.promote_read_replica_db_cluster(DBClusterIdentifier=ident)
    try:
        client.delete_db_cluster(DBClusterIdentifier=ident, SkipFinalSnapshot=True)
    except Exception as exc:
        if is_not_found(exc):
            return False
        raise
    return True


def delete_cluster_and_members(client: Any, ident: str, sleep: Callable[[float], None],
                               wait_seconds: float = 1200.0, poll: float = 10.0) -> bool:
    """The whole cluster: its instances, a wait until they are gone (minutes in AWS), then the cluster."""
    waited = 0.0
    while delete_members(client, ident):
        if waited >= wait_seconds:
            raise TimeoutError(f"instances of {ident} still exist after {wait_seconds:.0f} s; delete it later "
                               "with `drctl drill cleanup`")
        sleep(poll)
        waited += poll
    return delete_cluster(client, ident)


def gone(client: Any, ident: str, cluster: bool) -> bool:
    """Deleted, or on its way (AWS takes minutes; `deleting` is enough for a drill to move on)."""
    return status(find(client, ident, cluster)) in GONE_STATUSES | {None}


def _deleting(client: Any, ident: str, cluster: bool) -> bool:
    return status(find(client, ident, cluster)) in GONE_STATUSES


def _code(exc: BaseException) -> str:
    from dr.aws.errors import error_code

    return error_code(exc)
