"""The sandbox's data model: which copies take the application load's writes, how replicas apply them,
what a promotion forks, and what the report says was lost or written twice."""

from __future__ import annotations

from typing import Any

import pytest

from dr.clock import FakeClock
from dr.sandbox.control import LocalControl, SandboxControlError
from dr.testing.data import (
    concurrent_writer_ticks,
    copy,
    current_writer,
    family_of,
    loss_window_seconds,
    lost_writes,
    writers,
)
from tests.sandbox_ext_support import rds

ACCOUNT = "123456789012"


def pair(engine: str = "postgres", lag: float = 3.0, control: LocalControl | None = None) -> None:
    """orders-db (eu-central-1) and its cross-region replica orders-db-euw1 with `lag` seconds of lag."""
    primary = rds("eu-central-1").create_db_instance(
        DBInstanceIdentifier="orders-db", DBInstanceClass="db.t3.micro", Engine=engine, EngineVersion="8.0.35"
        if engine == "mysql" else "16.3", MasterUsername="admin", MasterUserPassword="password1",
    )["DBInstance"]
    rds("eu-west-1").create_db_instance_read_replica(
        DBInstanceIdentifier="orders-db-euw1", SourceDBInstanceIdentifier=primary["DBInstanceArn"],
        SourceRegion="eu-central-1",
    )
    if control is not None:
        control.set_replica_lag(ACCOUNT, "eu-west-1", "rds-instance", "orders-db-euw1", lag)


def writing_for(control: LocalControl, clock: FakeClock, seconds: float) -> None:
    """The pair, taking one write a second (from 0 s) for `seconds`."""
    pair(control=control)
    control.start_writes(1.0)
    clock.advance(seconds)


def source_down_after(control: LocalControl, clock: FakeClock, seconds: float, down_for: float) -> None:
    """The pair takes one write a second; its source's region goes down after `seconds`, for `down_for`."""
    writing_for(control, clock, seconds)
    control.set_outage("eu-central-1", True)
    clock.advance(down_for)


def report_copy(control: LocalControl, identifier: str) -> dict[str, Any]:
    return copy(control.data_report(), identifier)


class TestWhoTakesWrites:
    def test_the_primary_takes_one_write_per_tick_and_the_replica_none(
        self, sandbox_control: LocalControl, control_clock: FakeClock
    ) -> None:
        """Every tick writes to the writable primary; a read replica refuses as AWS's replicas are read-only."""
        writing_for(sandbox_control, control_clock, 10)
        primary, replica = report_copy(sandbox_control, "orders-db"), report_copy(sandbox_control, "orders-db-euw1")
        assert primary["acknowledged_writes"] == 11  # ticks at 0, 1, ..., 10 s
        assert (replica["acknowledged_writes"], replica["accepts_writes"], replica["role"]) == (0, False, "replica")

    def test_a_renamed_copy_takes_no_more_writes(self, sandbox_control: LocalControl, control_clock: FakeClock) -> None:
        """Renaming a copy takes its endpoint away: the applications' writes stop landing on it."""
        writing_for(sandbox_control, control_clock, 5)
        rds("eu-central-1").modify_db_instance(
            DBInstanceIdentifier="orders-db", NewDBInstanceIdentifier="orders-db-fenced", ApplyImmediately=True)
        control_clock.advance(10)
        fenced = report_copy(sandbox_control, "orders-db-fenced")
        assert fenced["acknowledged_writes"] == 6
        assert fenced["created_identifier"] == "orders-db"
        assert "renamed from orders-db" in fenced["refused"]

    def test_a_copy_in_a_region_in_outage_takes_no_writes(
        self, sandbox_control: LocalControl, control_clock: FakeClock
    ) -> None:
        """While its region is down a copy takes no write; when it comes back, it takes them again."""
        source_down_after(sandbox_control, control_clock, 5, 10)
        assert report_copy(sandbox_control, "orders-db")["acknowledged_writes"] == 6
        assert "outage" in report_copy(sandbox_control, "orders-db")["refused"]
        sandbox_control.set_outage("eu-central-1", False)
        control_clock.advance(2)
        assert report_copy(sandbox_control, "orders-db")["acknowledged_writes"] == 8

    def test_a_stopped_copy_refuses_writes(self, sandbox_control: LocalControl, control_clock: FakeClock) -> None:
        """A stopped instance serves nothing."""
        rds("eu-central-1").create_db_instance(
            DBInstanceIdentifier="solo", DBInstanceClass="db.t3.micro", Engine="postgres",
            MasterUsername="admin", MasterUserPassword="password1")
        sandbox_control.start_writes(1.0)
        rds("eu-central-1").stop_db_instance(DBInstanceIdentifier="solo")
        control_clock.advance(5)
        solo = report_copy(sandbox_control, "solo")
        assert (solo["acknowledged_writes"], solo["refused"]) == (1, "status stopped")

    def test_a_read_only_fence_tag_refuses_writes(
        self, sandbox_control: LocalControl, control_clock: FakeClock
    ) -> None:
        """A copy tagged drctl:fence=read-only takes no writes (the hook for a parameter fence)."""
        pair(control=sandbox_control)
        arn = rds("eu-central-1").describe_db_instances(DBInstanceIdentifier="orders-db")["DBInstances"][0]
        rds("eu-central-1").add_tags_to_resource(
            ResourceName=arn["DBInstanceArn"], Tags=[{"Key": "drctl:fence", "Value": "read-only"}])
        sandbox_control.start_writes(1.0)
        control_clock.advance(5)
        fenced = report_copy(sandbox_control, "orders-db")
        assert fenced["acknowledged_writes"] == 0
        assert "fenced read-only" in fenced["refused"]

    def test_a_read_only_parameter_fences_the_copy(
        self, sandbox_control: LocalControl, control_clock: FakeClock
    ) -> None:
        """default_transaction_read_only=1 in the instance's parameter group: no more writes land."""
        rds_c = rds("eu-central-1")
        rds_c.create_db_parameter_group(DBParameterGroupName="fence", DBParameterGroupFamily="postgres16",
                                        Description="read-only fence")
        rds_c.create_db_instance(
            DBInstanceIdentifier="solo", DBInstanceClass="db.t3.micro", Engine="postgres", EngineVersion="16.3",
            MasterUsername="admin", MasterUserPassword="password1", DBParameterGroupName="fence")
        sandbox_control.start_writes(1.0)
        control_clock.advance(2)
        rds_c.modify_db_parameter_group(DBParameterGroupName="fence", Parameters=[{
            "ParameterName": "default_transaction_read_only", "ParameterValue": "1", "ApplyMethod": "immediate"}])
        control_clock.advance(5)
        solo = report_copy(sandbox_control, "solo")
        assert solo["acknowledged_writes"] == 3
        assert "default_transaction_read_only" in solo["refused"]

    def test_the_interval_must_be_positive(self, sandbox_control: LocalControl) -> None:
        """A load of zero seconds between writes is refused."""
        with pytest.raises(SandboxControlError, match="interval"):
            sandbox_control.start_writes(0)


class TestReplication:
    def test_a_replica_applies_writes_older_than_its_lag(
        self, sandbox_control: LocalControl, control_clock: FakeClock
    ) -> None:
        """With 3 s of lag, at 10 s the replica holds the writes made up to 7 s."""
        writing_for(sandbox_control, control_clock, 10)
        applied = report_copy(sandbox_control, "orders-db-euw1")["applied"]
        assert applied["seq"] == 8
        assert applied["at"] == "2026-03-01T12:00:07.000Z"

    def test_replication_from_a_region_in_outage_stops(
        self, sandbox_control: LocalControl, control_clock: FakeClock
    ) -> None:
        """The replica keeps what it had applied when its source's region went down."""
        source_down_after(sandbox_control, control_clock, 10, 60)
        assert report_copy(sandbox_control, "orders-db-euw1")["applied"]["seq"] == 8


class TestPromotion:
    def test_a_promotion_forks_a_branch_from_what_the_replica_applied(
        self, sandbox_control: LocalControl, control_clock: FakeClock
    ) -> None:
        """The promoted copy's writes start a new branch at its applied point, once the promotion is done."""
        pair(control=sandbox_control)
        sandbox_control.set_promotion_seconds(5)
        sandbox_control.start_writes(1.0)
        control_clock.advance(10)
        rds("eu-west-1").promote_read_replica(DBInstanceIdentifier="orders-db-euw1")
        control_clock.advance(10)
        report = sandbox_control.data_report()
        promoted, primary = copy(report, "orders-db-euw1"), copy(report, "orders-db")
        assert promoted["role"] == "writer"
        assert promoted["lineage"][0]["parent"] == primary["branch"]
        assert promoted["lineage"][0]["fork_seq"] == 8
        assert promoted["acknowledged_writes"] == 6  # ticks at 15..20 s: none while `modifying`

    def test_a_copy_being_promoted_refuses_writes_until_done(
        self, sandbox_control: LocalControl, control_clock: FakeClock
    ) -> None:
        """While its promotion runs (`modifying`), the promoted copy is a writer that takes no write yet."""
        pair(control=sandbox_control)
        sandbox_control.set_promotion_seconds(5)
        sandbox_control.start_writes(1.0)
        rds("eu-west-1").promote_read_replica(DBInstanceIdentifier="orders-db-euw1")
        control_clock.advance(2)
        promoting = report_copy(sandbox_control, "orders-db-euw1")
        assert (promoting["role"], promoting["acknowledged_writes"]) == ("writer", 0)
        assert promoting["refused"].startswith("promotion in progress until 2026-03-01T12:00:05")

    def test_restarting_the_load_does_not_write_the_same_instant_twice(
        self, sandbox_control: LocalControl, control_clock: FakeClock
    ) -> None:
        """start_writes again (a new interval) continues after the tick already written now."""
        writing_for(sandbox_control, control_clock, 2)
        sandbox_control.start_writes(0.5)
        control_clock.advance(1)
        assert report_copy(sandbox_control, "orders-db")["acknowledged_writes"] == 5  # 0, 1, 2, then 2.5, 3

    def test_two_standalone_copies_of_one_database_are_concurrent_writers(
        self, sandbox_control: LocalControl, control_clock: FakeClock
    ) -> None:
        """Promoting while the source stays writable gives two writers: every tick after counts."""
        writing_for(sandbox_control, control_clock, 10)
        rds("eu-west-1").promote_read_replica(DBInstanceIdentifier="orders-db-euw1")
        control_clock.advance(10)
        report = sandbox_control.data_report()
        family = family_of(report, "orders-db")
        assert family == family_of(report, "orders-db-euw1")
        assert concurrent_writer_ticks(report, family) == 10  # ticks at 11..20 s
        assert {c["identifier"] for c in writers(report, family)} == {"orders-db", "orders-db-euw1"}

    def test_an_unplanned_promotion_loses_the_writes_after_the_applied_point(
        self, sandbox_control: LocalControl, control_clock: FakeClock
    ) -> None:
        """Source region down at 10 s, replica 3 s behind: writes 9..11 (8 s to 10 s) are lost, over 2 s."""
        source_down_after(sandbox_control, control_clock, 10, 30)
        rds("eu-west-1").promote_read_replica(DBInstanceIdentifier="orders-db-euw1")
        control_clock.advance(5)
        report = sandbox_control.data_report()
        family = family_of(report, "orders-db")
        applied = copy(report, "orders-db-euw1")["lineage"][0]["fork_seq"]
        assert lost_writes(report, family) == copy(report, "orders-db")["acknowledged_writes"] - applied == 3
        assert loss_window_seconds(report, family) == 2.0
        assert current_writer(report, family)["identifier"] == "orders-db-euw1"  # type: ignore[index]

    def test_fence_then_catch_up_then_promote_loses_nothing(
        self, sandbox_control: LocalControl, control_clock: FakeClock
    ) -> None:
        """A planned move done as AWS documents it (stop writes, wait for the replica, promote) loses no write."""
        writing_for(sandbox_control, control_clock, 10)
        rds("eu-central-1").modify_db_instance(
            DBInstanceIdentifier="orders-db", NewDBInstanceIdentifier="orders-db-old", ApplyImmediately=True)
        control_clock.advance(5)
        rds("eu-west-1").promote_read_replica(DBInstanceIdentifier="orders-db-euw1")
        control_clock.advance(5)
        report = sandbox_control.data_report()
        family = family_of(report, "orders-db-euw1")
        assert lost_writes(report, family) == 0
        assert concurrent_writer_ticks(report, family) == 0
        assert copy(report, "orders-db-euw1")["lineage"][0]["fork_seq"] == 11


class TestLineageWithoutTheLoad:
    def test_a_promotion_before_any_write_still_records_the_fork(self, sandbox_control: LocalControl) -> None:
        """Without the load the report still knows the promoted copy came from the primary's branch."""
        pair(control=sandbox_control)
        rds("eu-west-1").promote_read_replica(DBInstanceIdentifier="orders-db-euw1")
        report = sandbox_control.data_report()
        promoted, primary = copy(report, "orders-db-euw1"), copy(report, "orders-db")
        assert promoted["family"] == primary["family"]
        assert promoted["lineage"][1]["branch"] == primary["branch"]
        assert report["load"] == {"running": False, "interval_seconds": None, "ticks": 0}


class TestAuroraGlobal:
    @pytest.fixture
    def global_pair(self, sandbox_control: LocalControl) -> str:
        primary = rds("eu-central-1").create_db_cluster(
            DBClusterIdentifier="pay", Engine="aurora-postgresql", MasterUsername="admin",
            MasterUserPassword="password1")["DBCluster"]
        rds("eu-central-1").create_global_cluster(
            GlobalClusterIdentifier="pay-global", SourceDBClusterIdentifier=primary["DBClusterArn"])
        secondary = rds("eu-west-1").create_db_cluster(
            DBClusterIdentifier="pay-euw1", Engine="aurora-postgresql", GlobalClusterIdentifier="pay-global",
        )["DBCluster"]
        sandbox_control.set_replica_lag(ACCOUNT, "eu-west-1", "aurora-global", "pay-euw1", 5)
        return str(secondary["DBClusterArn"])

    def test_a_switchover_applies_everything_first(
        self, sandbox_control: LocalControl, control_clock: FakeClock, global_pair: str
    ) -> None:
        """SwitchoverGlobalCluster synchronizes the secondary first: no write lost, the old writer follows."""
        sandbox_control.start_writes(1.0)
        control_clock.advance(10)
        rds("eu-west-1").switchover_global_cluster(
            GlobalClusterIdentifier="pay-global", TargetDbClusterIdentifier=global_pair)
        control_clock.advance(5)
        report = sandbox_control.data_report()
        family = family_of(report, "pay")
        assert lost_writes(report, family) == 0
        assert copy(report, "pay-euw1")["lineage"][0]["fork_seq"] == 11
        assert copy(report, "pay")["role"] == "replica"
        assert concurrent_writer_ticks(report, family) == 0

    def test_a_failover_with_data_loss_forks_at_the_applied_point(
        self, sandbox_control: LocalControl, control_clock: FakeClock, global_pair: str
    ) -> None:
        """FailoverGlobalCluster(AllowDataLoss) keeps what the secondary had: 5 s of writes are lost."""
        sandbox_control.start_writes(1.0)
        control_clock.advance(10)
        rds("eu-west-1").failover_global_cluster(
            GlobalClusterIdentifier="pay-global", TargetDbClusterIdentifier=global_pair, AllowDataLoss=True)
        control_clock.advance(5)
        report = sandbox_control.data_report()
        assert lost_writes(report, family_of(report, "pay")) == 5  # writes at 6..10 s


    def test_a_switchover_without_the_load_keeps_one_family(
        self, sandbox_control: LocalControl, global_pair: str
    ) -> None:
        """The roles swap inside one family even when nothing was written (copies registered before the flip)."""
        rds("eu-west-1").switchover_global_cluster(
            GlobalClusterIdentifier="pay-global", TargetDbClusterIdentifier=global_pair)
        report = sandbox_control.data_report()
        new, old = copy(report, "pay-euw1"), copy(report, "pay")
        assert (new["role"], old["role"]) == ("writer", "replica")
        assert new["family"] == old["family"] == "pay"
        assert current_writer(report, "pay")["identifier"] == "pay-euw1"  # type: ignore[index]
