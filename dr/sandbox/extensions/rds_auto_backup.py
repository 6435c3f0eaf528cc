"""Automated backups never block creating a database.

moto names an automated snapshot `rds:<id>-<YYYY-MM-DD-HH-MM>` and raises `...SnapshotAlreadyExists` when a
database with the same id is created again within the minute (failback re-creates a replica under the
original id right after fencing the old primary). AWS never fails a create over its own backup's name: here
the automated snapshot takes the next free suffix instead.
"""

from __future__ import annotations

from typing import Any

from dr.sandbox.extensions import _guard


def install() -> None:
    from moto.rds.models import RDSBackend

    _guard.require_attrs(RDSBackend(region_name="us-east-1", account_id="123456789012"),
                         ["database_snapshots", "cluster_snapshots"], "RDSBackend")
    _guard.replace(RDSBackend, "create_auto_snapshot", _create_auto_snapshot,
                   ["db_instance_identifier", "db_snapshot_identifier"])
    _guard.replace(RDSBackend, "create_auto_cluster_snapshot", _create_auto_cluster_snapshot,
                   ["db_cluster_identifier", "db_snapshot_identifier"])


def free_name(taken: Any, name: str) -> str:
    """`name`, or `name-2`, `name-3`, ... whichever is not in `taken` yet."""
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}-{n}"
    return candidate


def _create_auto_snapshot(self: Any, db_instance_identifier: str, db_snapshot_identifier: str) -> Any:
    original = _guard.original(type(self), "create_auto_snapshot")
    return original(self, db_instance_identifier, free_name(self.database_snapshots, db_snapshot_identifier))


def _create_auto_cluster_snapshot(self: Any, db_cluster_identifier: str, db_snapshot_identifier: str) -> Any:
    original = _guard.original(type(self), "create_auto_cluster_snapshot")
    return original(self, db_cluster_identifier, free_name(self.cluster_snapshots, db_snapshot_identifier))
