"""RDS account quotas (DescribeAccountAttributes) and automated backups replicated to another region.

moto 5.2 implements neither: it has no DescribeAccountAttributes at all, and its
DescribeDBInstanceAutomatedBackups lists only the region's own automated snapshots, without `RestoreWindow`
and without any backup replicated from another region.

AWS (RDS API Reference):
- DescribeAccountAttributes, https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeAccountAttributes.html
  and AccountQuota, https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_AccountQuota.html:
  `AccountQuotas` of `{AccountQuotaName, Used, Max}`; `DBInstances`/`DBClusters` count the account's instances and
  clusters (per region), `ReadReplicasPerMaster` is the highest number of read replicas of one source. Defaults
  from "Quotas in Amazon RDS" (User Guide, CHAP_Limits): 40 DB instances, 40 DB clusters, 15 read replicas per
  primary; the control API sets another maximum (`set_rds_quota`), as a quota increase would.
- "Replicating automated backups to another AWS Region",
  https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReplicateBackups.html, and DBInstanceAutomatedBackup,
  https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DBInstanceAutomatedBackup.html: in the
  destination region DescribeDBInstanceAutomatedBackups lists the replicated backups with the source's
  `DBInstanceArn`, `Region` (the source's) and `RestoreWindow.{EarliestTime,LatestTime}`; status `replicating`.
  The sandbox seeds them (the seed's nightly cross-region copies) and ages them through `set_dr_backup`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from moto.core.responses import ActionResult

from dr.sandbox.extensions import _guard
from dr.sandbox.extensions.state import STATE

DEFAULT_QUOTAS: dict[str, int] = {"DBInstances": 40, "DBClusters": 40, "ReadReplicasPerMaster": 15}
REPLICATED_STATUS = "replicating"


def install() -> None:
    from moto.rds.responses import RDSResponse

    _guard.add(RDSResponse, "describe_account_attributes", _describe_account_attributes)
    _guard.replace(RDSResponse, "describe_db_instance_automated_backups", _describe_automated_backups)


def set_replicated_backup(account_id: str, region: str, source_arn: str,
                          window: tuple[datetime, datetime] | None) -> None:
    """Seed (or age) the backups of `source_arn` replicated to `region`; None removes them."""
    with STATE.lock:
        if window is None:
            STATE.dr_backups.pop((account_id, region, source_arn), None)
        else:
            STATE.dr_backups[(account_id, region, source_arn)] = window


def quotas(backend: Any) -> list[dict[str, Any]]:
    """The account's quotas in the backend's region, counted from what moto holds."""
    replicas = [len(getattr(db, "read_replicas", []) or []) for db in backend.databases.values()]
    used = {"DBInstances": len(backend.databases), "DBClusters": len(backend.clusters),
            "ReadReplicasPerMaster": max(replicas, default=0)}
    with STATE.lock:
        maximum = {name: STATE.rds_quotas.get((backend.account_id, backend.region_name, name), default)
                   for name, default in DEFAULT_QUOTAS.items()}
    return [{"AccountQuotaName": name, "Used": used[name], "Max": maximum[name]} for name in DEFAULT_QUOTAS]


def _describe_account_attributes(self: Any) -> ActionResult:
    return ActionResult({"AccountQuotas": quotas(self.backend)})


def _describe_automated_backups(self: Any) -> ActionResult:
    own = _guard.original(type(self), "describe_db_instance_automated_backups")(self)
    backend = self.backend
    with STATE.lock:
        replicated = [(arn, window) for (account, region, arn), window in STATE.dr_backups.items()
                      if account == backend.account_id and region == backend.region_name]
    if not replicated:
        return own  # type: ignore[no-any-return]
    rows = [_row(obj) for obj in own.result["DBInstanceAutomatedBackups"]]
    rows += [_replicated_row(arn, earliest, latest) for arn, (earliest, latest) in replicated]
    return ActionResult({"DBInstanceAutomatedBackups": rows})


def _row(obj: Any) -> dict[str, Any]:
    """moto's own automated backup of a local instance, as the dict shape the replicated ones use."""
    backend = obj.backend
    return {"DBInstanceIdentifier": obj.db_instance_identifier, "Status": obj.status,
            "Region": backend.region_name,
            "DBInstanceArn": f"arn:aws:rds:{backend.region_name}:{backend.account_id}:db:{obj.db_instance_identifier}"}


def _replicated_row(source_arn: str, earliest: datetime, latest: datetime) -> dict[str, Any]:
    parts = source_arn.split(":")
    return {"DBInstanceArn": source_arn, "DBInstanceIdentifier": parts[-1], "Region": parts[3],
            "Status": REPLICATED_STATUS, "RestoreWindow": {"EarliestTime": earliest, "LatestTime": latest}}
