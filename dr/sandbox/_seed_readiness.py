"""Seed the readiness resources of each environment at capacity: EKS clusters, ECS services, ASGs."""

from __future__ import annotations

from typing import Any

from dr.aws.factory import ClientFactory
from dr.config.model import AutoScalingGroup, EcsService, Readiness, Topology
from dr.sandbox._seed_dns import SeedError

SANDBOX_AMI = "ami-0d5eff06f840b45e9"  # any id: moto launches instances from ids it does not know


class ReadinessSeeder:
    """Creates one environment's readiness resources in its account and home region."""

    def __init__(self, topology: Topology, clients: ClientFactory, env: str) -> None:
        self.topology = topology
        self.clients = clients
        self.env = env
        self.account = topology.environments[env].account_id
        self._subnet: str | None = None

    def _client(self, service: str) -> Any:
        return self.clients.client(service, self.env)

    def seed(self, readiness: Readiness) -> None:
        for name in readiness.eks_clusters:
            self._client("eks").create_cluster(
                name=name, roleArn=f"arn:aws:iam::{self.account}:role/eks-{name}",
                resourcesVpcConfig={}, tags={"drctl:env": self.env})
        clusters: set[str] = set()
        for service in readiness.ecs_services:
            self._ecs_service(service, clusters)
        for group in readiness.autoscaling_groups:
            self._asg(group)

    def _ecs_service(self, svc: EcsService, clusters: set[str]) -> None:
        ecs = self._client("ecs")
        if svc.cluster not in clusters:
            ecs.create_cluster(clusterName=svc.cluster)
            clusters.add(svc.cluster)
        family = f"{svc.cluster}-{svc.service}"[:255]
        ecs.register_task_definition(
            family=family, containerDefinitions=[{"name": "app", "image": "public.ecr.aws/nginx/nginx:stable",
                                                  "memory": 128, "essential": True}])
        desired = max(svc.min_running, 1)
        ecs.create_service(cluster=svc.cluster, serviceName=svc.service, taskDefinition=family,
                           desiredCount=desired)
        # moto starts services with runningCount 0; an update with the desired count makes them run.
        ecs.update_service(cluster=svc.cluster, service=svc.service, desiredCount=desired)

    def _asg(self, group: AutoScalingGroup) -> None:
        template = f"drctl-sandbox-{group.name}"[:128]
        self._client("ec2").create_launch_template(
            LaunchTemplateName=template, LaunchTemplateData={"ImageId": SANDBOX_AMI, "InstanceType": "t3.micro"})
        desired = max(group.min_in_service, 1)
        self._client("autoscaling").create_auto_scaling_group(
            AutoScalingGroupName=group.name, LaunchTemplate={"LaunchTemplateName": template, "Version": "$Latest"},
            MinSize=desired, MaxSize=desired * 2, DesiredCapacity=desired, VPCZoneIdentifier=self._subnet_id(),
            HealthCheckType="EC2", HealthCheckGracePeriod=60)

    def _subnet_id(self) -> str:
        """One VPC and subnet per environment, made on first use, for its Auto Scaling groups."""
        if self._subnet is None:
            ec2 = self._client("ec2")
            zones = ec2.describe_availability_zones()["AvailabilityZones"]
            if not zones:
                region = self.topology.environments[self.env].region
                raise SeedError(f"the sandbox has no availability zones in {region}: cannot place ASG instances "
                                f"of {self.env}")
            vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
            subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.1.0/24", AvailabilityZone=zones[0]["ZoneName"])
            self._subnet = subnet["Subnet"]["SubnetId"]
        return self._subnet
