"""Replication-lag metrics in the sandbox: fresh CloudWatch datapoints per replica, per engine."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import boto3
import pytest

from dr.aws.lag_metrics import LAG_METRICS
from dr.clock import FakeClock
from dr.config.model import Engine
from dr.sandbox.control import LocalControl, SandboxControlError
from tests.sandbox_ext_support import orders_primary_and_replica
from tests.sandbox_ext_support import rds as _rds

ACCOUNT = "123456789012"


@pytest.fixture
def replica(sandbox_control: LocalControl) -> str:
    orders_primary_and_replica()
    return "orders-db-euw1"


def _latest(
    clock: FakeClock, engine: Engine, identifier: str, region: str = "eu-west-1"
) -> tuple[float, datetime] | None:
    """The newest datapoint of the engine's lag metric over the last 10 minutes, via GetMetricData."""
    metric = LAG_METRICS[engine]
    now = clock.now()
    result = boto3.client("cloudwatch", region_name=region).get_metric_data(
        MetricDataQueries=[
            {
                "Id": "lag",
                "MetricStat": {
                    "Metric": {
                        "Namespace": metric.namespace,
                        "MetricName": metric.metric,
                        "Dimensions": metric.cloudwatch_dimensions(identifier),
                    },
                    "Period": 60,
                    "Stat": "Maximum",
                },
            }
        ],
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=1),
        ScanBy="TimestampDescending",
    )["MetricDataResults"][0]
    if not result["Values"]:
        return None
    return float(result["Values"][0]), result["Timestamps"][0]


def _series(clock: FakeClock, metric: str, dimensions: list[dict[str, str]]) -> list[float]:
    """Every Maximum of `metric` with exactly these dimensions over the last 10 minutes, in eu-west-1."""
    result = boto3.client("cloudwatch", region_name="eu-west-1").get_metric_data(
        MetricDataQueries=[{"Id": "q", "MetricStat": {
            "Metric": {"Namespace": "AWS/RDS", "MetricName": metric, "Dimensions": dimensions},
            "Period": 60, "Stat": "Maximum"}}],
        StartTime=clock.now() - timedelta(minutes=10), EndTime=clock.now() + timedelta(minutes=1),
    )["MetricDataResults"][0]
    return [float(v) for v in result["Values"]]


class TestInstanceLag:
    def test_a_registered_replica_gets_fresh_datapoints_of_the_set_value(
        self, sandbox_control: LocalControl, replica: str, control_clock: FakeClock
    ) -> None:
        """ReplicaLag/DBInstanceIdentifier answers the configured seconds, timestamped at the sandbox's now."""
        sandbox_control.set_replica_lag(ACCOUNT, "eu-west-1", "rds-instance", replica, 12.5)
        latest = _latest(control_clock, Engine.RDS_INSTANCE, replica)
        assert latest is not None
        value, timestamp = latest
        assert value == 12.5
        assert abs((control_clock.now() - timestamp).total_seconds()) < 60

    def test_the_datapoints_follow_the_clock(
        self, sandbox_control: LocalControl, replica: str, control_clock: FakeClock
    ) -> None:
        """An hour later the newest datapoint is still fresh: datapoints are made at read time."""
        sandbox_control.set_replica_lag(ACCOUNT, "eu-west-1", "rds-instance", replica, 3)
        control_clock.advance(3600)
        latest = _latest(control_clock, Engine.RDS_INSTANCE, replica)
        assert latest is not None
        assert abs((control_clock.now() - latest[1]).total_seconds()) < 60

    def test_broken_replication_publishes_minus_one(
        self, sandbox_control: LocalControl, replica: str, control_clock: FakeClock
    ) -> None:
        """-1 is published as -1 (replication not running)."""
        sandbox_control.set_replica_lag(ACCOUNT, "eu-west-1", "rds-instance", replica, -1)
        latest = _latest(control_clock, Engine.RDS_INSTANCE, replica)
        assert latest is not None
        assert latest[0] == -1.0

    def test_without_a_default_an_unregistered_replica_publishes_nothing(
        self, sandbox_control: LocalControl, replica: str, control_clock: FakeClock
    ) -> None:
        """Plain moto tests that put their own datapoints see only those: no default lag unless asked."""
        assert _latest(control_clock, Engine.RDS_INSTANCE, replica) is None

    def test_default_lag_covers_every_replica_without_its_own_setting(
        self, sandbox_control: LocalControl, replica: str, control_clock: FakeClock
    ) -> None:
        """As AWS publishes lag for every replica, a replica created later (failback) gets the default."""
        sandbox_control.set_default_lag(4.0)
        latest = _latest(control_clock, Engine.RDS_INSTANCE, replica)
        assert latest is not None
        assert latest[0] == 4.0
        sandbox_control.set_replica_lag(ACCOUNT, "eu-west-1", "rds-instance", replica, None)
        assert _latest(control_clock, Engine.RDS_INSTANCE, replica) is None, "an explicit setting wins over the default"

    def test_default_lag_skips_databases_that_are_not_replicas(
        self, sandbox_control: LocalControl, replica: str, control_clock: FakeClock
    ) -> None:
        """The primary publishes no lag, default or not."""
        sandbox_control.set_default_lag(4.0)
        assert _latest(control_clock, Engine.RDS_INSTANCE, "orders-db", region="eu-central-1") is None

    def test_no_data_publishes_nothing(
        self, sandbox_control: LocalControl, replica: str, control_clock: FakeClock
    ) -> None:
        """seconds=None means the metric has no datapoints at all."""
        sandbox_control.set_replica_lag(ACCOUNT, "eu-west-1", "rds-instance", replica, None)
        assert _latest(control_clock, Engine.RDS_INSTANCE, replica) is None

    def test_a_stale_metric_has_an_old_newest_datapoint(
        self, sandbox_control: LocalControl, replica: str, control_clock: FakeClock
    ) -> None:
        """age_seconds makes the newest datapoint that old (a stale metric)."""
        sandbox_control.set_replica_lag(ACCOUNT, "eu-west-1", "rds-instance", replica, 2, age_seconds=420)
        statistics = boto3.client("cloudwatch", region_name="eu-west-1").get_metric_statistics(
            Namespace="AWS/RDS",
            MetricName="ReplicaLag",
            Dimensions=[{"Name": "DBInstanceIdentifier", "Value": replica}],
            StartTime=control_clock.now() - timedelta(minutes=30),
            EndTime=control_clock.now(),
            Period=60,
            Statistics=["Maximum"],
        )["Datapoints"]
        newest = max(point["Timestamp"] for point in statistics)
        assert (control_clock.now() - newest).total_seconds() == pytest.approx(420, abs=1)

    def test_a_promoted_replica_stops_getting_lag(
        self, sandbox_control: LocalControl, replica: str, control_clock: FakeClock
    ) -> None:
        """After promotion the database is no replica any more, and its lag metric has no datapoints."""
        sandbox_control.set_replica_lag(ACCOUNT, "eu-west-1", "rds-instance", replica, 4)
        _rds("eu-west-1").promote_read_replica(DBInstanceIdentifier=replica)
        assert _latest(control_clock, Engine.RDS_INSTANCE, replica) is None

    def test_lag_is_published_only_in_the_replicas_account_and_region(
        self, sandbox_control: LocalControl, replica: str, control_clock: FakeClock
    ) -> None:
        """The primary's region sees no datapoints for the replica."""
        sandbox_control.set_replica_lag(ACCOUNT, "eu-west-1", "rds-instance", replica, 4)
        assert _latest(control_clock, Engine.RDS_INSTANCE, replica, region="eu-central-1") is None

    def test_put_metric_data_keeps_working_alongside(
        self, sandbox_control: LocalControl, replica: str, control_clock: FakeClock
    ) -> None:
        """A metric published the ordinary way is still readable with the sandbox's provider installed."""
        sandbox_control.set_replica_lag(ACCOUNT, "eu-west-1", "rds-instance", replica, 4)
        cloudwatch = boto3.client("cloudwatch", region_name="eu-west-1")
        naive_now = control_clock.now().replace(tzinfo=None)
        cloudwatch.put_metric_data(
            Namespace="Custom", MetricData=[{"MetricName": "Orders", "Value": 7.0, "Timestamp": naive_now}]
        )
        points = cloudwatch.get_metric_statistics(
            Namespace="Custom",
            MetricName="Orders",
            StartTime=control_clock.now() - timedelta(minutes=5),
            EndTime=control_clock.now() + timedelta(minutes=1),
            Period=60,
            Statistics=["Sum"],
        )["Datapoints"]
        assert [p["Sum"] for p in points] == [7.0]

    def test_an_unknown_engine_is_refused(self, sandbox_control: LocalControl) -> None:
        """The engine must be one of the topology's engines."""
        with pytest.raises(SandboxControlError, match="unknown engine"):
            sandbox_control.set_replica_lag(ACCOUNT, "eu-west-1", "oracle", "x", 1)


class TestAuroraLag:
    def test_an_aurora_replica_cluster_publishes_binlog_lag_in_seconds(
        self, sandbox_control: LocalControl, aurora_replica_cluster: str, control_clock: FakeClock
    ) -> None:
        """AuroraBinlogReplicaLag (DBClusterIdentifier + Role=WRITER) answers the configured seconds."""
        sandbox_control.set_replica_lag(ACCOUNT, "eu-west-1", "aurora-cluster", aurora_replica_cluster, 8)
        latest = _latest(control_clock, Engine.AURORA_CLUSTER, aurora_replica_cluster)
        assert latest is not None
        assert latest[0] == 8.0

    def test_binlog_lag_is_published_for_the_writer_role_only(
        self, sandbox_control: LocalControl, aurora_replica_cluster: str, control_clock: FakeClock
    ) -> None:
        """As AWS recommends reading it: DBClusterIdentifier + Role=WRITER has datapoints; the cluster alone
        or the READER role has none, so a reader asking for another series finds nothing."""
        sandbox_control.set_replica_lag(ACCOUNT, "eu-west-1", "aurora-cluster", aurora_replica_cluster, 8)
        cluster = {"Name": "DBClusterIdentifier", "Value": aurora_replica_cluster}
        writer, reader = {"Name": "Role", "Value": "WRITER"}, {"Name": "Role", "Value": "READER"}
        assert _series(control_clock, "AuroraBinlogReplicaLag", [cluster, writer]) == [8.0] * 5
        assert _series(control_clock, "AuroraBinlogReplicaLag", [cluster]) == []
        assert _series(control_clock, "AuroraBinlogReplicaLag", [cluster, reader]) == []

    def test_a_global_secondary_publishes_replication_lag_in_milliseconds(
        self, sandbox_control: LocalControl, control_clock: FakeClock
    ) -> None:
        """AuroraGlobalDBReplicationLag is in milliseconds: 1.5 s is published as 1500, and stops after switchover."""
        primary = _rds("eu-central-1").create_db_cluster(
            DBClusterIdentifier="g1", Engine="aurora-postgresql", MasterUsername="admin", MasterUserPassword="password1"
        )["DBCluster"]
        _rds("eu-central-1").create_global_cluster(
            GlobalClusterIdentifier="glob", SourceDBClusterIdentifier=primary["DBClusterArn"]
        )
        secondary = _rds("eu-west-1").create_db_cluster(
            DBClusterIdentifier="g2", Engine="aurora-postgresql", GlobalClusterIdentifier="glob"
        )["DBCluster"]
        _rds("eu-west-1").describe_db_clusters()
        sandbox_control.set_replica_lag(ACCOUNT, "eu-west-1", "aurora-global", "g2", 1.5)
        latest = _latest(control_clock, Engine.AURORA_GLOBAL, "g2")
        assert latest is not None
        assert latest[0] == 1500.0
        _rds("eu-west-1").switchover_global_cluster(
            GlobalClusterIdentifier="glob", TargetDbClusterIdentifier=secondary["DBClusterArn"]
        )
        assert _latest(control_clock, Engine.AURORA_GLOBAL, "g2") is None


class TestMetricNames:
    def test_the_sandbox_names_the_series_from_aws_documentation(self) -> None:
        """The sandbox publishes AWS's documented series (RDS and Aurora CloudWatch metric pages), written out
        there, not taken from drctl's table: names, dimensions and units as AWS gives them."""
        from dr.sandbox.extensions.replica_lag import AWS_LAG_METRICS

        assert {e: (m.namespace, m.metric, m.dimension, m.fixed, m.unit) for e, m in AWS_LAG_METRICS.items()} == {
            Engine.RDS_INSTANCE: ("AWS/RDS", "ReplicaLag", "DBInstanceIdentifier", (), "Seconds"),
            Engine.AURORA_CLUSTER: ("AWS/RDS", "AuroraBinlogReplicaLag", "DBClusterIdentifier",
                                    (("Role", "WRITER"),), "Seconds"),
            Engine.AURORA_GLOBAL: ("AWS/RDS", "AuroraGlobalDBReplicationLag", "DBClusterIdentifier", (),
                                   "Milliseconds"),
        }

    @pytest.mark.parametrize("engine", list(Engine))
    def test_drctl_reads_the_series_the_sandbox_publishes(self, engine: Engine) -> None:
        """dr.aws.lag_metrics (what readiness, the RPO gate and the exporter read) agrees with what AWS publishes
        for every engine: namespace, metric, the whole dimension set, and the unit's scale to seconds."""
        from dr.sandbox.extensions.replica_lag import AWS_LAG_METRICS

        ours, aws = LAG_METRICS[engine], AWS_LAG_METRICS[engine]
        assert (ours.namespace, ours.metric) == (aws.namespace, aws.metric)
        assert ours.cloudwatch_dimensions("db-1") == aws.dimensions("db-1")
        assert ours.to_seconds * aws.per_second == pytest.approx(1.0)

    def test_the_extension_does_not_import_drctls_table(self) -> None:
        """The replica-lag extension's source names no import of dr.aws.lag_metrics (it plays AWS, not drctl)."""
        import dr.sandbox.extensions.replica_lag as extension

        source = Path(extension.__file__).read_text(encoding="utf-8")
        assert "dr.aws.lag_metrics import" not in source
