"""A changed static parameter of a DB cluster parameter group waits for a reboot, as on AWS.

AWS (RDS API Reference, "ModifyDBClusterParameterGroup",
https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBClusterParameterGroup.html): "Changes to
dynamic parameters are applied immediately. Changes to static parameters require a reboot"; the `ApplyMethod`
`immediate` "can be used with dynamic parameters only", `pending-reboot` with both. Aurora User Guide, "Modifying
parameters in a DB parameter group in Amazon Aurora"
(https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_WorkingWithParamGroups.Modifying.html): until
the DB instance reboots, its parameter group status reads `pending-reboot` (for a cluster's members:
`DBClusterMembers[].DBClusterParameterGroupStatus`, RDS API Reference "DBClusterMember"). `binlog_format` is such a
parameter: "Troubleshooting cross-Region replicas for Amazon Aurora MySQL"
(https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Replication.CrossRegion.Troubleshooting.html),
"Source cluster [DB cluster ARN] doesn't have cluster parameter group in sync on writer": "You receive this error
if you have updated the binlog_format DB cluster parameter, but have not rebooted the primary instance".

moto applies every parameter at once and reports every member `in-sync`. Here a changed static parameter
(`STATIC`) of a group that clusters use leaves those clusters' current members `pending-reboot` until each is
rebooted (RebootDBInstance), then `in-sync`; `ApplyMethod` `immediate` for a static parameter is
`InvalidParameterCombination` and changes nothing; a cross-Region replica cluster of a source whose writer is
`pending-reboot` is refused with the troubleshooting page's message (the page gives no error code: here
`InvalidDBClusterStateFault`). The group itself shows the new value at once (as
DescribeDBClusterParameters does on AWS). Simplified: rebooting a writer does not reboot its readers (AWS does so
only for Aurora MySQL 2.09 and lower); associating another group with ModifyDBCluster is not modelled.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dr.sandbox.extensions import _guard, _replica_hooks

STATIC = frozenset({"binlog_format"})
"""Cluster parameters AWS applies only after a reboot (named as static in the pages above)."""
IN_SYNC, PENDING_REBOOT = "in-sync", "pending-reboot"
PENDING = "_drctl_cluster_parameters_pending"
"""Set on a moto DB instance whose cluster's parameter group changed a static parameter since it last booted."""


def install() -> None:
    from moto.rds.models import DBCluster, RDSBackend

    _guard.replace(RDSBackend, "modify_db_cluster_parameter_group", _modify_group,
                   ["db_cluster_parameter_group_name", "db_cluster_parameter_group_parameters"])
    _guard.replace(RDSBackend, "reboot_db_instance", _reboot, ["db_instance_identifier"])
    _replica_hooks.register(_replica_hooks.CLUSTER_REPLICA, _source_in_sync)
    current = DBCluster.__dict__.get("db_cluster_members")
    if not isinstance(current, property) or current.fget is None:
        raise _guard.shape_error("DBCluster.db_cluster_members is no longer a property")
    if _guard.is_patched(current.fget):
        return
    original = current.fget

    def db_cluster_members(self: Any) -> list[dict[str, Any]]:
        return _with_status(self, original(self))

    db_cluster_members.__drctl_sandbox__ = True  # type: ignore[attr-defined]
    DBCluster.db_cluster_members = property(db_cluster_members)  # type: ignore[method-assign,assignment]


def is_pending(instance: Any) -> bool:
    """Whether this moto DB instance still runs without its cluster parameter group's static changes."""
    return bool(getattr(instance, PENDING, False))


def _modify_group(self: Any, db_cluster_parameter_group_name: str,
                  db_cluster_parameter_group_parameters: Iterable[dict[str, Any]]) -> Any:
    params = list(db_cluster_parameter_group_parameters)
    for param in params:
        if param.get("ParameterName") in STATIC and str(param.get("ApplyMethod", "")).lower() == "immediate":
            from moto.rds.exceptions import RDSClientError

            raise RDSClientError("InvalidParameterCombination",
                                 f"cannot use immediate apply method for static parameter {param['ParameterName']}")
    group = self.db_cluster_parameter_groups.get(db_cluster_parameter_group_name)
    before = {name: dict(values) for name, values in group.parameters.items()} if group is not None else {}
    result = _guard.original(type(self), "modify_db_cluster_parameter_group")(
        self, db_cluster_parameter_group_name, params)
    changed = [p for p in params if p.get("ParameterName") in STATIC
               and p.get("ParameterValue") != before.get(p["ParameterName"], {}).get("ParameterValue")]
    if changed:
        name = db_cluster_parameter_group_name.lower()
        for cluster in list(self.clusters.values()):
            if str(cluster.parameter_group or "").lower() == name:
                for member in cluster.members:
                    setattr(member, PENDING, True)
    return result


def _reboot(self: Any, db_instance_identifier: str) -> Any:
    database = _guard.original(type(self), "reboot_db_instance")(self, db_instance_identifier)
    if is_pending(database):
        setattr(database, PENDING, False)  # it booted with the group's current values
    return database


def _source_in_sync(backend: Any, kwargs: dict[str, Any], source: Any) -> None:
    """AWS refuses a cross-Region replica cluster until the source's writer runs with its cluster parameters."""
    if not _replica_hooks.is_cross_region(backend, source):
        return
    if any(is_pending(m) for m in source.members if m.is_cluster_writer):
        from moto.rds.exceptions import RDSClientError

        raise RDSClientError("InvalidDBClusterStateFault", f"Source cluster {source.db_cluster_arn} doesn't have "
                             "cluster parameter group in sync on writer")


def _with_status(cluster: Any, members: list[dict[str, Any]]) -> list[dict[str, Any]]:
    pending = {m.db_instance_identifier for m in cluster.members if is_pending(m)}
    for member in members:
        member["DBClusterParameterGroupStatus"] = (PENDING_REBOOT if member["DBInstanceIdentifier"] in pending
                                                   else member.get("DBClusterParameterGroupStatus", IN_SYNC))
    return members
