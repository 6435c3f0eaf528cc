"""A cross-Region Aurora replica cluster is created without a master user, as in AWS.

moto's `DBCluster` insists on `MasterUsername` unless the cluster joins a global database. AWS takes it from
the source: "You don't need to include the MasterUsername and MasterUserPassword parameters, because those
values are taken from the source DB cluster" (RDS API `CreateDBCluster` with `ReplicationSourceIdentifier`, in
the Aurora User Guide, "Replicating Amazon Aurora MySQL DB clusters across AWS Regions"; the CLI form says "You
can't specify the --master-username and --master-user-password parameters"; see also the RDS API Reference,
"CreateDBCluster", ReplicationSourceIdentifier). Here a replica cluster created without them gets its source
cluster's master username and password; a source that does not exist is refused (DBClusterNotFoundFault).
"""

from __future__ import annotations

from typing import Any

from dr.sandbox.extensions import _guard


def install() -> None:
    import inspect

    from moto.rds import models

    _guard.require_attrs(models, ["find_cluster", "RDSBackend", "DBCluster"], "moto.rds.models")
    if "master_username" not in inspect.signature(models.DBCluster.__init__).parameters:
        raise _guard.shape_error("DBCluster.__init__ no longer takes master_username")
    _guard.replace(models.RDSBackend, "create_db_cluster", _create_db_cluster, ["kwargs"])


def _create_db_cluster(self: Any, kwargs: dict[str, Any]) -> Any:
    original = _guard.original(type(self), "create_db_cluster")
    source = str(kwargs.get("replication_source_identifier") or "")
    if ":cluster:" in source and not kwargs.get("master_username"):
        from moto.rds.models import find_cluster

        found = find_cluster(source)
        # the replica uses its source's master user and password (moto keeps the password privately)
        kwargs = {**kwargs, "master_username": found.master_username,
                  "master_user_password": kwargs.get("master_user_password")
                  or getattr(found, "_master_user_password", None)}
    return original(self, kwargs)
