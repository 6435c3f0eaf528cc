"""Read views of RDS instances, Aurora clusters and Aurora global clusters: exists, status, role, source.

Read-only. Each member is described in its own account and region, so a dead region only makes its own
member unreadable. Roles follow what AWS reports: a replica names its source ARN, a primary lists replicas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from dr.aws.errors import is_not_found
from dr.config.model import Database, DbLocation, Engine, Topology

if TYPE_CHECKING:
    from dr.aws.factory import ClientFactory


class Role(StrEnum):
    PRIMARY = "primary"
    """Writes here and has at least one replica (or is the writer of a global cluster)."""
    REPLICA = "replica"
    """Replicates from a source (names it)."""
    STANDALONE = "standalone"
    """Neither: a promoted replica, or a primary whose replicas are gone."""


AVAILABLE = "available"


@dataclass(frozen=True)
class DbView:
    """What AWS says about one database member right now. `exists=False` means AWS answered "not found"."""

    id: str
    engine: Engine
    env: str
    region: str
    exists: bool
    status: str | None = None
    role: Role | None = None
    arn: str | None = None
    source_arn: str | None = None
    replicas: tuple[str, ...] = ()
    replication_state: str | None = None
    """AWS's read-replication state when it reports one (replicating, replication degraded, error...)."""
    replication_message: str | None = None
    instances: tuple[str, ...] = ()
    """A cluster's DB instances (DBClusterMembers); a cluster without any is headless and serves nothing."""
    tags: tuple[tuple[str, str], ...] = ()
    """The resource's tags (TagList of the describe answer): drctl's lineage and fence marks live there."""
    engine_name: str | None = None
    """AWS's engine (mysql, postgres, aurora-mysql...): how replication lag reads when caught up differs."""

    def tag(self, key: str) -> str | None:
        return next((v for k, v in self.tags if k == key), None)
    backup_retention: int | None = None
    """BackupRetentionPeriod in days (0: automated backups off), when AWS reported one."""
    backup_window: str | None = None
    """PreferredBackupWindow (hh24:mi-hh24:mi, UTC), when AWS reported one."""
    encrypted: bool | None = None
    """StorageEncrypted, when AWS reported it."""

    @property
    def available(self) -> bool:
        return self.exists and self.status == AVAILABLE

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "engine": str(self.engine), "env": self.env, "region": self.region,
            "exists": self.exists, "status": self.status, "role": str(self.role) if self.role else None,
            "arn": self.arn, "source_arn": self.source_arn, "replicas": list(self.replicas),
            "replication_state": self.replication_state, "instances": list(self.instances),
            "tags": dict(self.tags), "engine_name": self.engine_name,
        }


@dataclass(frozen=True)
class GlobalClusterView:
    """An Aurora global cluster: its writer and reader member ARNs, and a switchover/failover in progress."""

    id: str
    exists: bool
    status: str | None = None
    writer_arn: str | None = None
    reader_arns: tuple[str, ...] = field(default_factory=tuple)
    failover_state: str | None = None
    """`FailoverState.Status` (pending, failing-over, switching-over, cancelling) while AWS moves the writer;
    None when no move is under way. Progress is read here, not in `status`."""
    failover_target_arn: str | None = None
    """`FailoverState.ToDbClusterArn`: where the move under way is taking the writer."""

    @property
    def moving(self) -> bool:
        return self.failover_state is not None


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def member_arn(topology: Topology, db: Database, loc: DbLocation) -> str:
    """The ARN AWS gives this member (instance or cluster), computed from the topology alone."""
    region = topology.region_of(loc)
    account = topology.environments[loc.env].account_id
    kind = "db" if db.engine is Engine.RDS_INSTANCE else "cluster"
    return f"arn:{partition_of(region)}:rds:{region}:{account}:{kind}:{loc.id}"


def same_resource(arn_or_id: str | None, arn: str) -> bool:
    """A replica names its source by ARN across regions and by plain id within one: accept both."""
    if not arn_or_id:
        return False
    return arn_or_id == arn or (":" not in arn_or_id and arn.endswith(f":{arn_or_id}"))


def describe_member(clients: ClientFactory, topology: Topology, db: Database, loc: DbLocation) -> DbView:
    """Describe one member of `db` in its own account and region. AWS errors other than "not found" raise."""
    region = topology.region_of(loc)
    client = clients.client("rds", loc.env, region)
    if db.engine is Engine.RDS_INSTANCE:
        return describe_instance(client, loc.id, env=loc.env, region=region)
    view = describe_cluster(client, loc.id, env=loc.env, region=region, engine=db.engine)
    if db.engine is Engine.AURORA_GLOBAL and view.exists and db.global_cluster_id:
        return with_global_role(view, describe_global_cluster(client, db.global_cluster_id))
    return view


def describe_instance(client: Any, db_id: str, *, env: str, region: str) -> DbView:
    try:
        found = client.describe_db_instances(DBInstanceIdentifier=db_id)["DBInstances"]
    except Exception as exc:
        if is_not_found(exc):
            return DbView(db_id, Engine.RDS_INSTANCE, env, region, exists=False)
        raise
    if not found:
        return DbView(db_id, Engine.RDS_INSTANCE, env, region, exists=False)
    return instance_view(found[0], env=env, region=region)


def instance_view(d: dict[str, Any], *, env: str, region: str) -> DbView:
    """A DbView of one entry of DescribeDBInstances."""
    db_id = str(d["DBInstanceIdentifier"])
    source = d.get("ReadReplicaSourceDBInstanceIdentifier") or None
    replicas = tuple(d.get("ReadReplicaDBInstanceIdentifiers") or ())
    state, message = _replication_info(d.get("StatusInfos") or [])
    return DbView(
        db_id, Engine.RDS_INSTANCE, env, region, exists=True, status=d.get("DBInstanceStatus"),
        role=_role(source, replicas), arn=d.get("DBInstanceArn"), source_arn=source, replicas=replicas,
        replication_state=state, replication_message=message, tags=_tags(d), engine_name=d.get("Engine"),
        **_backups(d),
    )


def describe_cluster(client: Any, cluster_id: str, *, env: str, region: str, engine: Engine) -> DbView:
    try:
        found = client.describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"]
    except Exception as exc:
        if is_not_found(exc):
            return DbView(cluster_id, engine, env, region, exists=False)
        raise
    if not found:
        return DbView(cluster_id, engine, env, region, exists=False)
    return cluster_view(found[0], env=env, region=region, engine=engine)


def cluster_view(c: dict[str, Any], *, env: str, region: str, engine: Engine) -> DbView:
    """A DbView of one entry of DescribeDBClusters (the engine comes from the topology)."""
    cluster_id = str(c["DBClusterIdentifier"])
    source = c.get("ReplicationSourceIdentifier") or None
    replicas = tuple(c.get("ReadReplicaIdentifiers") or ())
    instances = tuple(m["DBInstanceIdentifier"] for m in c.get("DBClusterMembers") or [])
    return DbView(
        cluster_id, engine, env, region, exists=True, status=c.get("Status"),
        role=_role(source, replicas), arn=c.get("DBClusterArn"), source_arn=source, replicas=replicas,
        instances=instances, tags=_tags(c), engine_name=c.get("Engine"), **_backups(c),
    )


def _backups(d: dict[str, Any]) -> dict[str, Any]:
    retention = d.get("BackupRetentionPeriod")
    encrypted = d.get("StorageEncrypted")
    return {"backup_retention": int(retention) if retention is not None else None,
            "backup_window": d.get("PreferredBackupWindow") or None,
            "encrypted": bool(encrypted) if encrypted is not None else None}


def describe_global_cluster(client: Any, global_id: str) -> GlobalClusterView:
    """Read the global cluster from the member's own region: every member region can answer for it."""
    try:
        found = client.describe_global_clusters(GlobalClusterIdentifier=global_id)["GlobalClusters"]
    except Exception as exc:
        if is_not_found(exc):
            return GlobalClusterView(global_id, exists=False)
        raise
    # Match the id: moto (5.2) ignores the filter and lists every global cluster of the account.
    g = next((c for c in found if c.get("GlobalClusterIdentifier") == global_id), None)
    if g is None:
        return GlobalClusterView(global_id, exists=False)
    return global_view(g)


def global_view(g: dict[str, Any]) -> GlobalClusterView:
    """A GlobalClusterView of one entry of DescribeGlobalClusters."""
    global_id = str(g["GlobalClusterIdentifier"])
    members = g.get("GlobalClusterMembers") or []
    writer = next((m["DBClusterArn"] for m in members if m.get("IsWriter")), None)
    readers = tuple(m["DBClusterArn"] for m in members if not m.get("IsWriter"))
    state = g.get("FailoverState") or {}
    return GlobalClusterView(global_id, exists=True, status=g.get("Status"), writer_arn=writer, reader_arns=readers,
                             failover_state=state.get("Status") or None,
                             failover_target_arn=state.get("ToDbClusterArn") or None)


def with_global_role(view: DbView, glob: GlobalClusterView) -> DbView:
    """A global cluster member's role comes from the global cluster: writer, reader, or not a member."""
    from dataclasses import replace

    if not glob.exists or view.arn is None:
        return replace(view, role=Role.STANDALONE, source_arn=None, replicas=())
    if view.arn == glob.writer_arn:
        return replace(view, role=Role.PRIMARY, source_arn=None, replicas=glob.reader_arns)
    if view.arn in glob.reader_arns:
        return replace(view, role=Role.REPLICA, source_arn=glob.writer_arn, replicas=())
    return replace(view, role=Role.STANDALONE, source_arn=None, replicas=())


def _tags(item: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple((str(t["Key"]), str(t.get("Value", ""))) for t in item.get("TagList") or [])


def _role(source: str | None, replicas: tuple[str, ...]) -> Role:
    if source:
        return Role.REPLICA
    return Role.PRIMARY if replicas else Role.STANDALONE


def _replication_info(status_infos: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    """AWS reports read replication in StatusInfos (type "read replication"): replicating, error, ..."""
    for info in status_infos:
        if info.get("StatusType") == "read replication":
            return info.get("Status"), info.get("Message")
    return None, None
