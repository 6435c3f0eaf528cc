"""A regional outage in the sandbox, and replica lag that follows the modelled writes per engine."""

from __future__ import annotations

from datetime import datetime, timedelta

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ConnectTimeoutError

from dr.aws.lag_metrics import LAG_METRICS
from dr.clock import FakeClock
from dr.config.model import Engine
from dr.sandbox.control import LocalControl
from tests.sandbox_ext_support import rds
from tests.test_sandbox_data import ACCOUNT, pair

ONE_ATTEMPT = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def points(clock: FakeClock, engine: Engine, identifier: str) -> list[tuple[datetime, float]]:
    """Every datapoint of the engine's lag metric in the last 10 minutes, oldest first."""
    metric = LAG_METRICS[engine]
    result = boto3.client("cloudwatch", region_name="eu-west-1").get_metric_data(
        MetricDataQueries=[{"Id": "lag", "MetricStat": {"Metric": {
            "Namespace": metric.namespace, "MetricName": metric.metric,
            "Dimensions": [{"Name": metric.dimension, "Value": identifier}]}, "Period": 60, "Stat": "Maximum"}}],
        StartTime=clock.now() - timedelta(minutes=10), EndTime=clock.now() + timedelta(minutes=1),
        ScanBy="TimestampAscending",
    )["MetricDataResults"][0]
    return list(zip(result["Timestamps"], result["Values"], strict=True))


class TestCallsToARegionInOutage:
    def test_a_call_hangs_then_fails_with_a_connect_timeout(
        self, sandbox_control: LocalControl, control_clock: FakeClock
    ) -> None:
        """A call to the down region waits the hang time (on the sandbox clock), then ConnectTimeoutError."""
        sandbox_control.set_outage_hang_seconds(5)
        sandbox_control.set_outage("eu-central-1", True)
        client = boto3.client("rds", region_name="eu-central-1", config=ONE_ATTEMPT)
        start = control_clock.now()
        with pytest.raises(ConnectTimeoutError):
            client.describe_db_instances()
        assert control_clock.now() - start == timedelta(seconds=5)
        assert boto3.client("rds", region_name="eu-west-1").describe_db_instances()["DBInstances"] == []

    def test_the_region_answers_again_when_the_outage_ends(self, sandbox_control: LocalControl) -> None:
        """set_outage(region, False) ends it; outages() lists what is down with its start."""
        sandbox_control.set_outage("eu-central-1", True)
        assert sandbox_control.outages() == {"eu-central-1": "2026-03-01T12:00:00.000Z"}
        sandbox_control.set_outage("eu-central-1", False)
        assert sandbox_control.outages() == {}
        assert boto3.client("rds", region_name="eu-central-1").describe_db_instances()["DBInstances"] == []


class TestReplicationInOutage:
    def test_a_replica_of_the_down_region_reports_error(self, sandbox_control: LocalControl) -> None:
        """StatusInfos says read replication `error` while the source's region is down, `replicating` after."""
        pair(control=sandbox_control)
        sandbox_control.set_outage("eu-central-1", True)
        [info] = rds("eu-west-1").describe_db_instances(DBInstanceIdentifier="orders-db-euw1")["DBInstances"][0][
            "StatusInfos"]
        assert (info["Status"], info["Normal"]) == ("error", False)
        assert "eu-central-1" in info["Message"]
        sandbox_control.set_outage("eu-central-1", False)
        [info] = rds("eu-west-1").describe_db_instances(DBInstanceIdentifier="orders-db-euw1")["DBInstances"][0][
            "StatusInfos"]
        assert info["Status"] == "replicating"

    def test_mysql_lag_is_minus_one_in_an_outage(self, sandbox_control: LocalControl, control_clock: FakeClock) -> None:
        """MySQL's ReplicaLag is -1 (replication not running) for datapoints inside the outage."""
        pair("mysql", control=sandbox_control)
        sandbox_control.set_outage("eu-central-1", True)
        control_clock.advance(130)
        values = [v for _, v in points(control_clock, Engine.RDS_INSTANCE, "orders-db-euw1")]
        assert values[-3:] == [-1.0, -1.0, -1.0]

    def test_postgres_lag_grows_through_an_outage(
        self, sandbox_control: LocalControl, control_clock: FakeClock
    ) -> None:
        """PostgreSQL's ReplicaLag keeps growing: its 3 s plus the time since the region went down."""
        pair("postgres", control=sandbox_control)
        sandbox_control.set_outage("eu-central-1", True)
        control_clock.advance(130)
        newest = points(control_clock, Engine.RDS_INSTANCE, "orders-db-euw1")[-1]
        assert newest == (control_clock.now(), 133.0)

    def test_aurora_global_lag_grows_through_an_outage(
        self, sandbox_control: LocalControl, control_clock: FakeClock
    ) -> None:
        """AuroraGlobalDBReplicationLag (ms) grows from the outage start."""
        primary = rds("eu-central-1").create_db_cluster(
            DBClusterIdentifier="pay", Engine="aurora-postgresql", MasterUsername="admin",
            MasterUserPassword="password1")["DBCluster"]
        rds("eu-central-1").create_global_cluster(
            GlobalClusterIdentifier="pay-global", SourceDBClusterIdentifier=primary["DBClusterArn"])
        rds("eu-west-1").create_db_cluster(
            DBClusterIdentifier="pay-euw1", Engine="aurora-postgresql", GlobalClusterIdentifier="pay-global")
        sandbox_control.set_replica_lag(ACCOUNT, "eu-west-1", "aurora-global", "pay-euw1", 1)
        sandbox_control.set_outage("eu-central-1", True)
        control_clock.advance(60)
        assert points(control_clock, Engine.AURORA_GLOBAL, "pay-euw1")[-1][1] == 61_000.0


class TestLagFollowsTheWrites:
    def test_mysql_lag_is_the_setting_while_writes_flow_and_zero_once_applied(
        self, sandbox_control: LocalControl, control_clock: FakeClock
    ) -> None:
        """Seconds_Behind_Master: 3 while the source writes, 0 once the stopped source's writes are applied."""
        pair("mysql", control=sandbox_control)
        sandbox_control.start_writes(1.0)
        control_clock.advance(120)
        assert points(control_clock, Engine.RDS_INSTANCE, "orders-db-euw1")[-1][1] == 3.0
        sandbox_control.stop_writes()
        control_clock.advance(60)
        assert points(control_clock, Engine.RDS_INSTANCE, "orders-db-euw1")[-1][1] == 0.0

    def test_postgres_lag_grows_after_the_source_stops_and_its_replay_time_stays(
        self, sandbox_control: LocalControl, control_clock: FakeClock
    ) -> None:
        """now() - pg_last_xact_replay_timestamp(): after the last write, the lag grows and every datapoint's
        (timestamp - value) is that write's time."""
        pair("postgres", control=sandbox_control)
        sandbox_control.start_writes(1.0)
        control_clock.advance(120)
        assert points(control_clock, Engine.RDS_INSTANCE, "orders-db-euw1")[-1][1] == 3.0
        sandbox_control.stop_writes()
        last_write = control_clock.now()
        control_clock.advance(180)
        after = [(at, v) for at, v in points(control_clock, Engine.RDS_INSTANCE, "orders-db-euw1") if at > last_write]
        assert len(after) >= 2
        assert {at - timedelta(seconds=v) for at, v in after} == {last_write}
        assert after[-1][1] > after[0][1]

    def test_without_the_load_the_setting_is_published_as_is(
        self, sandbox_control: LocalControl, control_clock: FakeClock
    ) -> None:
        """No modelled writes: the replica publishes exactly its configured lag."""
        pair("mysql", lag=12.5, control=sandbox_control)
        control_clock.advance(60)
        assert {v for _, v in points(control_clock, Engine.RDS_INSTANCE, "orders-db-euw1")} == {12.5}


class TestHealthChecksInOutage:
    @pytest.fixture
    def checks(self, sandbox_control: LocalControl) -> dict[str, str]:
        r53 = boto3.client("route53", region_name="us-east-1")
        ids = {}
        for region in ("eu-central-1", "eu-west-1"):
            check = r53.create_health_check(CallerReference=region, HealthCheckConfig={
                "Type": "HTTPS", "FullyQualifiedDomainName": f"api.{region}.example.com", "Port": 443})["HealthCheck"]
            r53.change_tags_for_resource(ResourceType="healthcheck", ResourceId=check["Id"],
                                         AddTags=[{"Key": "drctl:region", "Value": region}])
            ids[region] = check["Id"]
        return ids

    @staticmethod
    def healthy(check_id: str) -> bool:
        status = boto3.client("route53", region_name="us-east-1").get_health_check_status(HealthCheckId=check_id)
        return all(o["StatusReport"]["Status"].startswith("Success") for o in status["HealthCheckObservations"])

    def test_the_checks_of_the_down_region_fail_until_it_returns(
        self, sandbox_control: LocalControl, checks: dict[str, str]
    ) -> None:
        """Checks tagged with the down region are unhealthy; others stay healthy; all recover at the end."""
        sandbox_control.set_outage("eu-central-1", True)
        assert not self.healthy(checks["eu-central-1"])
        assert self.healthy(checks["eu-west-1"])
        sandbox_control.set_outage("eu-central-1", False)
        assert self.healthy(checks["eu-central-1"])

    def test_a_status_set_during_the_outage_wins_and_stays(
        self, sandbox_control: LocalControl, checks: dict[str, str]
    ) -> None:
        """An explicit set_health made after the outage began is what the check reads, then and after."""
        sandbox_control.set_health(checks["eu-west-1"], False)
        sandbox_control.set_outage("eu-central-1", True)
        sandbox_control.set_health(checks["eu-central-1"], True)
        assert self.healthy(checks["eu-central-1"])
        sandbox_control.set_outage("eu-central-1", False)
        assert self.healthy(checks["eu-central-1"])
        assert not self.healthy(checks["eu-west-1"])
