"""What the drift check's discovery (`detect_drift`: dr.discover.run.discover with the topology's environments,
zones and database regions) calls, as IAM Grants (dr.iam): reads only."""

from __future__ import annotations

from dr.config.model import Topology
from dr.discover.drift import specs_of
from dr.discover.rds import scan_regions
from dr.discover.readiness import ELB_SUFFIX
from dr.iam import arns, needs
from dr.iam.grants import Grant, grant

APP_TIER_LISTINGS = ("eks:ListClusters", "ecs:ListClusters", "ecs:ListServices",
                     "autoscaling:DescribeAutoScalingGroups")
"""What discovery lists of a DR environment's application tier (dr.discover.readiness): no resource type."""
ELB_READS = ("elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeTargetGroups",
             "elasticloadbalancing:DescribeTags")
"""Followed only from a DR-side record target that is a load balancer's name (`…elb.amazonaws.com`)."""


def first_env_of_account(topology: Topology) -> dict[str, str]:
    """Account -> the environment discovery reads it as (the first of the topology's environments with it)."""
    out: dict[str, str] = {}
    for name, env in topology.environments.items():
        out.setdefault(env.account_id, name)
    return out


def drift_permissions(topology: Topology) -> list[Grant]:
    """RDS listings of every account in every region that takes part; the topology's zones (and the health checks
    of their accounts); the DR environments' application tiers."""
    regions = scan_regions(specs_of(topology), [topology.region_of(loc) for db in topology.databases
                                                for loc in (db.primary, db.replica)])
    readers = first_env_of_account(topology)
    out = [needs.rds_listing(topology, env, region) for env in readers.values() for region in regions]
    for zone_id in dict.fromkeys(r.zone_id for r in topology.dns):
        owner = next(r.env for r in topology.dns if r.zone_id == zone_id)
        env = readers[topology.environments[owner].account_id]
        out.append(grant(env, arns.ROUTE53_REGION, ["route53:GetHostedZone", "route53:ListResourceRecordSets"],
                         [arns.hosted_zone(zone_id)]))
        out.append(grant(env, arns.ROUTE53_REGION, ["route53:ListHealthChecks"], ["*"]))
        out += _arc_reads(topology, zone_id, env)
    for name, env_spec in topology.environments.items():
        if env_spec.dr_for:
            out += _app_tier(topology, name, env_spec.region)
    return out


def _app_tier(topology: Topology, env: str, region: str) -> list[Grant]:
    out = [grant(env, region, APP_TIER_LISTINGS, ["*"]),
           grant(env, region, ["ecs:DescribeServices"], [arns.ecs_services_all(topology, env, region)])]
    targets = [r.targets[env].lower().rstrip(".") for r in topology.dns if env in r.targets]
    if any(t.endswith(ELB_SUFFIX) for t in targets):
        out.append(grant(env, region, ELB_READS, ["*"]))
    return out


def _arc_reads(topology: Topology, zone_id: str, env: str) -> list[Grant]:
    """A failover pair whose health checks are RECOVERY_CONTROL: its routing control and control panel are read
    (DescribeRoutingControl, DescribeControlPanel) to name the cluster, on ARC's control-config API."""
    records = [r for r in topology.dns if r.zone_id == zone_id and r.arc]
    controls = sorted({c for r in records if r.arc for c in r.arc.routing_controls.values()})
    if not controls:
        return []
    panels = sorted({c.split("/routingcontrol/")[0] for c in controls})
    return [grant(env, needs.ARC_CONTROL_CONFIG_REGION, ["route53-recovery-control-config:DescribeRoutingControl"],
                  controls),
            grant(env, needs.ARC_CONTROL_CONFIG_REGION, ["route53-recovery-control-config:DescribeControlPanel"],
                  panels)]
