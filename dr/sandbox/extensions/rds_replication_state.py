"""Read-replication state of RDS replicas, reported in `StatusInfos` as AWS does.

moto reports no `StatusInfos`. Here every read replica reports `read replication` /
`replicating` (Normal) unless the control API set another state for it (`replication degraded`,
`error`, `stopped`, `terminated`, with an optional message); a database that is not a replica
reports none. While the source's region (or the replica's own) is in outage, the replica reports
`error` with a message naming the region: replication has stopped, as AWS's console shows it ("Replication
State ... changes to Error if replication stops", AWS Knowledge Center "How do I resolve replication lag in
my Amazon RDS for PostgreSQL DB instance?"; states listed in the API's `DBInstanceStatusInfo`).
"""

from __future__ import annotations

from typing import Any

from dr.sandbox.extensions import _guard
from dr.sandbox.extensions.outage import is_down
from dr.sandbox.extensions.state import STATE

REPLICATING = "replicating"
STATES = (REPLICATING, "replication degraded", "error", "stopped", "terminated")
STATUS_TYPE = "read replication"


def install() -> None:
    from moto.rds.models import DBInstance

    current = DBInstance.__dict__.get("status_infos")
    if isinstance(current, property) and _guard.is_patched(current.fget):
        return
    if current is not None or hasattr(DBInstance, "status_infos"):
        raise _guard.shape_error("DBInstance.status_infos now exists in moto; the sandbox would shadow it")
    _status_infos.__drctl_sandbox__ = True  # type: ignore[attr-defined]
    DBInstance.status_infos = property(_status_infos)  # type: ignore[attr-defined]


def set_state(account_id: str, region: str, identifier: str, state: str, message: str | None) -> None:
    with STATE.lock:
        STATE.replication_states[(account_id, region, identifier.lower())] = (state, message)


def _status_infos(self: Any) -> list[dict[str, Any]] | None:
    if not self.is_replica:
        return None
    with STATE.lock:
        key = (self.account_id, self.region, self.db_instance_identifier.lower())
        state, message = STATE.replication_states.get(key, (REPLICATING, None))
    down = next((r for r in (source_region(self), self.region) if is_down(r)), None)
    if down is not None:
        state, message = "error", f"replication stopped: region {down} is unreachable (sandbox outage)"
    info: dict[str, Any] = {"StatusType": STATUS_TYPE, "Normal": state == REPLICATING, "Status": state}
    if message:
        info["Message"] = message
    return [info]


def source_region(replica: Any) -> str:
    """The region of a replica's source: named in its ARN (cross-region), else the replica's own."""
    source = str(replica.source_db_instance_identifier or "")
    return source.split(":")[3] if source.startswith("arn:") else str(replica.region)
