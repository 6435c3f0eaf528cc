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

from dr.sandbox.extensions import _guard, _replica_hooks


def install() -> None:
    import inspect

    from moto.rds import models

    _guard.require_attrs(models, ["find_cluster", "RDSBackend", "DBCluster"], "moto.rds.models")
    if "master_username" not in inspect.signature(models.DBCluster.__init__).parameters:
        raise _guard.shape_error("DBCluster.__init__ no longer takes master_username")
    # one patch of create_db_cluster serves every replica-creation rule (dr/sandbox/extensions/_replica_hooks.py)
    _replica_hooks.register(_replica_hooks.CLUSTER_REPLICA, _take_master_user)


def _take_master_user(backend: Any, kwargs: dict[str, Any], source: Any) -> None:
    """A replica cluster created without a master user uses its source's (moto keeps the password privately);
    the source was found by the hook runner, so a missing one is already DBClusterNotFoundFault."""
    if kwargs.get("master_username"):
        return
    kwargs["master_username"] = source.master_username
    kwargs["master_user_password"] = (kwargs.get("master_user_password")
                                      or getattr(source, "_master_user_password", None))
