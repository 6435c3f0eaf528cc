"""ARNs (and ARN patterns) of what drctl acts on, from the topology alone; and the actions AWS authorizes on no
resource type, the only ones a generated policy grants on `*`.

Formats: "Actions, resources, and condition keys for Amazon RDS / Amazon Route 53 / AWS KMS / Amazon EKS /
Amazon ECS / Amazon S3 / Amazon DynamoDB / AWS STS / AWS Backup / Elastic Load Balancing V2"
(Service Authorization Reference, resource types tables).
"""

from __future__ import annotations

from dr.aws.rds import partition_of
from dr.config.model import Database, DbLocation, Engine, Topology

NO_RESOURCE_LEVEL: dict[str, str] = {
    "cloudwatch:GetMetricData": "CloudWatch: GetMetricData has no resource type (Service Authorization Reference, "
                                "Amazon CloudWatch)",
    "route53:ListHealthChecks": "Route 53: ListHealthChecks has no resource type (Amazon Route 53)",
    "route53:TestDNSAnswer": "Route 53: TestDNSAnswer has no resource type (Amazon Route 53)",
    "autoscaling:DescribeAutoScalingGroups": "Auto Scaling: Describe* actions have no resource type "
                                             "(Amazon EC2 Auto Scaling)",
    "ec2:DescribeSecurityGroups": "EC2: DescribeSecurityGroups has no resource type (Amazon EC2)",
    "rds:DescribeAccountAttributes": "RDS: DescribeAccountAttributes (the account's quotas) has no resource type "
                                     "(Amazon RDS)",
    "eks:ListClusters": "EKS: ListClusters has no resource type (Amazon Elastic Kubernetes Service)",
    "ecs:ListClusters": "ECS: ListClusters has no resource type (Amazon Elastic Container Service)",
    "ecs:ListServices": "ECS: ListServices has no resource type, only the ecs:cluster condition key (Amazon Elastic "
                        "Container Service)",
    "elasticloadbalancing:DescribeLoadBalancers": "ELB: Describe* actions have no resource type (Elastic Load "
                                                  "Balancing V2)",
    "elasticloadbalancing:DescribeTargetGroups": "ELB: Describe* actions have no resource type (Elastic Load "
                                                 "Balancing V2)",
    "elasticloadbalancing:DescribeTags": "ELB: Describe* actions have no resource type (Elastic Load Balancing V2)",
    "states:ListStateMachines": "Step Functions: ListStateMachines has no resource type (AWS Step Functions)",
}
"""Action -> why it is granted on `*` (the aws:RequestedRegion condition still scopes it)."""

ROUTE53_REGION = "us-east-1"
"""Route53's control plane (and its health checks' CloudWatch metrics) is in us-east-1: its aws:RequestedRegion."""


def account(topology: Topology, env: str) -> str:
    return topology.environments[env].account_id


def rds_kind(db: Database) -> str:
    return "db" if db.engine is Engine.RDS_INSTANCE else "cluster"


def rds_arn(topology: Topology, env: str, region: str, kind: str, name: str) -> str:
    """`kind` is an RDS resource type: db, cluster, pg, cluster-pg, subgrp, og."""
    return f"arn:{partition_of(region)}:rds:{region}:{account(topology, env)}:{kind}:{name}"


def member(topology: Topology, db: Database, loc: DbLocation, suffix: str = "") -> str:
    """The copy's ARN; with `suffix` (e.g. `-fenced-*`) the pattern of the copies drctl names after it."""
    return rds_arn(topology, loc.env, topology.region_of(loc), rds_kind(db), loc.id + suffix)


def member_and_renamed(topology: Topology, db: Database, loc: DbLocation) -> list[str]:
    """The copy under its id and under the ids a fence gives it (`<id>-fenced-<run>`)."""
    return [member(topology, db, loc), member(topology, db, loc, "-fenced-*")]


def all_of_kind(topology: Topology, env: str, region: str, kind: str) -> str:
    """Every resource of an RDS kind in the env's account and region: what a Describe without an identifier (or
    with Filters) is authorized on."""
    return rds_arn(topology, env, region, kind, "*")


def global_cluster(topology: Topology, env: str, region: str, ident: str) -> str:
    """Global clusters have no region in their ARN."""
    return f"arn:{partition_of(region)}:rds::{account(topology, env)}:global-cluster:{ident}"


def hosted_zone(zone_id: str) -> str:
    return f"arn:aws:route53:::hostedzone/{zone_id.rsplit('/', 1)[-1]}"


def health_check(check_id: str) -> str:
    return f"arn:aws:route53:::healthcheck/{check_id}"


ROUTE53_CHANGES = "arn:aws:route53:::change/*"
"""GetChange on the changes drctl's own batches return (their ids are not known in advance)."""


def eks_cluster(topology: Topology, env: str, region: str, name: str) -> str:
    return f"arn:{partition_of(region)}:eks:{region}:{account(topology, env)}:cluster/{name}"


def ecs_service(topology: Topology, env: str, region: str, cluster: str, service: str) -> str:
    return f"arn:{partition_of(region)}:ecs:{region}:{account(topology, env)}:service/{cluster}/{service}"


def kms_key(topology: Topology, env: str, region: str, key: str) -> str:
    """A key given by ARN is itself; by id, its ARN; by alias, any key of the account and region (the grant
    carries a kms:RequestAlias condition naming the alias)."""
    if key.startswith("arn:"):
        return key
    name = "*" if key.startswith("alias/") else key
    return f"arn:{partition_of(region)}:kms:{region}:{account(topology, env)}:key/{name}"


def role(topology: Topology, env: str) -> str | None:
    return topology.environments[env].role_arn


def s3_bucket(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def s3_objects(bucket: str, prefix: str) -> str:
    return f"arn:aws:s3:::{bucket}/{prefix}*"


def dynamodb_table(topology: Topology, env: str, region: str, table: str) -> str:
    return f"arn:{partition_of(region)}:dynamodb:{region}:{account(topology, env)}:table/{table}"


def auto_backups(topology: Topology, env: str, region: str) -> str:
    """Every replicated automated backup of the env's account in `region` (`auto-backup:ab-…`, ids RDS assigns):
    what DescribeDBInstanceAutomatedBackups without an identifier is authorized on."""
    return rds_arn(topology, env, region, "auto-backup", "*")


def backup_vault(topology: Topology, env: str, region: str, vault: str) -> str:
    """An AWS Backup vault (resource type backupVault)."""
    return f"arn:{partition_of(region)}:backup:{region}:{account(topology, env)}:backup-vault:{vault}"


def ecs_services_all(topology: Topology, env: str, region: str) -> str:
    """Every ECS service of the env's account and region: discovery describes the services it has just listed."""
    return f"arn:{partition_of(region)}:ecs:{region}:{account(topology, env)}:service/*"
