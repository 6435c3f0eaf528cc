"""Renaming a DB instance (`ModifyDBInstance` with `NewDBInstanceIdentifier`) keeps replication links.

moto renames the instance but leaves its replicas pointing at the old name and its primary listing
the old name; AWS follows the rename. A rename onto an existing identifier is refused with
`DBInstanceAlreadyExists`, as in AWS. Failback renames the fenced old primary this way.
"""

from __future__ import annotations

from typing import Any

from dr.sandbox.data.load import renaming
from dr.sandbox.extensions import _guard
from dr.sandbox.extensions.rds_fence import mark_stopped
from dr.sandbox.extensions.rds_promotion import find_instance


def install() -> None:
    from moto.rds.models import RDSBackend

    _guard.replace(RDSBackend, "modify_db_instance", _modify_db_instance, ["db_instance_identifier", "db_kwargs"])


def _modify_db_instance(self: Any, db_instance_identifier: str, db_kwargs: Any) -> Any:
    new_id = db_kwargs.get("new_db_instance_identifier")
    database = self.databases.get(db_instance_identifier) if new_id else None
    if database is not None and new_id.lower() != db_instance_identifier.lower() and new_id in self.databases:
        from moto.rds.exceptions import RDSClientError

        raise RDSClientError("DBInstanceAlreadyExists", f"DB instance {new_id} already exists.")
    old = (database.db_instance_arn, database.db_instance_identifier) if database is not None else None
    if database is not None:
        renaming(database)  # the data model remembers the identifier its applications write to
    modify = _guard.original(type(self), "modify_db_instance")
    result = modify(self, db_instance_identifier, db_kwargs)
    if database is not None and old is not None and old[1] != database.db_instance_identifier:
        mark_stopped(database)  # the old endpoint is gone and the instance reboots: its applications lost it
        _follow_rename(database, old)
    return result


def _follow_rename(database: Any, old: tuple[str, str]) -> None:
    old_arn, old_id = old
    new_arn, new_id = database.db_instance_arn, database.db_instance_identifier
    renamed = {old_arn: new_arn, old_id: new_id}
    for ref in list(database.replicas):
        replica = find_instance(database, ref)
        if replica is not None and replica.source_db_instance_identifier in renamed:
            replica.source_db_instance_identifier = renamed[replica.source_db_instance_identifier]
    source = database.source_db_instance_identifier
    primary = find_instance(database, source) if source else None
    if primary is not None:
        primary.replicas = [renamed.get(ref, ref) for ref in primary.replicas]
