"""Readiness from the DR environment's application tier: EKS clusters, ECS services and Auto Scaling groups.

A resource is *linked* when a DR-side record target is a load balancer whose target groups the ECS service or
Auto Scaling group registers with, or whose `elbv2.k8s.aws/cluster` tag (set by the AWS Load Balancer Controller)
names the EKS cluster. Linked resources become readiness entries; the others are listed as suggestions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dr.discover.inputs import EnvSpec
from dr.discover.model import FoundRecord, ReadinessEntry
from dr.discover.reader import Reader

ELB_SUFFIX = ".elb.amazonaws.com"
EKS_LB_TAG = "elbv2.k8s.aws/cluster"
ECS_DESCRIBE_BATCH = 10
"""DescribeServices takes at most 10 services per call."""
ELB_TAGS_BATCH = 20
"""DescribeTags (ELBv2) takes at most 20 resource ARNs per call."""


@dataclass
class _Links:
    target_groups: set[str] = field(default_factory=set)
    eks_clusters: set[str] = field(default_factory=set)
    balancers: list[str] = field(default_factory=list)


def read(reader: Reader, spec: EnvSpec, records: Sequence[FoundRecord]) -> list[ReadinessEntry]:
    """Every EKS cluster, ECS service and ASG of `spec`'s account in its home region, linked where records lead."""
    targets = {r.targets[spec.name].lower().rstrip(".") for r in records if spec.name in r.targets}
    links = _links(reader, spec, targets)
    out: list[ReadinessEntry] = []
    eks = reader.client("eks", spec.name)
    for page in reader.pages(eks, "list_clusters"):
        for name in page.get("clusters") or []:
            linked = name in links.eks_clusters
            out.append(ReadinessEntry(spec.name, "eks", str(name), 0, linked, _why(linked, "tag " + EKS_LB_TAG, links)))
    out.extend(_ecs(reader, spec, links))
    asg = reader.client("autoscaling", spec.name)
    for page in reader.pages(asg, "describe_auto_scaling_groups"):
        for group in page.get("AutoScalingGroups") or []:
            linked = bool(links.target_groups & set(group.get("TargetGroupARNs") or []))
            out.append(ReadinessEntry(spec.name, "asg", str(group["AutoScalingGroupName"]),
                                      int(group.get("MinSize") or 0), linked, _why(linked, "target group", links)))
    return out


def _why(linked: bool, how: str, links: _Links) -> str:
    if linked:
        return f"a record's target leads to it (load balancer {', '.join(links.balancers)}, by {how})"
    return "in the DR environment; no record's target was seen leading to it"


def _ecs(reader: Reader, spec: EnvSpec, links: _Links) -> Iterable[ReadinessEntry]:
    ecs = reader.client("ecs", spec.name)
    for page in reader.pages(ecs, "list_clusters"):
        for cluster_arn in page.get("clusterArns") or []:
            arns = [a for p in reader.pages(ecs, "list_services", cluster=cluster_arn)
                    for a in p.get("serviceArns") or []]
            for i in range(0, len(arns), ECS_DESCRIBE_BATCH):
                batch = arns[i:i + ECS_DESCRIBE_BATCH]
                answer = reader.call(ecs, "describe_services", cluster=cluster_arn, services=batch)
                for svc in answer.get("services") or []:
                    groups = {str(lb.get("targetGroupArn")) for lb in svc.get("loadBalancers") or []}
                    linked = bool(links.target_groups & groups)
                    cluster = str(cluster_arn).rsplit("/", 1)[-1]
                    yield ReadinessEntry(spec.name, "ecs", f"{cluster}/{svc['serviceName']}",
                                         int(svc.get("desiredCount") or 0), linked, _why(linked, "target group", links))


def _links(reader: Reader, spec: EnvSpec, targets: set[str]) -> _Links:
    """The target groups and EKS clusters behind the load balancers that DR-side targets name."""
    links = _Links()
    if not any(t.endswith(ELB_SUFFIX) for t in targets):
        return links  # no target is a load balancer name: nothing to follow, no ELB calls
    elb = reader.client("elbv2", spec.name)
    arns = [str(lb["LoadBalancerArn"]) for page in reader.pages(elb, "describe_load_balancers")
            for lb in page.get("LoadBalancers") or [] if str(lb.get("DNSName", "")).lower().rstrip(".") in targets
            or "dualstack." + str(lb.get("DNSName", "")).lower() in targets]
    links.balancers = [a.rsplit("/", 2)[-2] for a in arns]
    for arn in arns:
        for page in reader.pages(elb, "describe_target_groups", LoadBalancerArn=arn):
            links.target_groups.update(str(tg["TargetGroupArn"]) for tg in page.get("TargetGroups") or [])
    for i in range(0, len(arns), ELB_TAGS_BATCH):
        tagged = reader.call(elb, "describe_tags", ResourceArns=arns[i:i + ELB_TAGS_BATCH])
        for desc in tagged.get("TagDescriptions") or []:
            links.eks_clusters.update(str(t["Value"]) for t in desc.get("Tags") or [] if t.get("Key") == EKS_LB_TAG)
    return links


def sections(entries: Sequence[ReadinessEntry]) -> dict[str, dict[str, list[Any]]]:
    """The topology's `readiness` section from the linked entries, per environment."""
    out: dict[str, dict[str, list[Any]]] = {}
    for e in entries:
        if not e.linked:
            continue
        section = out.setdefault(e.env, {})
        if e.kind == "eks":
            section.setdefault("eks_clusters", []).append(e.name)
        elif e.kind == "ecs":
            cluster, service = e.name.split("/", 1)
            section.setdefault("ecs_services", []).append(
                {"cluster": cluster, "service": service, "min_running": max(e.capacity, 1)})
        else:
            section.setdefault("autoscaling_groups", []).append({"name": e.name, "min_in_service": max(e.capacity, 1)})
    return out
