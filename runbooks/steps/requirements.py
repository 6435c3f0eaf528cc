"""What AWS requires (or recommends) before drctl creates a replica or promotes one: read-only checks, each
problem in words with what to do.

Creating a replica (re-protect), from the writer `move.old` at `move.new`:
- the source has automated backups on (RDS User Guide, "Creating a read replica": "you must enable automatic
  backups on the source DB instance by setting the backup retention period to a value other than 0");
- an encrypted source replicated to another region needs a KMS key of that region (CreateDBInstanceReadReplica /
  CreateDBCluster `KmsKeyId`), declared in the topology;
- an Aurora MySQL source of a cross-Region replica cluster has binary logging on (`binlog_format` in its DB
  cluster parameter group; Aurora User Guide, "Replicating Amazon Aurora MySQL DB clusters across AWS Regions",
  and its troubleshooting page: "Source cluster ... doesn't have binlogs enabled"), applied on its writer: the
  writer member's `DBClusterParameterGroupStatus` is `in-sync` (binlog_format is static, so a changed value waits
  for the writer's reboot; the same page: "doesn't have cluster parameter group in sync on writer").

Promoting (`promotion_requirements`, called from Prechecks):
- an Aurora DR cluster needs an available DB instance: a headless cluster (Aurora allows them as global
  secondaries) promotes to a cluster nothing can connect to — refused;
- an RDS instance replica should have automated backups with a completed backup first (PromoteReadReplica:
  "we recommend that you enable backups and complete at least one backup prior to promotion"): advice, not a
  refusal, since AWS only recommends it (and RDS for PostgreSQL replicas cannot have automated backups at all).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dr.aws.errors import describe, is_not_found
from dr.config.model import Engine
from dr.engine.step import RunContext
from runbooks.steps._common import Move, call, is_cluster, moves, rds, region
from runbooks.steps.rds_watch import RdsWatch

BINLOG_OFF = frozenset({"", "off", "none"})
PARAMETERS_IN_SYNC = "in-sync"
"""A cluster member's `DBClusterParameterGroupStatus` once it runs with its group's values (else `pending-reboot`)."""
WRITER_NOT_IN_SYNC = (
    "the DB cluster parameter group {} of {} is not in sync on its writer {} (DBClusterParameterGroupStatus {}): "
    "binlog_format is a static parameter, applied only when the writer reboots, and AWS refuses a cross-Region "
    "replica until then. Reboot the writer: aws rds reboot-db-instance --db-instance-identifier {} --region {}; once "
    "it is available again, resume: drctl resume {}")
"""Group, cluster, writer instance, its status, writer instance, region, run id (the Step Functions failback's
refusal formats the same words: dr/sfn/states_protect.py)."""
BACKUP_ENGINES = ("mysql", "mariadb")
"""RDS engines whose read replicas can have automated backups (RDS for PostgreSQL's cannot)."""


@dataclass(frozen=True)
class SourceFacts:
    """What AWS says of a replica's source (the writer): the raw description and the facts checks need."""

    raw: dict[str, Any] = field(default_factory=dict)
    encrypted: bool = False
    retention: int = 0
    engine: str = ""


def source_facts(ctx: RunContext, move: Move) -> SourceFacts:
    """DescribeDBInstances / DescribeDBClusters of the writer `move.old`, in its own account and region."""
    client = rds(ctx, move.old)
    if is_cluster(move.db.engine):
        raw = call(ctx, client.describe_db_clusters, DBClusterIdentifier=move.old.id)["DBClusters"][0]
    else:
        raw = call(ctx, client.describe_db_instances, DBInstanceIdentifier=move.old.id)["DBInstances"][0]
    return SourceFacts(raw, bool(raw.get("StorageEncrypted")), int(raw.get("BackupRetentionPeriod") or 0),
                       str(raw.get("Engine") or ""))


def kms_hint(ctx: RunContext, move: Move) -> str:
    """Where to declare the KMS key of the copy at `move.new`."""
    index = ctx.topology.databases.index(move.db)
    side = "primary" if move.new == move.db.primary else "replica"
    return (f"declare kms_key_id (a key of {region(ctx, move.new)}) under environments.{move.new.env}."
            f"replica_settings.{region(ctx, move.new)} or databases[{index}].{side}.settings")


def replica_source_problems(ctx: RunContext, move: Move, facts: SourceFacts) -> list[str]:
    """Why AWS would refuse (or silently mis-build) a replica of `move.old` at `move.new`; empty when none."""
    problems: list[str] = []
    src, dst = region(ctx, move.old), region(ctx, move.new)
    if not is_cluster(move.db.engine) and facts.retention == 0:
        problems.append(f"automated backups are off on the source {move.old.id} (BackupRetentionPeriod 0) and AWS "
                        "creates a read replica only from a source with backups: aws rds modify-db-instance "
                        f"--db-instance-identifier {move.old.id} --backup-retention-period 7 --apply-immediately "
                        f"--region {src}")
    if facts.encrypted and src != dst and not ctx.topology.settings_for(move.new).kms_key_id:
        problems.append(f"{move.old.id} is encrypted and the replica goes to another region ({dst}), where AWS "
                        f"needs a KMS key of {dst}: {kms_hint(ctx, move)}")
    if move.db.engine is Engine.AURORA_CLUSTER and facts.engine == "aurora-mysql" and src != dst:
        problems += _binlog_problems(ctx, move, facts)
    return problems


def _binlog_problems(ctx: RunContext, move: Move, facts: SourceFacts) -> list[str]:
    group = str(facts.raw.get("DBClusterParameterGroup") or "")
    value = binlog_format(rds(ctx, move.old), group)
    if value.lower() not in BINLOG_OFF:
        return _writer_sync_problems(ctx, move, facts, group)
    return [f"binary logging is off on {move.old.id} (binlog_format={value or 'OFF'} in DB cluster parameter group "
            f"{group or 'default'}): an Aurora MySQL cross-Region replica needs it. Use a custom DB cluster "
            "parameter group with binlog_format=ROW (or MIXED), apply it to the cluster and reboot its writer"]


def _writer_sync_problems(ctx: RunContext, move: Move, facts: SourceFacts, group: str) -> list[str]:
    """binlog_format is static: a value set in the group applies only once the writer rebooted, and until then AWS
    refuses the replica ("doesn't have cluster parameter group in sync on writer"). Read from the cluster's own
    description (`DBClusterMembers`), no further call; a writer that reports no status is not refused."""
    writer = writer_member(facts.raw)
    status = str(writer.get("DBClusterParameterGroupStatus") or PARAMETERS_IN_SYNC) if writer else PARAMETERS_IN_SYNC
    if writer is None or status == PARAMETERS_IN_SYNC:
        return []
    member = writer.get("DBInstanceIdentifier")
    return [WRITER_NOT_IN_SYNC.format(group or "default", move.old.id, member, status, member, region(ctx, move.old),
                                      ctx.run_id)]


def writer_member(cluster: dict[str, Any]) -> dict[str, Any] | None:
    """The writer's entry of a cluster description's `DBClusterMembers` (None when it has no writer)."""
    return next((m for m in cluster.get("DBClusterMembers") or [] if m.get("IsClusterWriter")), None)


def binlog_format(client: Any, group: str) -> str:
    """`binlog_format` of a DB cluster parameter group ("" when unset; a default group has it OFF)."""
    request: dict[str, Any] = {"DBClusterParameterGroupName": group}
    try:
        while True:
            page = client.describe_db_cluster_parameters(**request)
            for param in page.get("Parameters", []):
                if param.get("ParameterName") == "binlog_format":
                    return str(param.get("ParameterValue") or "")
            if not page.get("Marker"):
                return ""
            request["Marker"] = page["Marker"]
    except Exception as exc:
        if group.startswith("default.") and is_not_found(exc):
            return "OFF"  # AWS's default Aurora MySQL cluster parameter groups ship binlog_format OFF
        raise


@dataclass
class PromotionCheck:
    """The outcome of `promotion_requirements`: refusals block the move, advice is reported."""

    refusals: list[str] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)


Read = dict[str, Any] | Exception
"""A copy's description as AWS listed it, or the error that kept its listing from being read."""
Reads = dict[tuple[str, str], Read]
"""(environment, identifier) -> its `Read`."""


def promotion_requirements(ctx: RunContext, watch: RdsWatch | None = None) -> PromotionCheck:
    """Read-only checks of each copy about to become a writer (`move.new`); see the module docstring.

    The copies are read through shared listings (`watch`: the prechecks' own, else one scoped to the copies), not
    a describe each: one DescribeDBClusters of every DR cluster, then one DescribeDBInstances of every RDS replica
    and every member of those clusters, per account and region. A describe per copy was ~330 calls at 200
    databases, more than RDS's burst of requests, so the promotions that followed waited on throttling
    (docs/benchmarks.md, F22). The outcome lists the copies in the topology's order, as before; a copy AWS does
    not list gets none (the lineage check refuses it, naming it)."""
    todo = moves(ctx)
    out = PromotionCheck()
    if not todo:
        return out
    watch = watch or RdsWatch(scope=[(m.db, m.new) for m in todo])
    asked_at = ctx.clock.monotonic()
    clusters = _entries(ctx, watch, [m for m in todo if is_cluster(m.db.engine)], "describe_db_clusters",
                        ids=lambda move, _: [move.new.id], before={}, asked_at=asked_at)

    def instance_ids(move: Move, cluster: Read | None) -> list[str]:
        if not is_cluster(move.db.engine):
            return [move.new.id]
        return _member_ids(cluster) if isinstance(cluster, dict) else []

    instances = _entries(ctx, watch, todo, "describe_db_instances", ids=instance_ids, before=clusters,
                         asked_at=asked_at)
    for move in todo:
        refusals, advice = _promotion_check(move, clusters, instances, region(ctx, move.new))
        out.refusals += refusals
        out.advice += advice
    return out


def _entries(ctx: RunContext, watch: RdsWatch, todo: list[Move], operation: str, *,
             ids: Callable[[Move, Read | None], list[str]], before: Reads, asked_at: float) -> Reads:
    """Identifier -> its description (or the listing's error), one shared listing per account and region for all
    of `todo` (`ids`: the identifiers a move needs, given what `before` read of it)."""
    wanted: dict[tuple[str, str], tuple[Move, set[str]]] = {}
    for move in todo:
        key = (move.new.env, region(ctx, move.new))
        wanted.setdefault(key, (move, set()))[1].update(ids(move, before.get((move.new.env, move.new.id))))
    out: Reads = {}
    for move, idents in wanted.values():
        if not idents:
            continue
        try:
            found = watch.entries(ctx, move.new, operation, idents, asked_at)
        except Exception as exc:  # unreadable: each copy of this listing is advised, not refused
            out.update(dict.fromkeys(((move.new.env, i) for i in idents), exc))
            continue
        out.update({(move.new.env, i): entry for i, entry in found.items()})
    return out


def _member_ids(cluster: dict[str, Any]) -> list[str]:
    return [str(m["DBInstanceIdentifier"]) for m in cluster.get("DBClusterMembers") or []]


def _promotion_check(move: Move, clusters: Reads, instances: Reads, reg: str) -> tuple[list[str], list[str]]:
    """(refusals, advice) of one copy, from what the listings read."""
    try:
        if is_cluster(move.db.engine):
            found = _known(clusters.get((move.new.env, move.new.id)))
            return ([] if found is None else _writer_capable(move, found, instances, reg)), []
        replica = _known(instances.get((move.new.env, move.new.id)))
        return [], [] if replica is None else _replica_backups(move, replica)
    except Exception as exc:  # unreadable here: the promote step reads it again and decides
        return [], [f"{move.db.name}: could not check {move.new.id} before promotion: {describe(exc)}"]


def _known(read: Read | None) -> dict[str, Any] | None:
    """The description; raises the error that kept it from being read; None when AWS does not list the copy."""
    if isinstance(read, Exception):
        raise read
    return read


def _writer_capable(move: Move, found: dict[str, Any], instances: Reads, reg: str) -> list[str]:
    members = _member_ids(found)
    where = f"{move.new.id} in {reg}"
    add = (f"aws rds create-db-instance --db-cluster-identifier {move.new.id} --db-instance-identifier "
           f"{move.new.id}-1 --engine {found.get('Engine')} --db-instance-class <class> --region {reg}")
    if not members:
        return [f"{move.db.name}: {where} has no DB instance (headless): promoted, it could serve nothing. "
                f"Add one and wait until it is available: {add}"]
    listed = [_known(instances.get((move.new.env, member))) for member in members]
    if any(i is not None and i.get("DBInstanceStatus") == "available" for i in listed):
        return []
    return [f"{move.db.name}: no DB instance of {where} is available ({', '.join(members)}): promoted, it could "
            "not take writes. Wait until one is available, or add one: " + add]


def _replica_backups(move: Move, found: dict[str, Any]) -> list[str]:
    if not str(found.get("Engine", "")).startswith(BACKUP_ENGINES):
        return []
    if int(found.get("BackupRetentionPeriod") or 0) == 0:
        return [f"{move.db.name}: {move.new.id} has no automated backups; AWS recommends enabling them and completing "
                "one before promotion, so that no backup runs during it"]
    if not found.get("LatestRestorableTime"):
        return [f"{move.db.name}: {move.new.id} has not completed a backup yet; AWS recommends one before promotion"]
    return []
