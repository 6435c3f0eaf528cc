"""`dr-backup`: the databases whose DR region is this environment's have a fresh restorable copy there.

Only databases with a `dr_backup` setting (their own or the topology's `dr_backups`) are checked; the copy is read
as plan evaluation reads it (`dr.aws.backups`) and must be younger than the setting's `max_age`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dr.aws.backups import dr_backup_region, read_dr_backup
from dr.aws.errors import describe
from dr.checks.model import CheckKind, CheckResult, failed, passed
from dr.config.durations import format_duration

if TYPE_CHECKING:
    from dr.aws.factory import ClientFactory
    from dr.clock import Clock
    from dr.config.model import Database, Topology


def backed_up_into(topology: Topology, env: str) -> list[Database]:
    """Databases with a dr_backup setting whose DR region is `env`'s region."""
    region = topology.environments[env].region
    return [db for db in topology.databases
            if topology.dr_backup_of(db) is not None and dr_backup_region(topology, db) == region]


def check_dr_backups(topology: Topology, clients: ClientFactory, clock: Clock, env: str) -> list[CheckResult]:
    results = []
    now = clock.now()
    for db in backed_up_into(topology, env):
        setting = topology.dr_backup_of(db)
        assert setting is not None
        try:
            copy = read_dr_backup(topology, clients, db, setting)
        except Exception as exc:
            results.append(failed(env, CheckKind.DR_BACKUP, db.name, f"could not read the DR-region backups of "
                                                                      f"{db.primary.id}: {describe(exc)}"))
            continue
        age = copy.age_seconds(now)
        if age is None:
            results.append(failed(env, CheckKind.DR_BACKUP, db.name, f"no restorable copy among the {copy.where}"))
        elif age > setting.max_age:
            results.append(failed(env, CheckKind.DR_BACKUP, db.name,
                                  f"newest restorable copy is {format_duration(age)} old, over the "
                                  f"{format_duration(setting.max_age)} allowed ({copy.where})"))
        else:
            results.append(passed(env, CheckKind.DR_BACKUP, db.name,
                                  f"newest restorable copy is {format_duration(age)} old ({copy.where})"))
    return results
