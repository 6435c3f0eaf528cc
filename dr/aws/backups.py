"""The newest restorable copy of a database in its DR region, as AWS lists it (RDS or AWS Backup).

- RDS automated-backup replication: `DescribeDBInstanceAutomatedBackups` in the DR region lists the replicated
  backups of the source instance (`DBInstanceArn` = the source's ARN, `Region` = the source's region); the newest
  point it can be restored to is `RestoreWindow.LatestTime`. (RDS User Guide, "Finding information about
  replicated backups"; RDS API Reference, DBInstanceAutomatedBackup.)
- AWS Backup copies: `ListRecoveryPointsByBackupVault` on the DR vault, `ByResourceArn` = the source's ARN; a
  `COMPLETED` recovery point restores to its `CreationDate`. (AWS Backup API Reference,
  ListRecoveryPointsByBackupVault.)
The DR region is the region of the database's declared replica, in the account of its primary (RDS backups
replicate within an account).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dr.aws.rds import member_arn
from dr.config.backups import DrBackup, DrBackupSource

if TYPE_CHECKING:
    from dr.aws.factory import ClientFactory
    from dr.config.model import Database, Topology

RESTORABLE_RECOVERY_POINT = "COMPLETED"


@dataclass(frozen=True)
class DrBackupCopy:
    """The newest restorable point of `database` in `region` (None: no copy there), and where it was looked for."""

    database: str
    region: str
    latest: datetime | None
    where: str

    def age_seconds(self, now: datetime) -> float | None:
        return None if self.latest is None else max(0.0, (now - self.latest).total_seconds())


def dr_backup_region(topology: Topology, db: Database) -> str:
    return topology.region_of(db.replica)


def read_dr_backup(topology: Topology, clients: ClientFactory, db: Database, setting: DrBackup) -> DrBackupCopy:
    """The newest restorable copy of `db` in its DR region; AWS errors raise (the caller reports them)."""
    region = dr_backup_region(topology, db)
    source_arn = member_arn(topology, db, db.primary)
    if setting.source is DrBackupSource.RDS_REPLICATION:
        client = clients.client("rds", db.primary.env, region)
        latest = _newest_replicated(client, source_arn)
        where = f"replicated automated backups of {db.primary.id} in {region}"
    else:
        client = clients.client("backup", db.primary.env, region)
        latest = _newest_recovery_point(client, str(setting.vault), source_arn)
        where = f"recovery points of {db.primary.id} in vault {setting.vault} ({region})"
    return DrBackupCopy(db.name, region, latest, where)


def _newest_replicated(client: Any, source_arn: str) -> datetime | None:
    newest: datetime | None = None
    for page in client.get_paginator("describe_db_instance_automated_backups").paginate():
        for backup in page.get("DBInstanceAutomatedBackups", []):
            if backup.get("DBInstanceArn") != source_arn:
                continue
            latest = (backup.get("RestoreWindow") or {}).get("LatestTime")
            if isinstance(latest, datetime) and (newest is None or latest > newest):
                newest = latest
    return newest


def _newest_recovery_point(client: Any, vault: str, source_arn: str) -> datetime | None:
    newest: datetime | None = None
    pages = client.get_paginator("list_recovery_points_by_backup_vault").paginate(
        BackupVaultName=vault, ByResourceArn=source_arn)
    for page in pages:
        for point in page.get("RecoveryPoints", []):
            created = point.get("CreationDate")
            if point.get("Status") == RESTORABLE_RECOVERY_POINT and isinstance(created, datetime) and (
                    newest is None or created > newest):
                newest = created
    return newest
