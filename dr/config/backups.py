"""Where a database's restorable copy in the DR region comes from, and how old it may be (`dr_backup`).

Two AWS features put one there: RDS automated-backup replication (`StartDBInstanceAutomatedBackupsReplication`;
DB instances only, AWS supports it for no Aurora cluster) and AWS Backup copy jobs into a vault of the DR region.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dr.config.durations import Duration

DEFAULT_MAX_AGE_SECONDS = 26 * 3600.0
"""A nightly copy (every 24 h) plus two hours for the copy itself to finish."""


class DrBackupSource(StrEnum):
    RDS_REPLICATION = "rds-replication"
    """RDS automated backups replicated to the DR region: DescribeDBInstanceAutomatedBackups there."""
    AWS_BACKUP = "aws-backup"
    """AWS Backup recovery points copied to a vault in the DR region: ListRecoveryPointsByBackupVault."""


class DrBackup(BaseModel):
    """The DR-region backup copy of a database (or the default for all under `dr_backups`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: DrBackupSource
    vault: str | None = Field(default=None, min_length=1, description="AWS Backup vault in the DR region")
    max_age: Duration = Field(default=DEFAULT_MAX_AGE_SECONDS, gt=0,
                              description="age of the newest restorable copy above which it is stale")

    @model_validator(mode="after")
    def _vault_matches_source(self) -> DrBackup:
        if self.source is DrBackupSource.AWS_BACKUP and not self.vault:
            raise ValueError("source aws-backup needs `vault`: the AWS Backup vault in the DR region that the "
                             "copy jobs write to")
        if self.source is DrBackupSource.RDS_REPLICATION and self.vault:
            raise ValueError("`vault` is for source aws-backup; RDS automated-backup replication has no vault "
                             "(remove it, or set source: aws-backup)")
        return self
