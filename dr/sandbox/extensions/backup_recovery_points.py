"""AWS Backup recovery points in a vault (ListRecoveryPointsByBackupVault), e.g. copies landed in a DR vault.

moto 5.2 has vaults but no recovery points at all (`NumberOfRecoveryPoints` is always 0 and
`GET /backup-vaults/{name}/recovery-points/` is not routed). AWS (AWS Backup API Reference,
ListRecoveryPointsByBackupVault, https://docs.aws.amazon.com/aws-backup/latest/devguide/API_ListRecoveryPointsByBackupVault.html):
the vault's recovery points, `ByResourceArn` keeping those of one resource, each with `RecoveryPointArn`,
`BackupVaultName`, `ResourceArn`, `ResourceType`, `Status` (COMPLETED | PARTIAL | DELETING | EXPIRED) and
`CreationDate`; a vault that does not exist is `ResourceNotFoundException`. The sandbox seeds recovery points
through the control API (`set_recovery_point`), as a nightly copy job would land them.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from dr.sandbox.extensions import _guard
from dr.sandbox.extensions.state import STATE

ROUTE = "{0}/backup-vaults/(?P<name>[^/]+)/recovery-points/?$"


def install() -> None:
    from moto.backup import urls
    from moto.backup.responses import BackupResponse

    _guard.add(BackupResponse, "list_recovery_points_by_backup_vault", _list_recovery_points)
    urls.url_paths.setdefault(ROUTE, urls.response.dispatch)


def set_recovery_point(account_id: str, region: str, vault: str, resource_arn: str, created: datetime | None,
                       *, status: str = "COMPLETED") -> None:
    """The newest recovery point of `resource_arn` in `vault` (None removes the resource's points)."""
    with STATE.lock:
        key = (account_id, region, vault)
        points = [p for p in STATE.recovery_points.get(key, []) if p["ResourceArn"] != resource_arn]
        if created is not None:
            points.append({"RecoveryPointArn": f"arn:aws:backup:{region}:{account_id}:recovery-point:{uuid.uuid4()}",
                           "BackupVaultName": vault, "ResourceArn": resource_arn, "ResourceType": _type(resource_arn),
                           "Status": status, "CreationDate": created.timestamp()})
        STATE.recovery_points[key] = points


def _type(arn: str) -> str:
    return "Aurora" if ":cluster:" in arn else "RDS"


def _list_recovery_points(self: Any) -> str:
    from moto.backup.exceptions import ResourceNotFoundException

    backend = self.backup_backend
    vault = self._get_param("BackupVaultName")
    if vault not in backend.vaults:
        raise ResourceNotFoundException(f"Backup vault {vault} does not exist in {backend.region_name}")
    wanted = self._get_param("ByResourceArn")
    with STATE.lock:
        points = list(STATE.recovery_points.get((backend.account_id, backend.region_name, vault), []))
    chosen = [dict(p, BackupVaultArn=backend.vaults[vault].backup_vault_arn) for p in points
              if wanted is None or p["ResourceArn"] == wanted]
    return json.dumps({"RecoveryPoints": chosen})
