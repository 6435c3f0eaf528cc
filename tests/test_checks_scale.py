"""Readiness at 60 databases: one RDS listing per region and one GetMetricData call for all their lags."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dr.aws.factory import ClientFactory
from dr.aws.faults import Faults
from dr.checks.model import all_ok
from dr.checks.readiness import readiness
from dr.clock import FakeClock
from dr.config.model import Topology

COUNT = 60


def topology() -> Topology:
    return Topology.model_validate({
        "version": 1,
        "environments": {"prod": {"account_id": "123456789012", "region": "eu-central-1"},
                         "qa": {"account_id": "222222222222", "region": "eu-west-1", "dr_for": "prod"}},
        "databases": [{"name": f"db{i}", "engine": "rds-instance", "primary": {"env": "prod", "id": f"db{i}"},
                       "replica": {"env": "prod", "region": "eu-west-1", "id": f"db{i}-euw1"}}
                      for i in range(COUNT)],
    })


def seed(clients: ClientFactory) -> None:
    primary, replica = clients.client("rds", "prod", "eu-central-1"), clients.client("rds", "prod", "eu-west-1")
    for i in range(COUNT):
        arn = primary.create_db_instance(DBInstanceIdentifier=f"db{i}", Engine="postgres",
                                         DBInstanceClass="db.t3.micro",
                                         MasterUsername="admin", MasterUserPassword="password-1",
                                         AllocatedStorage=20)["DBInstance"]["DBInstanceArn"]
        replica.create_db_instance_read_replica(DBInstanceIdentifier=f"db{i}-euw1", SourceDBInstanceIdentifier=arn,
                                                SourceRegion="eu-central-1")
    clients.client("cloudwatch", "prod", "eu-west-1").put_metric_data(Namespace="AWS/RDS", MetricData=[
        {"MetricName": "ReplicaLag", "Value": 3.0,
         "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": f"db{i}-euw1"}]} for i in range(COUNT)])


@pytest.mark.usefixtures("aws")
class TestReadinessAtScale:
    def test_sixty_databases_take_one_lag_call_and_one_listing_per_region(self) -> None:
        """60 replicas in one account/region: one DescribeDBInstances per region (the copies in qa's region and
        their primaries, read to know the current writer), 1 GetMetricData, all checks green."""
        topo = topology()
        seed(ClientFactory(topo, run_id="seed"))
        faults = Faults()
        results = readiness(topo, ClientFactory(topo, faults=faults), FakeClock(datetime.now(UTC)), "qa")
        assert all_ok(results), [r for r in results if not r.ok][:3]
        assert len([r for r in results if str(r.check) == "lag-within-rpo"]) == COUNT
        assert faults.count("cloudwatch", "GetMetricData") == 1
        assert faults.count("rds", "DescribeDBInstances") == 2
        assert len([r for r in results if str(r.check) == "writer-lineage" and r.ok]) == COUNT
