"""No StopDBInstance of an instance that has read replicas or is one.

AWS (RDS User Guide, "Stopping an Amazon RDS DB instance temporarily", Limitations: "You can't stop a DB
instance that has a read replica, or that is a read replica"):
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_StopInstance.html

moto stops a primary that still has replicas, and refuses a replica with a cluster error code
(`InvalidDBClusterStateFault`). Here both are `InvalidDBInstanceState`, naming why.
"""

from __future__ import annotations

from typing import Any

from dr.sandbox.extensions import _guard


def install() -> None:
    from moto.rds.models import RDSBackend

    _guard.replace(RDSBackend, "stop_db_instance", _stop_db_instance, ["db_instance_identifier",
                                                                        "db_snapshot_identifier"])


def _stop_db_instance(self: Any, db_instance_identifier: str, db_snapshot_identifier: str | None = None) -> Any:
    database = self.describe_db_instances(db_instance_identifier)[0]  # DBInstanceNotFound if absent
    if database.is_replica or database.replicas:
        from moto.rds.exceptions import RDSClientError

        why = ("is a read replica" if database.is_replica
               else f"has read replicas ({', '.join(str(r) for r in database.replicas)})")
        raise RDSClientError("InvalidDBInstanceState",
                             f"Cannot stop DB instance {db_instance_identifier}: it {why}. Promote or delete the "
                             "read replicas first.")
    from dr.sandbox.extensions.rds_fence import mark_stopped

    stopped = _guard.original(type(self), "stop_db_instance")(self, db_instance_identifier, db_snapshot_identifier)
    mark_stopped(database)  # its applications lost it: its replicas' lag reads as a fenced source's
    return stopped
