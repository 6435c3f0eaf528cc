"""What AWS requires (or recommends) before drctl creates a replica or promotes one: read-only checks, each
problem in words with what to do.

Creating a replica (re-protect), from the writer `move.old` at `move.new`:
- the source has automated backups on (RDS User Guide, "Creating a read replica": "you must enable automatic
  backups on the source DB instance by setting the backup retention period to a value other than 0");
- an encrypted source replicated to another region needs a KMS key of that region (CreateDBInstanceReadReplica /
  CreateDBCluster `KmsKeyId`), declared in the topology;
- an Aurora MySQL source of a cross-Region replica cluster has binary logging on (`binlog_format` in its DB
  cluster parameter group; Aurora User Guide, "Replicating Amazon Aurora MySQL DB clusters across AWS Regions",
  and its troubleshooting page: "Source cluster ... doesn't have binlogs enabled").

Promoting (`promotion_requirements`, called from Prechecks):
- an Aurora DR cluster needs an available DB instance: a headless cluster (Aurora allows them as global
  secondaries) promotes to a cluster nothing can connect to — refused;
- an RDS instance replica should have automated backups with a completed backup first (PromoteReadReplica:
  "we recommend that you enable backups and complete at least one backup prior to promotion"): advice, not a
  refusal, since AWS only recommends it (and RDS for PostgreSQL replicas cannot have automated backups at all).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from dr.aws.errors import describe, is_not_found
from dr.config.model import Engine
from dr.engine.step import RunContext
from runbooks.steps._common import Move, call, is_cluster, moves, rds, region

REQUIREMENT_READS = 16
"""Copies read at once by `promotion_requirements` (their describes stay inside RDS's burst of 300)."""
BINLOG_OFF = frozenset({"", "off", "none"})
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
        return []
    return [f"binary logging is off on {move.old.id} (binlog_format={value or 'OFF'} in DB cluster parameter group "
            f"{group or 'default'}): an Aurora MySQL cross-Region replica needs it. Use a custom DB cluster "
            "parameter group with binlog_format=ROW (or MIXED), apply it to the cluster and reboot its writer"]


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


def promotion_requirements(ctx: RunContext) -> PromotionCheck:
    """Read-only checks of each copy about to become a writer (`move.new`); see the module docstring. The copies
    are read side by side (a describe or two each: one after another they were most of the prechecks' time at 60
    databases, docs/benchmarks.md); the outcome lists them in the topology's order, as before."""
    todo = moves(ctx)
    out = PromotionCheck()
    if not todo:
        return out
    with ThreadPoolExecutor(max_workers=min(REQUIREMENT_READS, len(todo)),
                            thread_name_prefix="drctl-requirements") as pool:
        for refusals, advice in pool.map(lambda move: _promotion_check(ctx, move), todo):
            out.refusals += refusals
            out.advice += advice
    return out


def _promotion_check(ctx: RunContext, move: Move) -> tuple[list[str], list[str]]:
    """(refusals, advice) of one copy."""
    try:
        if is_cluster(move.db.engine):
            return _writer_capable(ctx, move), []
        return [], _replica_backups(ctx, move)
    except Exception as exc:  # unreadable here: the promote step reads it again and decides
        return [], [f"{move.db.name}: could not check {move.new.id} before promotion: {describe(exc)}"]


def _writer_capable(ctx: RunContext, move: Move) -> list[str]:
    client = rds(ctx, move.new)
    found = call(ctx, client.describe_db_clusters, DBClusterIdentifier=move.new.id)["DBClusters"][0]
    members = [m["DBInstanceIdentifier"] for m in found.get("DBClusterMembers") or []]
    reg = region(ctx, move.new)
    where = f"{move.new.id} in {reg}"
    add = (f"aws rds create-db-instance --db-cluster-identifier {move.new.id} --db-instance-identifier "
           f"{move.new.id}-1 --engine {found.get('Engine')} --db-instance-class <class> --region {reg}")
    if not members:
        return [f"{move.db.name}: {where} has no DB instance (headless): promoted, it could serve nothing. "
                f"Add one and wait until it is available: {add}"]
    listed = call(ctx, client.describe_db_instances, Filters=[{"Name": "db-cluster-id", "Values": [move.new.id]}])
    if any(i.get("DBInstanceStatus") == "available" for i in listed.get("DBInstances", [])):
        return []
    return [f"{move.db.name}: no DB instance of {where} is available ({', '.join(members)}): promoted, it could "
            "not take writes. Wait until one is available, or add one: " + add]


def _replica_backups(ctx: RunContext, move: Move) -> list[str]:
    found = call(ctx, rds(ctx, move.new).describe_db_instances, DBInstanceIdentifier=move.new.id)["DBInstances"][0]
    if not str(found.get("Engine", "")).startswith(BACKUP_ENGINES):
        return []
    if int(found.get("BackupRetentionPeriod") or 0) == 0:
        return [f"{move.db.name}: {move.new.id} has no automated backups; AWS recommends enabling them and completing "
                "one before promotion, so that no backup runs during it"]
    if not found.get("LatestRestorableTime"):
        return [f"{move.db.name}: {move.new.id} has not completed a backup yet; AWS recommends one before promotion"]
    return []
