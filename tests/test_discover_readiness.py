"""Readiness from the DR side's application tier: what a record's load balancer leads to becomes an entry, the rest
are suggestions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dr.aws.factory import ClientFactory
from dr.config.validate import validate
from dr.discover import discover
from dr.discover.inputs import EnvSpec, skeleton
from dr.discover.render import document, to_yaml

SPECS = [EnvSpec("prod", "111111111111", "eu-central-1"), EnvSpec("qa", "222222222222", "eu-west-1", dr_for="prod")]
PROD_LB = "web-prod-1234.eu-central-1.elb.amazonaws.com"


def qa_tier(clients: ClientFactory) -> tuple[str, str]:
    """In qa: an ALB tagged for EKS cluster eks-web forwarding to a target group that ASG `web` and ECS service
    ecs-1/api register with; beside them eks-batch, ASG `batch` and ecs-1/worker, which nothing leads to."""
    ec2, elb = clients.client("ec2", "qa"), clients.client("elbv2", "qa")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=f"eu-west-1{z}")
               ["Subnet"]["SubnetId"] for i, z in enumerate("ab")]
    lb = elb.create_load_balancer(Name="web-qa", Subnets=subnets,
                                  Tags=[{"Key": "elbv2.k8s.aws/cluster", "Value": "eks-web"}])["LoadBalancers"][0]
    tg = elb.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
    ec2.create_launch_template(LaunchTemplateName="web", LaunchTemplateData={"ImageId": "ami-12345678"})
    asg = clients.client("autoscaling", "qa")
    for name, groups in (("web", [tg]), ("batch", [])):
        asg.create_auto_scaling_group(AutoScalingGroupName=name, MinSize=2, MaxSize=4, DesiredCapacity=2,
                                      LaunchTemplate={"LaunchTemplateName": "web"}, VPCZoneIdentifier=subnets[0],
                                      TargetGroupARNs=groups)
    ecs = clients.client("ecs", "qa")
    ecs.create_cluster(clusterName="ecs-1")
    ecs.register_task_definition(family="app", containerDefinitions=[{"name": "app", "image": "nginx", "memory": 64}])
    balancers: list[dict[str, Any]] = [{"targetGroupArn": tg, "containerName": "app", "containerPort": 80}]
    for name, lbs in (("api", balancers), ("worker", [])):
        ecs.create_service(cluster="ecs-1", serviceName=name, taskDefinition="app", desiredCount=3, loadBalancers=lbs)
    eks = clients.client("eks", "qa")
    for name in ("eks-web", "eks-batch"):
        eks.create_cluster(name=name, roleArn="arn:aws:iam::222222222222:role/eks", resourcesVpcConfig={})
    return str(lb["DNSName"]), tg


def prod_zone(clients: ClientFactory, qa_lb: str) -> str:
    """prod's zone with app.example.com failing over from prod's load balancer to qa's."""
    r53 = clients.route53("prod")
    zone = r53.create_hosted_zone(Name="example.com.", CallerReference="z")["HostedZone"]["Id"].rsplit("/", 1)[-1]
    check = r53.create_health_check(CallerReference="hc", HealthCheckConfig={
        "Type": "HTTPS", "FullyQualifiedDomainName": PROD_LB, "Port": 443})["HealthCheck"]["Id"]
    sets = [{"Name": "app.example.com.", "Type": "CNAME", "TTL": 60, "SetIdentifier": side, "Failover": role,
             "ResourceRecords": [{"Value": value}], **extra}
            for side, role, value, extra in (("prod", "PRIMARY", PROD_LB, {"HealthCheckId": check}),
                                             ("qa", "SECONDARY", qa_lb, {}))]
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={
        "Changes": [{"Action": "CREATE", "ResourceRecordSet": s} for s in sets]})
    return zone


@pytest.fixture
def aws() -> Iterator[None]:
    """moto with the sandbox's extensions (Route53 and RDS listings page as AWS's do)."""
    from moto import mock_aws

    from dr.sandbox import install

    install()
    with mock_aws():
        yield


@pytest.mark.usefixtures("aws")
def test_what_the_dr_load_balancer_leads_to_becomes_readiness() -> None:
    """EKS by the LB's cluster tag, ASG and ECS by its target group: entries; the others: suggestions (the same
    when read one item per page)."""
    clients = ClientFactory(skeleton(SPECS, "drctl"), run_id="readiness-test")
    qa_lb, _ = qa_tier(clients)
    found = discover(SPECS, clients, zones=[prod_zone(clients, qa_lb)])
    doc = document(found)
    assert set(found.calls["elbv2"]) == {"DescribeLoadBalancers", "DescribeTargetGroups", "DescribeTags"}
    assert doc["readiness"] == {"qa": {
        "eks_clusters": ["eks-web"],
        "ecs_services": [{"cluster": "ecs-1", "service": "api", "min_running": 3}],
        "autoscaling_groups": [{"name": "web", "min_in_service": 2}]}}
    assert sorted((e.kind, e.name) for e in found.readiness if not e.linked) == [
        ("asg", "batch"), ("ecs", "ecs-1/worker"), ("eks", "eks-batch")]
    assert doc["dns"][0]["targets"] == {"prod": PROD_LB, "qa": qa_lb}
    paged = discover(SPECS, clients, zones=[doc["dns"][0]["zone_id"]], page_size=1)
    assert document(paged)["readiness"] == doc["readiness"]
    assert sorted(paged.readiness, key=str) == sorted(found.readiness, key=str)
    assert (paged.calls["eks"]["ListClusters"], paged.calls["autoscaling"]["DescribeAutoScalingGroups"]) == (2, 2)
    model, findings = validate(doc)
    assert model is not None, [str(f) for f in findings]
    text = to_yaml(found)
    assert "#   qa: eks eks-batch" in text
    assert "#   qa: ecs ecs-1/worker (capacity 3)" in text


@pytest.mark.usefixtures("aws")
def test_no_load_balancer_call_when_no_target_is_one() -> None:
    """Targets that are not load balancer names cost no ELB call: everything is a suggestion."""
    clients = ClientFactory(skeleton(SPECS, "drctl"), run_id="readiness-test")
    clients.client("eks", "qa").create_cluster(name="eks-web", roleArn="arn:aws:iam::222222222222:role/eks",
                                               resourcesVpcConfig={})
    found = discover(SPECS, clients)
    assert "elbv2" not in found.calls
    assert found.calls["eks"] == {"ListClusters": 1}
    assert [(e.kind, e.name, e.linked) for e in found.readiness] == [("eks", "eks-web", False)]
    assert document(found)["readiness"] == {}
