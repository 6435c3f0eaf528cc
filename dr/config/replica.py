"""What a new replica (and a promoted writer) is configured with: declared in the topology, never guessed.

`environments.<env>.replica_settings.<region>` gives the defaults for every database copy that env keeps in that
region; `databases[].primary.settings` / `databases[].replica.settings` override them field by field for one
copy. Unset everywhere: AWS's default for that parameter (the source's instance class, storage ...), except the
backup retention, which defaults to `DEFAULT_BACKUP_RETENTION_DAYS` (AWS's own API default is 1 day).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DEFAULT_BACKUP_RETENTION_DAYS = 7
"""Retention when the topology declares none: AWS's PromoteReadReplica default of 1 day is too little to recover."""

_KMS_KEY = re.compile(
    r"^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key/[0-9a-fA-F-]{36}|key/mrk-[0-9a-f]{32}|alias/[A-Za-z0-9/_-]+)"
    r"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|mrk-[0-9a-f]{32}"
    r"|alias/[A-Za-z0-9/_-]+)$"
)
_SECURITY_GROUP = re.compile(r"^sg-([0-9a-f]{8}|[0-9a-f]{17})$")
_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_RDS_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,254}$")
_INSTANCE_CLASS = re.compile(r"^db\.[a-z0-9-]+\.[a-z0-9]+$")
StorageType = Literal["gp2", "gp3", "io1", "io2", "standard", "aurora", "aurora-iopt1"]


def window_minutes(window: str) -> int:
    """Length of an `hh24:mi-hh24:mi` window in minutes (it may wrap past midnight)."""
    match = _WINDOW.match(window)
    if match is None:
        raise ValueError(window)
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    return (h2 * 60 + m2 - h1 * 60 - m1) % (24 * 60)


class ReplicaSettings(BaseModel):
    """The parameters CreateDBInstanceReadReplica / CreateDBCluster + CreateDBInstance and the promotions take."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kms_key_id: str | None = Field(default=None, description="KMS key in this region: key ARN, key id, alias "
                                                               "ARN or alias/name; required for an encrypted source")
    db_subnet_group: str | None = None
    vpc_security_group_ids: list[str] | None = None
    parameter_group: str | None = Field(default=None, description="DB parameter group (instances, Aurora members)")
    cluster_parameter_group: str | None = Field(default=None, description="DB cluster parameter group (Aurora)")
    option_group: str | None = Field(default=None, description="option group (RDS instances; Aurora has none)")
    instance_class: str | None = None
    storage_type: StorageType | None = None
    allocated_storage: int | None = Field(default=None, ge=20, le=65536, description="GiB")
    iops: int | None = Field(default=None, ge=1000, le=256000)
    storage_throughput: int | None = Field(default=None, ge=125, le=16000, description="MiB/s (gp3)")
    multi_az: bool | None = None
    backup_retention_period: int | None = Field(default=None, ge=1, le=35, description="days")
    preferred_backup_window: str | None = Field(default=None, description="hh24:mi-hh24:mi, UTC, >= 30 minutes")
    deletion_protection: bool | None = None

    @field_validator("kms_key_id")
    @classmethod
    def _kms(cls, value: str | None) -> str | None:
        if value is not None and not _KMS_KEY.match(value):
            raise ValueError(f"{value!r} is not a KMS key: write a key ARN, a key id (1234abcd-12ab-34cd-56ef-"
                             "1234567890ab), an alias ARN or alias/<name>")
        return value

    @field_validator("vpc_security_group_ids")
    @classmethod
    def _groups(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        bad = [g for g in value if not _SECURITY_GROUP.match(g)]
        if bad:
            raise ValueError(f"{', '.join(bad)}: a VPC security group id is sg- and 8 or 17 hex digits "
                             "(e.g. sg-0123456789abcdef0)")
        if not value:
            raise ValueError("an empty list would leave the replica in the VPC's default security group: "
                             "name at least one sg-... or remove the key")
        return value

    @field_validator("db_subnet_group", "parameter_group", "cluster_parameter_group", "option_group")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not _RDS_NAME.match(value):
            raise ValueError(f"{value!r}: an RDS group name starts with a letter and holds letters, digits and "
                             "hyphens (at most 255)")
        return value

    @field_validator("instance_class")
    @classmethod
    def _class(cls, value: str | None) -> str | None:
        if value is not None and not _INSTANCE_CLASS.match(value):
            raise ValueError(f"{value!r} is not a DB instance class: write e.g. db.r6g.large")
        return value

    @field_validator("preferred_backup_window")
    @classmethod
    def _window(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not _WINDOW.match(value):
            raise ValueError(f"{value!r}: write the window as hh24:mi-hh24:mi in UTC, e.g. 02:00-02:30")
        if window_minutes(value) < 30:
            raise ValueError(f"{value!r} is {window_minutes(value)} minutes: AWS needs a backup window of at "
                             "least 30 minutes, e.g. 02:00-02:30")
        return value

    @model_validator(mode="after")
    def _storage(self) -> ReplicaSettings:
        if self.storage_throughput is not None and self.storage_type not in ("gp3", None):
            raise ValueError(f"storage_throughput is only for gp3 storage, not {self.storage_type}: "
                             "remove it or set storage_type: gp3")
        if self.iops is not None and self.storage_type in ("gp2", "standard"):
            raise ValueError(f"iops cannot be set for {self.storage_type} storage: use io1, io2 or gp3")
        return self

    def over(self, base: ReplicaSettings | None) -> ReplicaSettings:
        """These settings, with every field left unset taken from `base` (the environment-and-region default)."""
        if base is None:
            return self
        mine = self.model_dump(exclude_unset=True, exclude_none=True)
        return base.model_copy(update=mine)

    @property
    def retention_days(self) -> int:
        return self.backup_retention_period or DEFAULT_BACKUP_RETENTION_DAYS

    def backup_args(self) -> dict[str, Any]:
        """BackupRetentionPeriod and (when declared) PreferredBackupWindow, as the RDS API takes them."""
        args: dict[str, Any] = {"BackupRetentionPeriod": self.retention_days}
        if self.preferred_backup_window:
            args["PreferredBackupWindow"] = self.preferred_backup_window
        return args

    def instance_replica_args(self) -> dict[str, Any]:
        """CreateDBInstanceReadReplica arguments (KmsKeyId is added by the caller, only for a cross-region
        encrypted source: AWS refuses it for a same-region replica)."""
        pairs = (("DBSubnetGroupName", self.db_subnet_group), ("VpcSecurityGroupIds", self.vpc_security_group_ids),
                 ("DBParameterGroupName", self.parameter_group), ("OptionGroupName", self.option_group),
                 ("DBInstanceClass", self.instance_class), ("StorageType", self.storage_type),
                 ("AllocatedStorage", self.allocated_storage), ("Iops", self.iops),
                 ("StorageThroughput", self.storage_throughput), ("MultiAZ", self.multi_az),
                 ("DeletionProtection", self.deletion_protection))
        return {key: value for key, value in pairs if value is not None}

    def cluster_replica_args(self) -> dict[str, Any]:
        """CreateDBCluster arguments for a replica cluster (backups included: Aurora takes them at creation)."""
        pairs = (("DBSubnetGroupName", self.db_subnet_group), ("VpcSecurityGroupIds", self.vpc_security_group_ids),
                 ("DBClusterParameterGroupName", self.cluster_parameter_group),
                 ("DeletionProtection", self.deletion_protection))
        return {**{key: value for key, value in pairs if value is not None}, **self.backup_args()}

    def cluster_member_args(self) -> dict[str, Any]:
        """CreateDBInstance arguments for the replica cluster's DB instance."""
        return {key: value for key, value in (("DBParameterGroupName", self.parameter_group),
                                              ("DBInstanceClass", self.instance_class)) if value is not None}
