"""The dr.testing sandbox fixtures: seeded, controllable, overridable, isolated between tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from dr.aws.route53 import health_check_status
from dr.config import check_file
from dr.sandbox.session import Timings
from dr.testing import FakeClock, InProcessSandbox

SMALL = """
version: 1
environments:
  a: {account_id: "700000000001", region: ap-southeast-2, role_arn: "arn:aws:iam::700000000001:role/dr"}
  b: {account_id: "700000000002", region: ap-northeast-1, role_arn: "arn:aws:iam::700000000002:role/dr", dr_for: a}
databases:
  - {name: db, engine: rds-instance, primary: {env: a, id: db}, replica: {env: a, region: ap-northeast-1, id: db-r}}
"""


class TestSandboxFixture:
    def test_seeds_the_packaged_example_by_default(self, sandbox: InProcessSandbox) -> None:
        """Without an override the example is seeded and its config written and valid."""
        assert [db.name for db in sandbox.topology.databases] == ["orders", "customers", "inventory", "payments"]
        model, _ = check_file(sandbox.config_path)
        assert model == sandbox.topology

    def test_control_acts_on_seeded_health_checks(self, sandbox: InProcessSandbox) -> None:
        """control.set_health(id, False) makes that seeded check read unhealthy through drctl's adapter."""
        record = sandbox.topology.dns[0]
        hc_id = record.health_checks["qa"]
        assert health_check_status(sandbox.clients, record.env, hc_id) is True
        sandbox.control.set_health(hc_id, False)
        assert health_check_status(sandbox.clients, record.env, hc_id) is False

    def test_each_test_starts_from_a_fresh_seed(self, sandbox: InProcessSandbox) -> None:
        """Health checks set unhealthy in another test are healthy again here (endpoint checks: a RECOVERY_CONTROL
        check follows its routing control, the standby side's is unhealthy by design)."""
        for record in sandbox.topology.dns:
            if record.arc is not None:
                continue
            for hc_id in record.health_checks.values():
                assert health_check_status(sandbox.clients, record.env, hc_id) is True

    def test_fake_clock_fixture_never_sleeps(self, fake_clock: FakeClock) -> None:
        """fake_clock.sleep advances time instead of waiting."""
        start = fake_clock.now()
        fake_clock.sleep(3600)
        assert (fake_clock.now() - start).total_seconds() == 3600


class TestSandboxTopologyOverride:
    @pytest.fixture
    def sandbox_topology(self, tmp_path: Path) -> Path:
        path = tmp_path / "small.yaml"
        path.write_text(SMALL, encoding="utf-8")
        return path

    def test_override_seeds_the_given_topology(self, sandbox: InProcessSandbox) -> None:
        """Overriding sandbox_topology seeds that file: its replica exists in its account and region."""
        rds = sandbox.clients.client("rds", "a", "ap-northeast-1")
        replica = rds.describe_db_instances(DBInstanceIdentifier="db-r")["DBInstances"][0]
        assert replica["ReadReplicaSourceDBInstanceIdentifier"] == "arn:aws:rds:ap-southeast-2:700000000001:db:db"
        assert set(sandbox.topology.environments) == {"a", "b"}


class TestSandboxClockAndTimings:
    @pytest.fixture
    def sandbox_clock(self, fake_clock: FakeClock) -> FakeClock:
        return fake_clock

    @pytest.fixture
    def sandbox_timings(self) -> Timings:
        return Timings(promotion_seconds=30)

    def test_promotion_completes_as_the_injected_clock_advances(self, sandbox: InProcessSandbox,
                                                                fake_clock: FakeClock) -> None:
        """With sandbox_clock and sandbox_timings overridden, a promotion is 'modifying' until 30 fake seconds pass."""
        rds = sandbox.clients.client("rds", "prod", "eu-west-1")
        rds.promote_read_replica(DBInstanceIdentifier="orders-db-euw1")
        status = rds.describe_db_instances(DBInstanceIdentifier="orders-db-euw1")["DBInstances"][0]
        assert status["DBInstanceStatus"] == "modifying"
        fake_clock.advance(31)
        status = rds.describe_db_instances(DBInstanceIdentifier="orders-db-euw1")["DBInstances"][0]
        assert status["DBInstanceStatus"] == "available"


class TestSeedWithPlainMoto:
    def test_without_a_control_lag_is_put_into_cloudwatch(self, aws: None, tmp_path: Path) -> None:
        """seed(topology, clients) under plain mock_aws publishes one ReplicaLag datapoint of 2 s itself."""
        from datetime import UTC, datetime, timedelta

        from dr.aws.factory import ClientFactory
        from dr.config import load
        from dr.sandbox.seed import seed

        path = tmp_path / "small.yaml"
        path.write_text(SMALL, encoding="utf-8")
        topology = load(path)
        seeded = seed(topology, ClientFactory(topology, run_id="t"))
        now = datetime.now(UTC)
        stats = ClientFactory(seeded).client("cloudwatch", "a", "ap-northeast-1").get_metric_statistics(
            Namespace="AWS/RDS", MetricName="ReplicaLag",
            Dimensions=[{"Name": "DBInstanceIdentifier", "Value": "db-r"}],
            StartTime=now - timedelta(minutes=5), EndTime=now + timedelta(minutes=1), Period=60, Statistics=["Maximum"])
        assert [p["Maximum"] for p in stats["Datapoints"]] == [2.0]
