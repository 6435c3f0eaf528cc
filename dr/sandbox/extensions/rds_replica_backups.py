"""A new read replica has automated backups off; a promotion without `BackupRetentionPeriod` gets 1 day.

AWS (RDS API Reference, CreateDBInstanceReadReplica: "All read replica DB instances are created with backups
disabled"; PromoteReadReplica, `BackupRetentionPeriod`: "Default: 1", `PreferredBackupWindow`: "Default: A
30-minute window selected at random from an 8-hour block of time for each AWS Region"):
https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstanceReadReplica.html
https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_PromoteReadReplica.html

moto copies the source's backup retention and window onto the replica and keeps them through a promotion, which
hides a promotion that forgets its backup settings. Here a replica starts with retention 0, and a promotion
that names no retention (or window) gets 1 day (and a window drawn from the region's 8-hour block).
"""

from __future__ import annotations

import random
from typing import Any

from dr.sandbox.extensions import _replica_hooks

PROMOTION_DEFAULT_RETENTION = 1
BLOCK_START_HOUR = 22
"""Start (UTC) of the sandbox's 8-hour block for default backup windows (AWS's differs per region)."""


def install() -> None:
    _replica_hooks.register(_replica_hooks.INSTANCE_REPLICA_CREATED, _without_backups)


def _without_backups(backend: Any, kwargs: dict[str, Any], replica: Any) -> None:
    replica.backup_retention_period = 0


def promotion_defaults(db_kwargs: dict[str, Any]) -> dict[str, Any]:
    """The backup arguments of a PromoteReadReplica, with AWS's defaults for the ones not given."""
    out = dict(db_kwargs)
    if out.get("backup_retention_period") is None:
        out["backup_retention_period"] = PROMOTION_DEFAULT_RETENTION
    if not out.get("preferred_backup_window"):
        start = (BLOCK_START_HOUR * 60 + random.randrange(0, 8 * 60 - 30)) % (24 * 60)  # a default window, not a secret
        end = (start + 30) % (24 * 60)
        out["preferred_backup_window"] = f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"
    return out
