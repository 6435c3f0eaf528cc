"""The permission bundles steps compose their declarations from: one function per kind of AWS work drctl does
(read a database, fence it, promote it, move a zone, read readiness ...), each returning Grants."""

from __future__ import annotations

from collections.abc import Iterable

from dr.config.model import ArcRouting, Database, DbLocation, DnsRecord, Engine, Topology
from dr.iam import arns
from dr.iam.grants import Grant, grant

RDS_READS = ("rds:DescribeDBInstances", "rds:DescribeDBClusters", "rds:DescribeGlobalClusters")
RDS_KINDS = ("db", "cluster", "global-cluster")


def rds_reads(topology: Topology, locs: Iterable[tuple[Database, DbLocation]]) -> list[Grant]:
    """Describe the copies (listings of a region and kind, members of clusters, tags in the answer): on every
    resource of those kinds in each account and region (AWS authorizes a listing on `<kind>:*`)."""
    return [rds_listing(topology, env, region)
            for env, region in sorted({(loc.env, topology.region_of(loc)) for _, loc in locs})]


def rds_listing(topology: Topology, env: str, region: str) -> Grant:
    """List every instance, cluster and global cluster of env's account in `region`."""
    resources = [arns.all_of_kind(topology, env, region, "db"), arns.all_of_kind(topology, env, region, "cluster"),
                 arns.global_cluster(topology, env, region, "*")]
    return grant(env, region, RDS_READS, resources)


def both_sides(db: Database) -> list[tuple[Database, DbLocation]]:
    return [(db, db.primary), (db, db.replica)]


def tag(topology: Topology, db: Database, loc: DbLocation, *, renamed: bool = True) -> Grant:
    resources = arns.member_and_renamed(topology, db, loc) if renamed else [arns.member(topology, db, loc)]
    return grant(loc.env, topology.region_of(loc), ["rds:AddTagsToResource"], resources)


def fence(topology: Topology, db: Database, loc: DbLocation) -> list[Grant]:
    """Rename a writer away (`<id>-fenced-<run>`, and back on a compensating undo) and tag it."""
    action = "rds:ModifyDBInstance" if db.engine is Engine.RDS_INSTANCE else "rds:ModifyDBCluster"
    region = topology.region_of(loc)
    return [grant(loc.env, region, [action], arns.member_and_renamed(topology, db, loc)), tag(topology, db, loc)]


def stop(topology: Topology, db: Database, loc: DbLocation) -> list[Grant]:
    """Stop a fenced copy (it carries its fenced id by then)."""
    action = "rds:StopDBInstance" if db.engine is Engine.RDS_INSTANCE else "rds:StopDBCluster"
    return [grant(loc.env, topology.region_of(loc), [action], [arns.member(topology, db, loc, "-fenced-*")])]


def promote(topology: Topology, db: Database, loc: DbLocation) -> list[Grant]:
    """Promote a replica (RDS instance, Aurora replica cluster) or move an Aurora global writer to it."""
    region = topology.region_of(loc)
    if db.engine is Engine.AURORA_GLOBAL:
        resources = [arns.member(topology, db, loc),
                     arns.global_cluster(topology, loc.env, region, db.global_cluster_id or "*")]
        out = [grant(loc.env, region, ["rds:SwitchoverGlobalCluster", "rds:FailoverGlobalCluster"], resources)]
    else:
        action = "rds:PromoteReadReplica" if db.engine is Engine.RDS_INSTANCE else "rds:PromoteReadReplicaDBCluster"
        out = [grant(loc.env, region, [action], [arns.member(topology, db, loc)])]
    return [*out, tag(topology, db, loc, renamed=False)]


def keep_backups(topology: Topology, db: Database, loc: DbLocation) -> list[Grant]:
    return [grant(loc.env, topology.region_of(loc), ["rds:ModifyDBCluster"], [arns.member(topology, db, loc)])]


def lag(topology: Topology, loc: DbLocation) -> list[Grant]:
    """Replication lag: CloudWatch in the replica's account and region."""
    return [grant(loc.env, topology.region_of(loc), ["cloudwatch:GetMetricData"], ["*"])]


def zone(record_env: str, zone_id: str, *, change: bool) -> list[Grant]:
    """Read a hosted zone's record sets; with `change`, change them and wait for the change."""
    actions = ["route53:ListResourceRecordSets"]
    if change:
        actions.append("route53:ChangeResourceRecordSets")
    out = [grant(record_env, arns.ROUTE53_REGION, actions, [arns.hosted_zone(zone_id)])]
    if change:
        out.append(grant(record_env, arns.ROUTE53_REGION, ["route53:GetChange"], [arns.ROUTE53_CHANGES]))
    return out


def answers(record_env: str, zone_id: str) -> list[Grant]:
    """What a failover-routing record answers (dr/aws/dns_answers.py): the zone's name servers from its delegation
    set (GetHostedZone), else the control plane's TestDNSAnswer (no resource type: `*`)."""
    return [grant(record_env, arns.ROUTE53_REGION, ["route53:GetHostedZone"], [arns.hosted_zone(zone_id)]),
            grant(record_env, arns.ROUTE53_REGION, ["route53:TestDNSAnswer"], ["*"])]


def health(records: Iterable[DnsRecord], sides: Iterable[str] | None = None, *, update: bool = False) -> list[Grant]:
    """Read the records' health checks (configuration, status, their CloudWatch metrics in us-east-1); with
    `update`, invert/restore them."""
    wanted = set(sides) if sides is not None else None
    out: list[Grant] = []
    by_env: dict[str, set[str]] = {}
    for record in records:
        for side, check in record.health_checks.items():
            if wanted is None or side in wanted:
                by_env.setdefault(record.env, set()).add(arns.health_check(check))
    actions = ["route53:GetHealthCheck", "route53:GetHealthCheckStatus"]
    if update:
        actions.append("route53:UpdateHealthCheck")
    for env, checks in sorted(by_env.items()):
        out.append(grant(env, arns.ROUTE53_REGION, actions, checks))
        out.append(grant(env, arns.ROUTE53_REGION, ["route53:ListHealthChecks", "cloudwatch:GetMetricData"], ["*"]))
    return out


def readiness(topology: Topology, env: str) -> list[Grant]:
    """EKS clusters, ECS services and Auto Scaling groups of `env`, in its account and home region; the ARC
    routing controls of its arc-routing-control records; the DR-region backups of the databases whose DR region is
    env's (readiness check `dr-backup`)."""
    from dr.checks.dr_backup import backed_up_into

    backups = [g for db in backed_up_into(topology, env) for g in dr_backup_reads(topology, db)]
    spec = topology.readiness.get(env)
    out: list[Grant] = backups + arc_readiness(topology, env)
    if spec is None:
        return out
    region = topology.environments[env].region
    if spec.eks_clusters:
        out.append(grant(env, region, ["eks:DescribeCluster"],
                         [arns.eks_cluster(topology, env, region, name) for name in spec.eks_clusters]))
    if spec.ecs_services:
        out.append(grant(env, region, ["ecs:DescribeServices"],
                         [arns.ecs_service(topology, env, region, s.cluster, s.service) for s in spec.ecs_services]))
    if spec.autoscaling_groups:
        out.append(grant(env, region, ["autoscaling:DescribeAutoScalingGroups"], ["*"]))
    return out


def dr_backup_reads(topology: Topology, db: Database) -> list[Grant]:
    """The newest restorable copy of `db` in its DR region (dr.aws.backups), read as the primary's environment (the
    copies are in its account): the account's replicated automated backups there, or the recovery points of the
    setting's AWS Backup vault. Nothing for a database without a `dr_backup` setting."""
    from dr.aws.backups import dr_backup_region
    from dr.config.backups import DrBackupSource

    setting = topology.dr_backup_of(db)
    if setting is None:
        return []
    env, region = db.primary.env, dr_backup_region(topology, db)
    if setting.source is DrBackupSource.RDS_REPLICATION:
        return [grant(env, region, ["rds:DescribeDBInstanceAutomatedBackups"],
                      [arns.auto_backups(topology, env, region)])]
    return [grant(env, region, ["backup:ListRecoveryPointsByBackupVault"],
                  [arns.backup_vault(topology, env, region, str(setting.vault))])]


_SETTING_KINDS = {"DB subnet group": "subgrp", "DB parameter group": "pg", "DB cluster parameter group": "cluster-pg",
                  "option group": "og"}
_DESCRIBE_ACTIONS = {"subgrp": "rds:DescribeDBSubnetGroups", "pg": "rds:DescribeDBParameterGroups",
                     "cluster-pg": "rds:DescribeDBClusterParameterGroups", "og": "rds:DescribeOptionGroups"}


def _settings_resources(topology: Topology, db: Database, loc: DbLocation) -> list[tuple[str, str]]:
    """(RDS kind or 'kms'/'sg', ARN or name) of the resources a copy's settings name."""
    from dr.checks.replica_settings import declared

    region = topology.region_of(loc)
    out: list[tuple[str, str]] = []
    for kind, name in declared(topology.settings_for(loc), db.engine):
        if kind == "KMS key":
            out.append(("kms", name))
        elif kind == "security group":
            out.append(("sg", name))
        else:
            rds_kind = _SETTING_KINDS[kind]
            out.append((rds_kind, arns.rds_arn(topology, loc.env, region, rds_kind, name)))
    return out


def settings_reads(topology: Topology, db: Database, loc: DbLocation) -> list[Grant]:
    """Describe the KMS key, security groups, subnet/parameter/option groups a copy's settings name."""
    region = topology.region_of(loc)
    out: list[Grant] = []
    for kind, value in _settings_resources(topology, db, loc):
        if kind == "kms":
            alias = {"kms:RequestAlias": value} if value.startswith("alias/") else None
            out.append(grant(loc.env, region, ["kms:DescribeKey"], [arns.kms_key(topology, loc.env, region, value)],
                             alias))
        elif kind == "sg":
            out.append(grant(loc.env, region, ["ec2:DescribeSecurityGroups"], ["*"]))
        else:
            out.append(grant(loc.env, region, [_DESCRIBE_ACTIONS[kind]], [value]))
    return out


_REQUIRED_GROUPS = {
    "rds:CreateDBInstanceReadReplica": ("og", "pg", "subgrp"),
    "rds:CreateDBCluster": ("cluster-pg", "og", "subgrp"),
    "rds:RestoreDBClusterToPointInTime": ("cluster-pg", "og", "subgrp"),
}
"""Group kinds the Service Authorization Reference (Amazon RDS) marks required for the action: where the copy's
settings name none, AWS authorizes the default group (`default`, `default.<family>`, `default:<engine>-<v>`)."""


def _groups(topology: Topology, db: Database, loc: DbLocation, action: str) -> list[str]:
    """The groups `action` is authorized on for a copy at `loc`: those its settings name, else the defaults."""
    declared = {kind: value for kind, value in _settings_resources(topology, db, loc) if kind not in ("kms", "sg")}
    region = topology.region_of(loc)
    out = list(declared.values())
    for kind in _REQUIRED_GROUPS.get(action, ()):
        if kind not in declared:
            out.append(arns.rds_arn(topology, loc.env, region, kind, "default*"))
    return out


def _kms_for_create(topology: Topology, db: Database, loc: DbLocation) -> list[Grant]:
    """CreateDBCluster / CreateDBInstance list kms:CreateGrant and kms:DescribeKey as dependent actions (Service
    Authorization Reference, Amazon RDS): RDS uses the caller's rights on the copy's KMS key."""
    region = topology.region_of(loc)
    out: list[Grant] = []
    for kind, value in _settings_resources(topology, db, loc):
        if kind == "kms":
            alias = {"kms:RequestAlias": value} if value.startswith("alias/") else None
            out.append(grant(loc.env, region, ["kms:CreateGrant", "kms:DescribeKey"],
                             [arns.kms_key(topology, loc.env, region, value)], alias))
    return out


def _create(topology: Topology, db: Database, loc: DbLocation, action: str, resources: list[str]) -> Grant:
    """`action` (and the tags given at creation: rds:AddTagsToResource) on `resources` and its groups."""
    region = topology.region_of(loc)
    return grant(loc.env, region, [action, "rds:AddTagsToResource"],
                 resources + _groups(topology, db, loc, action))


def create_copy(topology: Topology, db: Database, new: DbLocation, source: DbLocation) -> list[Grant]:
    """Re-create `new` as a replica of `source` with its declared settings: CreateDBInstanceReadReplica (on the
    new instance, its source and its groups), or CreateDBCluster + CreateDBInstance for Aurora (the writer
    instance is named after the cluster)."""
    region = topology.region_of(new)
    if db.engine is Engine.RDS_INSTANCE:
        return [_create(topology, db, new, "rds:CreateDBInstanceReadReplica",
                        [arns.member(topology, db, new), arns.member(topology, db, source)])]
    cluster = arns.member(topology, db, new)
    cluster_resources = [cluster, arns.member(topology, db, source)]
    if db.engine is Engine.AURORA_GLOBAL:
        cluster_resources.append(arns.global_cluster(topology, new.env, region, db.global_cluster_id or "*"))
    instances = arns.rds_arn(topology, new.env, region, "db", new.id + "-*")
    return [_create(topology, db, new, "rds:CreateDBCluster", cluster_resources),
            _create(topology, db, new, "rds:CreateDBInstance", [instances, cluster]),
            *_kms_for_create(topology, db, new)]


def source_binlog(topology: Topology, db: Database, source: DbLocation) -> list[Grant]:
    """Aurora MySQL replicas need binary logging on the source: read its cluster parameter group."""
    groups = [v for kind, v in _settings_resources(topology, db, source) if kind == "cluster-pg"]
    if not groups:
        groups = [arns.rds_arn(topology, source.env, topology.region_of(source), "cluster-pg", "*")]
    return [grant(source.env, topology.region_of(source), ["rds:DescribeDBClusterParameters"], groups)]


def clone(topology: Topology, db: Database, replica: DbLocation, writer: DbLocation) -> list[Grant]:
    """A drill's temporary copy (`drill-*`, tagged at creation) of `writer` next to the DR `replica`, made with
    the replica's settings: an instance read replica (promoted), or for Aurora a copy-on-write restore of the
    replica cluster (or a replica cluster of the writer) with a writer instance; then deleted."""
    env, region = replica.env, topology.region_of(replica)
    clone_arn = arns.rds_arn(topology, env, region, arns.rds_kind(db), "drill-*")
    sources = [arns.member(topology, db, writer), arns.member(topology, db, replica)]
    if db.engine is Engine.RDS_INSTANCE:
        return [_create(topology, db, replica, "rds:CreateDBInstanceReadReplica", [clone_arn, *sources]),
                grant(env, region, ["rds:PromoteReadReplica", "rds:DeleteDBInstance"], [clone_arn])]
    instances = arns.rds_arn(topology, env, region, "db", "drill-*")
    # DeleteDBCluster requires the cluster-snapshot resource type too (a final snapshot would be drill-named)
    snapshots = arns.rds_arn(topology, env, region, "cluster-snapshot", "drill-*")
    return [_create(topology, db, replica, "rds:CreateDBCluster", [clone_arn, *sources]),
            _create(topology, db, replica, "rds:RestoreDBClusterToPointInTime", [clone_arn, *sources]),
            _create(topology, db, replica, "rds:CreateDBInstance", [instances, clone_arn]),
            grant(env, region, ["rds:PromoteReadReplicaDBCluster"], [clone_arn]),
            grant(env, region, ["rds:DeleteDBCluster"], [clone_arn, snapshots]),
            grant(env, region, ["rds:DeleteDBInstance"], [instances]),
            *_kms_for_create(topology, db, replica)]


def simulate_own(env: str, role_arn: str) -> Grant:
    """iam:SimulatePrincipalPolicy on the role itself (IAM's endpoint is us-east-1)."""
    return grant(env, "us-east-1", ["iam:SimulatePrincipalPolicy"], [role_arn])


def journal(topology: Topology) -> list[Grant]:
    """The engine's shared journal (S3) and lock (DynamoDB lease), where the topology's `state` puts them."""
    from dr.engine.backends import state_location

    state = topology.state
    env, region = state_location(topology)
    out: list[Grant] = []
    if state.s3_bucket:
        out.append(grant(env, region, ["s3:GetObject", "s3:PutObject"],
                         [arns.s3_objects(state.s3_bucket, state.s3_prefix)]))
        out.append(grant(env, region, ["s3:ListBucket"], [arns.s3_bucket(state.s3_bucket)]))
    if state.dynamodb_table:
        out.append(grant(env, region, ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                                       "dynamodb:DeleteItem"],
                         [arns.dynamodb_table(topology, env, region, state.dynamodb_table)]))
    return out


ARC_CLUSTER_REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1", "ap-southeast-2")
"""Where an ARC cluster's five data-plane endpoints are (Route 53 ARC Developer Guide, "Routing control
components: cluster"): the endpoint regions when the topology lists none."""
ARC_CONTROL_CONFIG_REGION = "us-west-2"
"""ARC's recovery-control configuration API is hosted in us-west-2 (its control plane)."""


def _arc_regions(arc: ArcRouting) -> list[str]:
    return sorted({e.region for e in arc.endpoints}) or list(ARC_CLUSTER_REGIONS)


def arc_switch(record_env: str, records: Iterable[DnsRecord], arc: ArcRouting) -> list[Grant]:
    """Read and set the records' routing controls on the cluster's data plane (any of its endpoints, in turn):
    GetRoutingControlState and UpdateRoutingControlStates act on `routingcontrol` resources (Service Authorization
    Reference, Amazon Route 53 Recovery Cluster). Without listed endpoints, DescribeCluster once (control plane)."""
    controls = sorted({c for r in records if r.arc for c in r.arc.routing_controls.values()})
    actions = ["route53-recovery-cluster:GetRoutingControlState", "route53-recovery-cluster:UpdateRoutingControlStates"]
    out = [grant(record_env, region, actions, controls) for region in _arc_regions(arc)]
    if not arc.endpoints:
        out.append(grant(record_env, ARC_CONTROL_CONFIG_REGION, ["route53-recovery-control-config:DescribeCluster"],
                         [arc.cluster_arn]))
    return out


def arc_readiness(topology: Topology, env: str) -> list[Grant]:
    """What readiness reads of `env`'s arc-routing-control records (dr/checks/arc.py): the cluster and its endpoints,
    each side's routing control (configuration and state), the named safety rules' panel, the RECOVERY_CONTROL health
    checks and the zones using them."""
    out: list[Grant] = []
    records = [r for r in topology.dns if r.arc is not None and env in r.targets]
    for record in records:
        arc = record.arc
        assert arc is not None
        controls = sorted(arc.routing_controls.values())
        config = ["route53-recovery-control-config:DescribeRoutingControl"]
        out.append(grant(record.env, ARC_CONTROL_CONFIG_REGION, config, controls))
        out.append(grant(record.env, ARC_CONTROL_CONFIG_REGION, ["route53-recovery-control-config:DescribeCluster"],
                         [arc.cluster_arn]))
        if arc.safety_rules:
            panel = arc.control_panel_arn or controls[0].split("/routingcontrol/")[0]
            out.append(grant(record.env, ARC_CONTROL_CONFIG_REGION, ["route53-recovery-control-config:ListSafetyRules"],
                             [panel]))
        out += [grant(record.env, region, ["route53-recovery-cluster:GetRoutingControlState"], controls)
                for region in _arc_regions(arc)]
        out += zone(record.env, record.zone_id, change=False) + health([record])
    return out


def state_machine_tags(topology: Topology, directions: Iterable[tuple[str, str, str]]) -> list[Grant]:
    """Find drctl's Step Functions machines and read their tags (dr/checks/state_machines.py), as the environment of
    the account each lives in, in its region: `states:ListStateMachines` (no resource type: `*`) and
    `states:ListTagsForResource` on the machine (Service Authorization Reference, AWS Step Functions)."""
    from dr.sfn.naming import machine_name
    from dr.sfn.states_lock import machine_home

    out: list[Grant] = []
    for runbook, source, target in directions:
        account, region = machine_home(topology, source, target)
        env = next(n for n, e in topology.environments.items() if e.account_id == account)
        arn = f"arn:aws:states:{region}:{account}:stateMachine:{machine_name(runbook, source, target)}"
        out.append(grant(env, region, ["states:ListTagsForResource"], [arn]))
        out.append(grant(env, region, ["states:ListStateMachines"], ["*"]))
    return out


def run_lock_reads(topology: Topology) -> list[Grant]:
    """A run's check for a Step Functions execution of its pair (dr/sfn/pair_lock.py): list the state machines
    where the pair's machines live, and the executions of those machines."""
    from dr.sfn.pair_lock import RUNBOOKS
    from dr.sfn.run import directions
    from dr.sfn.states_lock import machine_home, siblings

    out: list[Grant] = []
    for _, source, target in directions(topology):
        account, region = machine_home(topology, source, target)
        env = next(n for n, e in topology.environments.items() if e.account_id == account)
        arns = [f"arn:aws:states:{region}:{account}:stateMachine:{name}"
                for name in siblings(topology, source, target, (account, region), RUNBOOKS)]
        out += [grant(env, region, ["states:ListStateMachines"], ["*"]),
                grant(env, region, ["states:ListExecutions"], arns)]
    return out
