"""`replica-backups` and `dr-backup`: the DR side can be restored from, not only promoted.

- Every replica has automated backups on (retention > 0): AWS creates read replicas with backups off, and a
  promoted copy without them has no point-in-time recovery and cannot be the source of new replicas.
- Every database with a `dr_backup` setting has a restorable copy in its DR region younger than `max_age`
  (`dr.aws.backups`); the age is also exported as `drctl_dr_backup_age_seconds`.
"""

from __future__ import annotations

from dr.aws.backups import dr_backup_region, read_dr_backup
from dr.aws.errors import describe
from dr.aws.rds import describe_member
from dr.config.durations import format_duration as human_seconds
from dr.evaluate.model import EvaluationContext, Finding


class ReplicaBackupsCheck:
    name = "replica-backups"

    def __call__(self, ctx: EvaluationContext) -> list[Finding]:
        out = []
        for db in ctx.topology.databases:
            view = describe_member(ctx.clients, ctx.topology, db, db.replica)
            where = f"{view.id} ({view.env}/{view.region})"
            if not view.exists:
                out.append(Finding(where, False, "not found (see the resources check)"))
            elif not view.backup_retention:
                out.append(Finding(where, False, "automated backups are off (retention 0): once promoted it has no "
                                                 "point-in-time recovery; turn them on with `aws rds "
                                                 "modify-db-instance --backup-retention-period N`", 0.0))
            else:
                out.append(Finding(where, True, f"automated backups on, kept {view.backup_retention} days",
                                   float(view.backup_retention)))
        return out


class DrBackupCheck:
    name = "dr-backup"

    def __call__(self, ctx: EvaluationContext) -> list[Finding]:
        out = []
        now = ctx.clock.now()
        for db in ctx.topology.databases:
            setting = ctx.topology.dr_backup_of(db)
            if setting is None:
                continue
            resource = f"{db.name} ({dr_backup_region(ctx.topology, db)})"
            try:
                copy = read_dr_backup(ctx.topology, ctx.clients, db, setting)
            except Exception as err:  # one unreadable copy must not hide the others
                out.append(Finding(resource, False, f"could not read its {setting.source} copies: {describe(err)}"))
                continue
            age = copy.age_seconds(now)
            labels = (("database", db.name), ("region", copy.region))
            if age is None:
                out.append(Finding(resource, False, f"no restorable copy: none of the {copy.where}; check the "
                                                    f"{setting.source} setup for {db.primary.id}"))
            elif age > setting.max_age:
                out.append(Finding(resource, False, f"newest restorable copy is {human_seconds(age)} old, over "
                                                    f"the {human_seconds(setting.max_age)} allowed ({copy.where})",
                                   age, labels))
            else:
                out.append(Finding(resource, True, f"newest restorable copy is {human_seconds(age)} old "
                                                   f"({copy.where})", age, labels))
        return out
