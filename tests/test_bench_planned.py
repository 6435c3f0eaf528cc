"""The planned variant's pieces: the sandbox's scaled CloudWatch minute, AWS's least catch-up time, and the moves
the peers are given."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from benchmarks.estate import SOURCE, TARGET, EstateSize, PromotionTimes, build
from benchmarks.failover import Scenario, catch_up_floor
from benchmarks.peers.plan import build as peer_plan
from dr.aws.lag_metrics import lag_metric
from dr.clock import FakeClock
from dr.config.model import DnsStrategy, Engine
from dr.sandbox.control import LocalControl, SandboxControlError
from dr.sandbox.seed import DEFAULT_LAG_SECONDS
from dr.testing.sandbox import InProcessSandbox, in_process_sandbox

SMALL = EstateSize(databases=3, records=4, zones=1, eks_clusters=1, ecs_services=1, asgs=1)


def _lag_points(sbx: InProcessSandbox, clock: FakeClock, replica: str) -> list[datetime]:
    metric = lag_metric(Engine.RDS_INSTANCE)
    cloudwatch = sbx.clients.client("cloudwatch", "prod", "eu-west-1")
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=[{"Id": "q", "MetricStat": {"Metric": {
            "Namespace": metric.namespace, "MetricName": metric.metric,
            "Dimensions": metric.cloudwatch_dimensions(replica)}, "Period": 60, "Stat": "Maximum"}}],
        StartTime=clock.now() - timedelta(seconds=10), EndTime=clock.now() + timedelta(seconds=1))
    return list(answer["MetricDataResults"][0]["Timestamps"])


class TestScaledMetricPeriod:
    def test_a_scaled_minute_spaces_datapoints_and_periods(self, tmp_path: Path) -> None:
        """metric period 1 s: ten seconds of a replica's lag hold 5 one-second Period-60 datapoints; AWS's minute 1."""
        clock = FakeClock()
        with in_process_sandbox(build(SMALL), tmp_path, clock=clock) as sbx:
            replica = next(db.replica.id for db in sbx.topology.databases if db.engine is Engine.RDS_INSTANCE)
            assert len(_lag_points(sbx, clock, replica)) == 1
            sbx.control.set_metric_period_seconds(1.0)
            stamps = sorted(_lag_points(sbx, clock, replica))
            assert len(stamps) == 5
            assert {(b - a).total_seconds() for a, b in pairwise(stamps)} == {1.0}

    def test_the_period_must_be_positive_and_reset_restores_a_minute(self) -> None:
        """0 is refused with a message naming the knob; reset() brings back AWS's 60 s."""
        control = LocalControl()
        with pytest.raises(SandboxControlError, match="metric period seconds must be > 0"):
            control.set_metric_period_seconds(0)
        control.set_metric_period_seconds(2.5)
        control.reset()
        from dr.sandbox.extensions.state import STATE

        assert STATE.metric_period_seconds == 60.0


class TestCatchUpFloor:
    def test_postgres_replicas_need_one_more_period_than_mysql_family(self) -> None:
        """With an RDS PostgreSQL replica: its lag drained plus one scaled period; Aurora MySQL alone: the drain."""
        scenario = Scenario(promotions=PromotionTimes(low=2.0, mode=3.0, high=6.0))
        assert scenario.metric_period == 1.0
        assert catch_up_floor(build(SMALL), scenario) == DEFAULT_LAG_SECONDS + 1.0
        mysql_only = build(SMALL).model_copy(
            update={"databases": [db for db in build(SMALL).databases if db.engine is Engine.AURORA_CLUSTER]})
        assert catch_up_floor(mysql_only, scenario) == DEFAULT_LAG_SECONDS


class TestPeerPlan:
    def test_moves_name_the_dr_side(self) -> None:
        """Each replica is promoted as its account's role; a plain record gets the DR value, a failover record's
        PRIMARY the DR value and health check; the time scale is the promotions' (1/60 by default)."""
        topology = build(EstateSize(databases=3, records=4, zones=1, eks_clusters=1, ecs_services=1, asgs=1))
        plan = peer_plan(topology, SOURCE, TARGET, PromotionTimes().time_scale)
        assert plan["time_scale"] == pytest.approx(1 / 60)
        assert [d["id"] for d in plan["databases"]] == [db.replica.id for db in topology.databases]
        assert {d["role_arn"] for d in plan["databases"]} == {topology.environments[SOURCE].role_arn}
        (zone,) = plan["zones"]
        by_name = {c["ResourceRecordSet"]["Name"]: c["ResourceRecordSet"] for c in zone["changes"]}
        for record in topology.dns:
            record_set = by_name[record.fqdn.lower()]
            assert record_set["ResourceRecords"] == [{"Value": record.targets[TARGET]}]
            if record.strategy is DnsStrategy.FAILOVER_ROUTING:
                assert (record_set["SetIdentifier"], record_set["Failover"]) == (SOURCE, "PRIMARY")
                assert record_set["HealthCheckId"] == record.health_checks[TARGET]
            else:
                assert "SetIdentifier" not in record_set
