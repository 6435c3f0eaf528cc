"""Aurora global database switchover and failover, which moto does not implement.

`SwitchoverGlobalCluster` (planned, no data loss): every member must be available; the target
secondary becomes the writer and the old writer a secondary. `FailoverGlobalCluster` with
`AllowDataLoss=True` (unplanned): only the target must be available; the target becomes the writer
and the old primary is no longer writer (AWS re-adds it as a secondary when its region recovers; the
sandbox keeps it as a member that is not the writer). Without `AllowDataLoss`, or with `Switchover`,
`FailoverGlobalCluster` is a switchover; both together are an `InvalidParameterCombination`, as the
API documents. The global cluster reads `switching-over` / `failing-over` (with a `FailoverState`)
for `STATE.promotion_seconds`. moto keeps global clusters in the us-east-1 backend.
"""

from __future__ import annotations

from typing import Any

from dr.sandbox.data.load import global_writer_moved
from dr.sandbox.extensions import _guard, transitions
from dr.sandbox.extensions.aurora_membership import global_cluster_named, member_named
from dr.sandbox.extensions.state import STATE

SWITCHING_OVER = "switching-over"
FAILING_OVER = "failing-over"
AVAILABLE = "available"


def install() -> None:
    from moto.rds.models import GlobalCluster, RDSBackend
    from moto.rds.responses import RDSResponse

    _guard.require_attrs(RDSResponse, ["global_backend"], "RDSResponse")
    _guard.expect_params(
        GlobalCluster.__init__,
        [
            "backend",
            "global_cluster_identifier",
            "engine",
            "engine_version",
            "storage_encrypted",
            "deletion_protection",
        ],
        "GlobalCluster",
    )
    transitions.install_on(GlobalCluster)
    if not isinstance(GlobalCluster.__dict__.get("failover_state"), property):
        GlobalCluster.failover_state = property(_failover_state)  # type: ignore[attr-defined]
    _guard.replace(
        RDSBackend,
        "create_global_cluster",
        _create_global_cluster,
        [
            "global_cluster_identifier",
            "source_db_cluster_identifier",
            "engine",
            "engine_version",
            "storage_encrypted",
            "deletion_protection",
        ],
    )
    _guard.add(RDSBackend, "switchover_global_cluster", _switchover_backend)
    _guard.add(RDSBackend, "failover_global_cluster", _failover_backend)
    _guard.add(RDSResponse, "switchover_global_cluster", _switchover_response)
    _guard.add(RDSResponse, "failover_global_cluster", _failover_response)


def _error(code: str, message: str) -> Exception:
    from moto.rds.exceptions import RDSClientError

    return RDSClientError(code, message)


def _failover_state(self: Any) -> dict[str, Any] | None:
    state: dict[str, Any] | None = self.__dict__.get("_drctl_failover_state")
    return state if state is not None and transitions.pending(self) is not None else None


def _create_global_cluster(  # noqa: PLR0917 - mirrors moto's create_global_cluster
    self: Any,
    global_cluster_identifier: str,
    source_db_cluster_identifier: str | None,
    engine: str | None,
    engine_version: str | None,
    storage_encrypted: bool | None,
    deletion_protection: bool | None,
) -> Any:
    # moto looks the source cluster up only in the us-east-1 backend (where it keeps global clusters),
    # and never marks it the writer; AWS takes a source cluster in any region and makes it the writer.
    create = _guard.original(type(self), "create_global_cluster")
    source = _source_cluster(self, source_db_cluster_identifier) if engine is None else None
    if source is None:
        global_cluster = create(
            self,
            global_cluster_identifier,
            source_db_cluster_identifier,
            engine,
            engine_version,
            storage_encrypted,
            deletion_protection,
        )
    else:
        global_cluster = create(
            self,
            global_cluster_identifier,
            None,
            source.engine,
            source.engine_version,
            storage_encrypted,
            deletion_protection,
        )
        source.global_cluster_identifier = global_cluster.global_cluster_arn
        global_cluster.members.append(source)
    if global_cluster.members and not any(m.is_writer for m in global_cluster.members):
        global_cluster.members[0].is_writer = True
    return global_cluster


def _source_cluster(backend: Any, identifier: str | None) -> Any | None:
    """The source cluster when it lives in another region than `backend` (moto would not find it)."""
    if not identifier or not identifier.startswith("arn:"):
        return None
    parts = identifier.split(":")
    if len(parts) < 7 or parts[3] == backend.region_name:
        return None
    from moto.rds.models import rds_backends

    return rds_backends[parts[4]][parts[3]].describe_db_clusters(identifier)[0]


def _find(backend: Any, global_cluster_identifier: str, target: str) -> tuple[Any, Any, Any]:
    global_cluster = global_cluster_named(backend, global_cluster_identifier)
    if global_cluster.status != AVAILABLE:
        raise _error(
            "InvalidGlobalClusterStateFault",
            f"Global cluster {global_cluster_identifier} is {global_cluster.status}, not available.",
        )
    member = member_named(global_cluster, global_cluster_identifier, target)
    if member.is_writer:
        raise _error("InvalidDBClusterStateFault", f"DB cluster {target} is already the primary of the global cluster.")
    if transitions.settled_status(member) != AVAILABLE:
        raise _error("InvalidDBClusterStateFault", f"DB cluster {target} is {member.status}, not available.")
    writer = next((m for m in global_cluster.members if m.is_writer), None)
    return global_cluster, member, writer


def _move_writer(global_cluster: Any, target: Any, writer: Any, *, data_loss: bool) -> Any:
    status = FAILING_OVER if data_loss else SWITCHING_OVER
    global_cluster.__dict__["_drctl_failover_state"] = {
        "Status": status,
        "FromDbClusterArn": writer.db_cluster_arn if writer is not None else None,
        "ToDbClusterArn": target.db_cluster_arn,
        "IsDataLossAllowed": data_loss,
    }
    done_at = transitions.begin(  # the moving status first: no reader sees the new writer `available` too early
        global_cluster, status, AVAILABLE, STATE.promotion_seconds_for(target.db_cluster_identifier)
    )

    def flip() -> None:
        if writer is not None:
            writer.is_writer = False
        target.is_writer = True

    # the data model catches up, the roles flip, the target forks (a switchover applies everything first)
    global_writer_moved(target, writer, done_at, flip, data_loss=data_loss)
    global_cluster.members.sort(key=lambda m: not m.is_writer)
    kind = "global-failover" if data_loss else "global-switchover"
    STATE.record_promotion(kind, target.account_id, target.region, target.db_cluster_identifier, done_at)
    return global_cluster


def _switchover_backend(self: Any, global_cluster_identifier: str, target_db_cluster_identifier: str) -> Any:
    global_cluster, target, writer = _find(self, global_cluster_identifier, target_db_cluster_identifier)
    busy = [m.db_cluster_identifier for m in global_cluster.members if transitions.settled_status(m) != AVAILABLE]
    if busy:
        raise _error(
            "InvalidGlobalClusterStateFault",
            f"Switchover needs every member available; not available: {', '.join(busy)}. "
            "Use FailoverGlobalCluster with AllowDataLoss for an unplanned failover.",
        )
    return _move_writer(global_cluster, target, writer, data_loss=False)


def _failover_backend(
    self: Any,
    global_cluster_identifier: str,
    target_db_cluster_identifier: str,
    allow_data_loss: bool | None = None,
    switchover: bool | None = None,
) -> Any:
    if allow_data_loss is not None and switchover is not None:
        raise _error("InvalidParameterCombination", "AllowDataLoss can't be specified together with Switchover.")
    if not allow_data_loss:
        return _switchover_backend(self, global_cluster_identifier, target_db_cluster_identifier)
    global_cluster, target, writer = _find(self, global_cluster_identifier, target_db_cluster_identifier)
    return _move_writer(global_cluster, target, writer, data_loss=True)


def _switchover_response(self: Any) -> Any:
    from moto.core.responses import ActionResult

    params = self.params
    cluster = self.global_backend.switchover_global_cluster(
        params["GlobalClusterIdentifier"], params["TargetDbClusterIdentifier"]
    )
    return ActionResult({"GlobalCluster": cluster})


def _failover_response(self: Any) -> Any:
    from moto.core.responses import ActionResult

    params = self.params
    cluster = self.global_backend.failover_global_cluster(
        params["GlobalClusterIdentifier"],
        params["TargetDbClusterIdentifier"],
        params.get("AllowDataLoss"),
        params.get("Switchover"),
    )
    return ActionResult({"GlobalCluster": cluster})
