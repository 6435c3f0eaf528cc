"""Option groups for the PostgreSQL versions AWS offers them for (moto's table stops at PostgreSQL 13).

AWS creates and accepts option groups per engine and major version, including current PostgreSQL ones
(RDS User Guide, "Working with option groups": an option group is specific to an engine and major version,
e.g. the default `default:postgres-16`):
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithOptionGroups.html

moto refuses CreateOptionGroup for postgres 14-17 ("Cannot find major version"), which would keep the sandbox
from seeding a topology that names a custom option group for the PostgreSQL 16 instances it creates. Here the
group is created for that version; everything else stays moto's.
"""

from __future__ import annotations

from typing import Any

from dr.sandbox.extensions import _guard

MOTO_NEWEST_POSTGRES = "13"
AWS_POSTGRES = frozenset({"14", "15", "16", "17"})


def install() -> None:
    from moto.rds.models import RDSBackend

    _guard.replace(RDSBackend, "create_option_group", _create_option_group, ["option_group_kwargs"])


def _create_option_group(self: Any, option_group_kwargs: Any) -> Any:
    create = _guard.original(type(self), "create_option_group")
    version = str(option_group_kwargs.get("major_engine_version", ""))
    if option_group_kwargs.get("engine_name") != "postgres" or version not in AWS_POSTGRES:
        return create(self, option_group_kwargs)
    group = create(self, {**option_group_kwargs, "major_engine_version": MOTO_NEWEST_POSTGRES})
    group.major_engine_version = version
    return group
