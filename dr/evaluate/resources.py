"""`resources`: every database copy the topology names exists, with the role the topology gives it.

The declared primary is writable (replicates from nothing; for Aurora global, the global writer); the declared
replica replicates from that primary (read replication `replicating`), or is a secondary of the global cluster.
"""

from __future__ import annotations

from dr.aws.rds import DbView, Role, describe_member, member_arn, same_resource
from dr.config.model import Database, Engine
from dr.evaluate.model import EvaluationContext, Finding

RUNNING = "replicating"


class ResourcesCheck:
    name = "resources"

    def __call__(self, ctx: EvaluationContext) -> list[Finding]:
        out: list[Finding] = []
        for db in ctx.topology.databases:
            primary = describe_member(ctx.clients, ctx.topology, db, db.primary)
            replica = describe_member(ctx.clients, ctx.topology, db, db.replica)
            out.append(_primary(db, primary))
            out.append(_replica(ctx, db, replica))
        return out


def _where(view: DbView) -> str:
    return f"{view.id} ({view.env}/{view.region})"


def _primary(db: Database, view: DbView) -> Finding:
    where = _where(view)
    if not view.exists:
        return Finding(where, False, f"primary of {db.name} not found: the plan has nothing to fail over from")
    if db.engine is Engine.AURORA_GLOBAL and view.role is not Role.PRIMARY:
        return Finding(where, False, f"is not the writer of global cluster {db.global_cluster_id} (the topology "
                                     "names it primary); after a failover run `drctl failback`, else fix dr.yaml")
    if view.role is Role.REPLICA:
        return Finding(where, False, f"replicates from {view.source_arn}: the topology names it the writable "
                                     "primary")
    return Finding(where, True, "exists and is writable (the primary)")


def _replica(ctx: EvaluationContext, db: Database, view: DbView) -> Finding:
    where = _where(view)
    if not view.exists:
        return Finding(where, False, f"replica of {db.name} not found: a failover would have nothing to promote "
                                     "(re-create it with `drctl failback --phase reprotect`)")
    if db.engine is Engine.AURORA_GLOBAL:
        if view.role is Role.REPLICA:
            return Finding(where, True, f"secondary of global cluster {db.global_cluster_id}")
        return Finding(where, False, f"is not a secondary member of global cluster {db.global_cluster_id}")
    source = member_arn(ctx.topology, db, db.primary)
    if not same_resource(view.source_arn, source):
        what = f"replicates from {view.source_arn}" if view.source_arn else "replicates from nothing (writable)"
        return Finding(where, False, f"{what}; the topology names it the replica of {db.primary.id}")
    if view.replication_state not in (None, RUNNING):
        return Finding(where, False, f"read replication is {view.replication_state}"
                                     f"{': ' + view.replication_message if view.replication_message else ''}")
    return Finding(where, True, f"replicates from {db.primary.id}")
