"""Readiness of an environment against moto: every check passing, and failing with the right reason."""

from __future__ import annotations

from datetime import timedelta

import pytest
from test_checks_support import PROD, QA, Seeded, check, module, world

from dr.checks.model import all_ok
from dr.checks.readiness import readiness
from dr.config.model import Engine
from dr.errors import UsageError


def run(world: Seeded, env: str = "qa") -> list:
    return readiness(world.topology, world.clients, world.clock, env)


__all__ = ["module", "world"]  # fixtures shared from test_checks_support


class TestAllGreen:
    def test_seeded_small_topology_is_ready_in_qa(self, world: Seeded) -> None:
        """Every check of the seeded DR side passes: replicas, lag, health checks, EKS, ECS, ASG."""
        results = run(world)
        assert all_ok(results), [r for r in results if not r.ok]
        kinds = {str(r.check) for r in results}
        assert kinds == {"replica-exists", "replica-available", "replica-source", "writer-lineage",
                         "replication-running", "lag-within-rpo", "replica-settings", "health-check", "eks-cluster",
                         "ecs-service",
                         "autoscaling-group"}
        assert check(results, "lag-within-rpo", "orders-db-euw1").reason == "lag 2 s <= RPO 300 s"
        assert check(results, "writer-lineage", "orders-db-euw1").reason == (
            "orders-db-euw1 replicates from the current writer orders-db (prod/eu-central-1, generation 0)")

    def test_primary_side_member_passes_as_writable(self, world: Seeded) -> None:
        """In prod the members are primaries: no source or lag checks, they are writable."""
        results = run(world, "prod")
        source = check(results, "replica-source", "orders-db")
        assert source.ok
        assert "primary" in source.reason
        assert not [r for r in results if str(r.check) == "lag-within-rpo"]

    def test_unknown_environment_is_a_usage_error(self, world: Seeded) -> None:
        """An environment that is not in the topology raises UsageError (exit 2)."""
        with pytest.raises(UsageError, match="staging"):
            run(world, "staging")


class TestDatabaseChecks:
    def test_missing_replica_fails_replica_exists(self, world: Seeded) -> None:
        """A replica id AWS does not know fails replica-exists, naming the id and where it looked."""
        world.replace_db("orders", replica={"id": "orders-db-gone"})
        result = check(run(world), "replica-exists", "orders-db-gone")
        assert not result.ok
        assert result.reason == "orders-db-gone not found in prod/eu-west-1"

    def test_replica_of_another_source_fails_replica_source(self, world: Seeded) -> None:
        """A replica whose source is not the database's other member fails, naming both ARNs."""
        world.replace_db("orders", primary={"id": "orders-db-v2"})
        result = check(run(world), "replica-source", "orders-db-euw1")
        assert not result.ok
        assert result.reason == ("orders-db-euw1 replicates from arn:aws:rds:eu-central-1:111111111111:db:orders-db, "
                                 "expected arn:aws:rds:eu-central-1:111111111111:db:orders-db-v2")

    def test_backing_up_replica_fails_replica_available(self, world: Seeded) -> None:
        """A replica in status backing-up is not available."""
        from moto.rds.models import rds_backends

        instance = rds_backends[PROD]["eu-west-1"].databases["orders-db-euw1"]
        instance.status = "backing-up"
        world.on_teardown(lambda: setattr(instance, "status", "available"))
        result = check(run(world), "replica-available", "orders-db-euw1")
        assert (result.ok, result.reason) == (False, "orders-db-euw1 is backing-up")

    def test_headless_cluster_fails_replica_available(self, world: Seeded) -> None:
        """An Aurora replica cluster without DB instances cannot take traffic."""
        from moto.rds.models import rds_backends

        databases = rds_backends[PROD]["eu-west-1"].databases
        instances = {k: v for k, v in databases.items() if k.startswith("payments-cluster-euw1-")}
        for key in instances:
            del databases[key]
        world.on_teardown(lambda: databases.update(instances))
        result = check(run(world), "replica-available", "payments-cluster-euw1")
        assert not result.ok
        assert result.reason.startswith("payments-cluster-euw1 has no DB instances (headless cluster)")

    def test_aurora_global_reader_of_another_writer_fails_replica_source(self, world: Seeded) -> None:
        """A global-cluster reader whose writer is not the declared primary fails replica-source."""
        world.replace_db("payments", primary={"id": "payments-cluster-v2"})
        result = check(run(world), "replica-source", "payments-cluster-euw1")
        assert not result.ok
        assert "expected arn:aws:rds:eu-central-1:111111111111:cluster:payments-cluster-v2" in (
            result.reason)


class TestLagChecks:
    def test_broken_replication_fails_running_and_lag(self, world: Seeded) -> None:
        """ReplicaLag -1 fails replication-running and lag-within-rpo with 'replication broken'."""
        world.clock.advance(120)
        world.put_lag(-1, age_seconds=10)
        results = run(world)
        for kind in ("replication-running", "lag-within-rpo"):
            result = check(results, kind, "orders-db-euw1")
            assert (result.ok, result.reason) == (False, "ReplicaLag -1: replication broken")

    def test_lag_above_rpo_fails(self, world: Seeded) -> None:
        """A fresh lag of 412 s against an RPO of 300 s fails with both numbers."""
        world.clock.advance(120)
        world.put_lag(412, age_seconds=10)
        result = check(run(world), "lag-within-rpo", "orders-db-euw1")
        assert (result.ok, result.reason) == (False, "lag 412 s > RPO 300 s")

    def test_stale_lag_fails(self, world: Seeded) -> None:
        """A newest datapoint older than 5 minutes is stale, whatever its value."""
        world.clock.advance(420)
        result = check(run(world), "lag-within-rpo", "orders-db-euw1")
        assert not result.ok
        assert "metric stale" in result.reason
        assert "ReplicaLag" in result.reason

    def test_no_datapoint_fails_as_unknown(self, world: Seeded) -> None:
        """No datapoint in the last 10 minutes is unknown, which fails."""
        world.clock.advance(timedelta(minutes=11).total_seconds())
        result = check(run(world), "lag-within-rpo", "orders-db-euw1")
        assert (result.ok, result.reason) == (False, "no ReplicaLag datapoint in the last 10 min")

    def test_aurora_global_lag_is_read_in_milliseconds(self, world: Seeded) -> None:
        """AuroraGlobalDBReplicationLag 420000 ms is 420 s, above the RPO."""
        world.clock.advance(120)
        world.put_lag(420000, age_seconds=10, db_id="payments-cluster-euw1", engine=Engine.AURORA_GLOBAL)
        result = check(run(world), "lag-within-rpo", "payments-cluster-euw1")
        assert (result.ok, result.reason) == (False, "lag 420 s > RPO 300 s")


class TestHealthChecks:
    def test_unhealthy_health_check_of_the_side_fails(self, world: Seeded) -> None:
        """An unhealthy qa health check fails, with the checker's report; prod's checks are not qa's concern."""
        hc = world.health_id("hc-api-qa")
        world.make_unhealthy(hc)
        world.make_unhealthy(world.health_id("hc-www-prod"))
        results = run(world)
        result = check(results, "health-check", hc)
        assert not result.ok
        assert "unhealthy: 0 of 1 checkers report success" in result.reason
        assert "503" in result.reason
        assert check(results, "health-check", world.health_id("hc-www-qa")).ok
        assert len([r for r in results if str(r.check) == "health-check"]) == 2


class TestCapacityChecks:
    def test_eks_cluster_not_active_fails(self, world: Seeded) -> None:
        """An EKS cluster in CREATING is not ACTIVE."""
        from moto.eks.models import eks_backends

        cluster = eks_backends[QA]["eu-west-1"].clusters["cluster-1"]
        cluster.status = "CREATING"
        world.on_teardown(lambda: setattr(cluster, "status", "ACTIVE"))
        result = check(run(world), "eks-cluster", "cluster-1")
        assert (result.ok, result.reason) == (False, "EKS cluster cluster-1 is CREATING, not ACTIVE")

    def test_ecs_service_under_min_running_fails(self, world: Seeded) -> None:
        """An ECS service running 1 task against min_running 2 fails."""
        ecs = world.clients.client("ecs", "qa")
        ecs.update_service(cluster="ecs-1", service="service-a", desiredCount=1)
        world.on_teardown(lambda: ecs.update_service(cluster="ecs-1", service="service-a", desiredCount=2))
        result = check(run(world), "ecs-service", "ecs-1/service-a")
        assert (result.ok, result.reason) == (False, "ECS service ecs-1/service-a: 1 running < min_running 2")

    def test_asg_under_min_in_service_fails(self, world: Seeded) -> None:
        """An ASG with one of two instances Unhealthy has 1 InService+Healthy < 2."""
        asg = world.clients.client("autoscaling", "qa")
        group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][0]
        instance_id = group["Instances"][0]["InstanceId"]
        asg.set_instance_health(InstanceId=instance_id, HealthStatus="Unhealthy")
        world.on_teardown(lambda: asg.set_instance_health(InstanceId=instance_id, HealthStatus="Healthy"))
        result = check(run(world), "autoscaling-group", "web")
        assert not result.ok
        assert result.reason.startswith("web: 1 InService+Healthy < min_in_service 2")

    def test_missing_resources_fail_as_not_found(self, world: Seeded) -> None:
        """EKS, ECS and ASG resources that do not exist fail with 'not found'."""
        from dr.config.model import AutoScalingGroup, EcsService, Readiness

        spec = Readiness(eks_clusters=["nope"], ecs_services=[EcsService(cluster="ecs-1", service="nope")],
                         autoscaling_groups=[AutoScalingGroup(name="nope")])
        world.topology = world.topology.model_copy(update={"readiness": {"qa": spec}})
        results = run(world)
        for kind, resource in (("eks-cluster", "nope"), ("ecs-service", "ecs-1/nope"), ("autoscaling-group", "nope")):
            result = check(results, kind, resource)
            assert not result.ok
            assert "not found" in result.reason


class TestAwsErrors:
    def test_throttled_describe_fails_that_check_with_the_aws_reason(self, world: Seeded) -> None:
        """An AWS error in one read fails its check with 'Throttling: ...', the rest still run."""
        # both regions' instance listings (read side by side, in either order) are throttled
        world.faults.throttle["DescribeDBInstances"] = 2
        results = run(world)
        result = check(results, "replica-exists", "orders-db-euw1")
        assert not result.ok
        assert "Throttling: Rate exceeded" in result.reason
        assert check(results, "replica-exists", "payments-cluster-euw1").ok

    def test_throttled_health_check_read_fails_that_check_only(self, world: Seeded) -> None:
        """A throttled GetHealthCheckStatus fails one health-check check with the AWS reason."""
        world.faults.throttle["GetHealthCheckStatus"] = 1
        health = [r for r in run(world) if str(r.check) == "health-check"]
        assert [r.ok for r in health].count(False) == 1
        assert "Throttling: Rate exceeded" in next(r.reason for r in health if not r.ok)

    def test_outage_of_the_dr_region_fails_every_check_there_without_traceback(self, world: Seeded) -> None:
        """With eu-west-1 down, the qa checks fail as unreachable; Route53 (global) still answers."""
        world.faults.outage_regions.add("eu-west-1")
        results = run(world)
        regional = [r for r in results if str(r.check) != "health-check"]
        assert regional
        assert all(not r.ok and "ConnectTimeoutError" in r.reason for r in regional)
        assert all(r.ok for r in results if str(r.check) == "health-check")
