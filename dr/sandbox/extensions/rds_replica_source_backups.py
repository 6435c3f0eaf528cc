"""A read replica is created only from a source with automated backups (retention > 0).

AWS (RDS User Guide, "Creating a read replica": "you must enable automatic backups on the source DB instance by
setting the backup retention period to a value other than 0"; CreateDBInstanceReadReplica: "Your source DB
instance or cluster must have backup retention enabled"):
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.Create.html

moto replicates any instance. Here a source with BackupRetentionPeriod 0 is refused with
`InvalidDBInstanceState`. Not refused: an RDS for PostgreSQL read replica as the source (a cascading read
replica, PostgreSQL 14.1+, whose replicas cannot have automated backups at all: RDS User Guide, "Using
cascading read replicas with RDS for PostgreSQL",
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PostgreSQL.Replication.ReadReplicas.Cascading.html).
Aurora clusters always keep automated backups, 1 to 35 days: nothing to refuse.
"""

from __future__ import annotations

from typing import Any

from dr.sandbox.extensions import _replica_hooks


def install() -> None:
    _replica_hooks.register(_replica_hooks.INSTANCE_REPLICA, _instance_replica)


def _instance_replica(backend: Any, kwargs: dict[str, Any], source: Any) -> None:
    if int(source.backup_retention_period or 0) > 0:
        return
    if source.is_replica and str(source.engine).startswith("postgres"):
        return  # a cascading PostgreSQL read replica: its source replica cannot have backups
    from moto.rds.exceptions import RDSClientError

    raise RDSClientError("InvalidDBInstanceState",
                         f"Automated backups are not enabled for {source.db_instance_identifier}, the source of "
                         f"{kwargs['db_instance_identifier']}. To enable automated backups, use ModifyDBInstance "
                         "to set the backup retention period to a non-zero value.")
