"""Seed the readiness resources of each environment at capacity: EKS clusters, ECS services, ASGs."""

from __future__ import annotations

from typing import Any

from dr.aws.factory import ClientFactory
from dr.config.model import AutoScalingGroup, EcsService, Topology
from dr.sandbox._seed_dns import SeedError

SANDBOX_AMI = "ami-0d5eff06f840b45e9"  # any id: moto launches instances from ids it does not know


class ReadinessSeeder:
    """Creates every environment's readiness resources in its account and home region.

    Two environments may share an account and region: a resource both list is created once.
    """

    def __init__(self, topology: Topology, clients: ClientFactory) -> None:
        self.topology = topology
        self.clients = clients
        self._made: set[tuple[str, str, str, str]] = set()
        self._subnets: dict[tuple[str, str], str] = {}

    def seed(self) -> None:
        for env, readiness in self.topology.readiness.items():
            for name in readiness.eks_clusters:
                if self._first(env, "eks", name):
                    self._eks_cluster(env, name)
            for service in readiness.ecs_services:
                if self._first(env, "ecs-cluster", service.cluster):
                    self._client("ecs", env).create_cluster(clusterName=service.cluster)
                if self._first(env, "ecs-service", f"{service.cluster}/{service.service}"):
                    self._ecs_service(env, service)
            for group in readiness.autoscaling_groups:
                if self._first(env, "asg", group.name):
                    self._asg(env, group)

    def _first(self, env: str, kind: str, name: str) -> bool:
        """True the first time (account, region, kind, name) is asked for; it is then recorded as made."""
        where = self.topology.environments[env]
        key = (where.account_id, where.region, kind, name)
        if key in self._made:
            return False
        self._made.add(key)
        return True

    def _client(self, service: str, env: str) -> Any:
        return self.clients.client(service, env)

    def _eks_cluster(self, env: str, name: str) -> None:
        account = self.topology.environments[env].account_id
        self._client("eks", env).create_cluster(
            name=name, roleArn=f"arn:aws:iam::{account}:role/eks-{name}", resourcesVpcConfig={},
            tags={"drctl:env": env})

    def _ecs_service(self, env: str, svc: EcsService) -> None:
        ecs = self._client("ecs", env)
        family = f"{svc.cluster}-{svc.service}"[:255]
        ecs.register_task_definition(
            family=family, containerDefinitions=[{"name": "app", "image": "public.ecr.aws/nginx/nginx:stable",
                                                  "memory": 128, "essential": True}])
        desired = max(svc.min_running, 1)
        ecs.create_service(cluster=svc.cluster, serviceName=svc.service, taskDefinition=family,
                           desiredCount=desired)
        # moto starts services with runningCount 0; an update with the desired count makes them run.
        ecs.update_service(cluster=svc.cluster, service=svc.service, desiredCount=desired)

    def _asg(self, env: str, group: AutoScalingGroup) -> None:
        template = f"drctl-sandbox-{group.name}"[:128]
        self._client("ec2", env).create_launch_template(
            LaunchTemplateName=template, LaunchTemplateData={"ImageId": SANDBOX_AMI, "InstanceType": "t3.micro"})
        desired = max(group.min_in_service, 1)
        self._client("autoscaling", env).create_auto_scaling_group(
            AutoScalingGroupName=group.name, LaunchTemplate={"LaunchTemplateName": template, "Version": "$Latest"},
            MinSize=desired, MaxSize=desired * 2, DesiredCapacity=desired, VPCZoneIdentifier=self._subnet_id(env),
            HealthCheckType="EC2", HealthCheckGracePeriod=60)

    def _subnet_id(self, env: str) -> str:
        """One VPC and subnet per account and region, made on first use, for the Auto Scaling groups."""
        where = self.topology.environments[env]
        key = (where.account_id, where.region)
        if key not in self._subnets:
            ec2 = self._client("ec2", env)
            zones = ec2.describe_availability_zones()["AvailabilityZones"]
            if not zones:
                raise SeedError(f"the sandbox has no availability zones in {where.region}: cannot place the "
                                f"Auto Scaling group instances of {env}")
            vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
            subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.1.0/24", AvailabilityZone=zones[0]["ZoneName"])
            self._subnets[key] = subnet["Subnet"]["SubnetId"]
        return self._subnets[key]
