"""Replication lag: the RPO verdict, and batched GetMetricData reads (one call per 500 series and group)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dr.aws.factory import ClientFactory
from dr.aws.faults import Faults
from dr.checks.lag import DEFAULT_MAX_AGE_SECONDS, LagSample, read_lags, rpo_verdict
from dr.clock import FakeClock
from dr.config.model import Topology


def sample(seconds: float | None, age: float | None = 30.0, error: str | None = None) -> LagSample:
    return LagSample("orders", "eu-central-1", "eu-west-1", seconds, None if seconds is None else age, error=error)


class TestBoundaries:
    """The exact edges, one second either side, as docs/readiness.md documents them: lag <= RPO passes; a newest
    datapoint at most 5 minutes old is fresh. A `>` turned `>=` (or back) fails one of these."""

    @pytest.mark.parametrize(("lag", "ok"), [(299.0, True), (300.0, True), (301.0, False)])
    def test_lag_equal_to_the_rpo_passes_one_second_more_fails(self, lag: float, ok: bool) -> None:
        """Lag 299 and 300 s pass an RPO of 300 s; 301 s fails."""
        assert rpo_verdict(sample(lag), 300)[0] is ok

    @pytest.mark.parametrize(("age", "ok"), [(299.0, True), (300.0, True), (301.0, False)])
    def test_datapoint_exactly_max_age_old_is_fresh_one_second_older_is_stale(self, age: float, ok: bool) -> None:
        """The documented 5 minutes: a datapoint 300 s old is fresh, 301 s old is stale."""
        assert DEFAULT_MAX_AGE_SECONDS == 300.0
        passed, reason = rpo_verdict(sample(10, age=age), 300)
        assert passed is ok
        assert ("stale" in reason) is not ok

    @pytest.mark.parametrize(("lag", "broken"), [(-1.0, True), (0.0, False)])
    def test_zero_lag_is_caught_up_and_minus_one_is_broken(self, lag: float, broken: bool) -> None:
        """0 means applied everything (passes); -1 means replication not running (fails)."""
        assert sample(lag).broken is broken
        assert rpo_verdict(sample(lag), 300)[0] is not broken


class TestRpoVerdict:
    def test_fresh_lag_within_rpo_passes(self) -> None:
        """12 s against an RPO of 300 s passes."""
        assert rpo_verdict(sample(12), 300) == (True, "lag 12 s <= RPO 300 s")

    def test_lag_above_rpo_fails(self) -> None:
        """412 s against 300 s fails with both numbers."""
        assert rpo_verdict(sample(412), 300) == (False, "lag 412 s > RPO 300 s")

    def test_minus_one_is_broken_and_fails(self) -> None:
        """-1 means replication is not running: it fails, it never passes as 'small lag'."""
        assert rpo_verdict(sample(-1), 300) == (False, "ReplicaLag -1: replication broken")

    def test_no_datapoint_is_unknown_and_fails(self) -> None:
        """No datapoint in the window fails, naming the window."""
        assert rpo_verdict(sample(None), 300) == (False, "no ReplicaLag datapoint in the last 10 min")

    def test_stale_datapoint_fails_even_when_small(self) -> None:
        """A 1 s lag measured 8 minutes ago is stale: fails."""
        ok, reason = rpo_verdict(sample(1, age=480), 300, max_age_seconds=300)
        assert not ok
        assert reason == "newest ReplicaLag datapoint is 8 min old (> 5 min): metric stale"

    def test_read_error_fails_with_the_error(self) -> None:
        """A lag that could not be read fails with the AWS reason."""
        assert rpo_verdict(sample(None, error="AccessDenied: no"), 300) == (
            False, "could not read ReplicaLag: AccessDenied: no")


def topology(west: int, north: int) -> Topology:
    """`west` databases replicating to prod/eu-west-1 and `north` to prod/eu-north-1."""
    def db(i: int, region: str) -> dict[str, object]:
        return {"name": f"db{i}", "engine": "rds-instance", "primary": {"env": "prod", "id": f"db{i}"},
                "replica": {"env": "prod", "region": region, "id": f"db{i}-replica"}}

    return Topology.model_validate({
        "version": 1,
        "aws": {"max_attempts": 1},
        "environments": {"prod": {"account_id": "111111111111", "region": "eu-central-1"}},
        "databases": [db(i, "eu-west-1") for i in range(west)]
        + [db(west + i, "eu-north-1") for i in range(north)],
    })


@pytest.mark.usefixtures("aws")
class TestReadLags:
    def put(self, clients: ClientFactory, region: str, db_id: str, value: float, when: datetime) -> None:
        clients.client("cloudwatch", "prod", region).put_metric_data(Namespace="AWS/RDS", MetricData=[
            {"MetricName": "ReplicaLag", "Value": value, "Timestamp": when,
             "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": db_id}]}])

    def test_one_call_per_500_series_per_region(self) -> None:
        """503 databases in two regions: 2 GetMetricData calls for eu-west-1's 501, 1 for eu-north-1's 2."""
        topo, faults = topology(501, 2), Faults()
        clients = ClientFactory(topo, faults=faults)
        now = datetime.now(UTC)
        self.put(clients, "eu-west-1", "db0-replica", 4, now - timedelta(seconds=90))
        self.put(clients, "eu-west-1", "db500-replica", 7, now - timedelta(seconds=30))
        self.put(clients, "eu-north-1", "db502-replica", -1, now - timedelta(seconds=30))
        lags = read_lags(topo, clients, FakeClock(now))
        assert faults.count("cloudwatch", "GetMetricData") == 3
        assert len(lags) == 503
        assert (lags["db0"].seconds, lags["db500"].seconds, lags["db502"].seconds) == (4, 7, -1)
        assert lags["db502"].broken
        assert 90 <= (lags["db0"].age_seconds or 0) <= 150  # counted from the start of its 60 s period
        assert lags["db1"].seconds is None

    def test_only_the_named_databases_are_read(self) -> None:
        """`databases=` limits the read; the others are absent from the result."""
        topo, faults = topology(3, 0), Faults()
        lags = read_lags(topo, ClientFactory(topo, faults=faults), FakeClock(datetime.now(UTC)), databases=["db1"])
        assert list(lags) == ["db1"]
        assert faults.count("cloudwatch", "GetMetricData") == 1

    def test_unreachable_region_marks_only_its_samples(self) -> None:
        """An outage of eu-north-1 gives its samples an error; eu-west-1's are still read."""
        topo, faults = topology(1, 1), Faults(outage_regions={"eu-north-1"})
        clients = ClientFactory(topo, faults=faults)
        now = datetime.now(UTC)
        self.put(clients, "eu-west-1", "db0-replica", 3, now - timedelta(seconds=20))
        lags = read_lags(topo, clients, FakeClock(now))
        assert lags["db0"].seconds == 3
        assert lags["db0"].error is None
        assert "ConnectTimeoutError" in (lags["db1"].error or "")
        assert rpo_verdict(lags["db1"], 300)[0] is False

    def test_the_datapoint_newest_in_time_wins(self) -> None:
        """With several datapoints in the window the newest one is the lag, not the largest or oldest."""
        topo = topology(1, 0)
        clients = ClientFactory(topo)
        now = datetime.now(UTC)
        self.put(clients, "eu-west-1", "db0-replica", 250, now - timedelta(seconds=400))
        self.put(clients, "eu-west-1", "db0-replica", 5, now - timedelta(seconds=20))
        assert read_lags(topo, clients, FakeClock(now))["db0"].seconds == 5


@pytest.mark.usefixtures("aws")
class TestAuroraBinlogLagDimensions:
    """AWS recommends AuroraBinlogReplicaLag of the WRITER role: the series DBClusterIdentifier + Role=WRITER."""

    TOPOLOGY = {
        "version": 1, "aws": {"max_attempts": 1},
        "environments": {"prod": {"account_id": "111111111111", "region": "eu-central-1"}},
        "databases": [{"name": "ledger", "engine": "aurora-cluster", "primary": {"env": "prod", "id": "ledger"},
                       "replica": {"env": "prod", "region": "eu-west-1", "id": "ledger-euw1"}}],
    }

    def put(self, clients: ClientFactory, value: float, dimensions: list[dict[str, str]]) -> None:
        clients.client("cloudwatch", "prod", "eu-west-1").put_metric_data(Namespace="AWS/RDS", MetricData=[
            {"MetricName": "AuroraBinlogReplicaLag", "Value": value,
             "Timestamp": datetime.now(UTC) - timedelta(seconds=20), "Dimensions": dimensions}])

    def test_the_writer_role_series_is_read(self) -> None:
        """The lag of an aurora-cluster replica is the datapoint of DBClusterIdentifier + Role=WRITER."""
        topo = Topology.model_validate(self.TOPOLOGY)
        clients = ClientFactory(topo)
        self.put(clients, 7, [{"Name": "DBClusterIdentifier", "Value": "ledger-euw1"},
                              {"Name": "Role", "Value": "WRITER"}])
        self.put(clients, 99, [{"Name": "DBClusterIdentifier", "Value": "ledger-euw1"},
                               {"Name": "Role", "Value": "READER"}])
        lag = read_lags(topo, clients, FakeClock(datetime.now(UTC)))["ledger"]
        assert (lag.seconds, lag.metric) == (7, "AuroraBinlogReplicaLag")

    def test_the_cluster_aggregate_without_a_role_is_not_read(self) -> None:
        """A datapoint under DBClusterIdentifier alone (all instances, readers included) is not the lag."""
        topo = Topology.model_validate(self.TOPOLOGY)
        clients = ClientFactory(topo)
        self.put(clients, 3, [{"Name": "DBClusterIdentifier", "Value": "ledger-euw1"}])
        assert read_lags(topo, clients, FakeClock(datetime.now(UTC)))["ledger"].seconds is None
