"""Switch safety: never lose a write that could be kept, never route to a stale copy, never leave two writers.

Each class pins one of the failures found against AWS's documented behaviour; each test fails on the code before
the fence / catch-up / lineage work.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dr.aws.lineage import FENCED_TAG, GENERATION_TAG
from dr.clock import parse_iso
from dr.config import load
from tests.conftest import EXAMPLE
from tests.failover_support import Harness, harness, instance, step

NAMES = ("orders", "customers", "inventory", "payments")
PLAIN = ("orders", "customers", "inventory")


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    with harness(tmp_path, load(EXAMPLE)) as built:
        yield built


def tags_of(h: Harness, region: str, db_id: str) -> dict[str, str]:
    found = instance(h, region, db_id)
    assert found is not None, f"{db_id} not in {region}"
    return {t["Key"]: t["Value"] for t in found.get("TagList") or []}


def fail_over_during_outage(h: Harness) -> None:
    """An unplanned failover while eu-central-1 does not answer: prod's copies stay standalone and unfenced."""
    h.faults.outage_regions.add("eu-central-1")
    outcome = h.run("failover", "qa", run_id="outage")
    assert outcome.exit_code == 0, outcome.report
    h.faults.outage_regions.clear()


class TestStaleCopyIsNeverPromoted:
    def test_failback_switch_without_reprotect_is_refused_naming_each_database(self, h: Harness) -> None:
        """After an unplanned failover, `failback --phase switch`: prod's copies are stale (generation 0 < 1):
        exit 3, every database named, nothing touched (qa's writers keep their ids and take writes)."""
        fail_over_during_outage(h)
        h.faults.calls.clear()
        outcome = h.run("failback", "prod", extra={"phase": "switch"})
        assert outcome.exit_code == 3, outcome.report
        detail = step(outcome.report, "prechecks")["detail"]
        for name in PLAIN:
            assert f"{name}:" in detail
        assert "stale copy" in detail
        assert h.mutating_calls() == []
        west = instance(h, "eu-west-1", "orders-db-euw1")
        assert west is not None
        assert tags_of(h, "eu-west-1", "orders-db-euw1")[GENERATION_TAG] == "1"

    def test_failback_switch_after_a_planned_failover_is_refused_before_any_fence(self, h: Harness) -> None:
        """The planned failover renamed prod's copies away: the switch back finds nothing to promote and refuses
        in prechecks, before fencing qa's writers."""
        assert h.run("failover", "qa").exit_code == 0
        h.faults.calls.clear()
        outcome = h.run("failback", "prod", extra={"phase": "switch"})
        assert outcome.exit_code == 3, outcome.report
        assert "orders-db does not exist" in step(outcome.report, "prechecks")["detail"]
        assert h.mutating_calls() == []

    def test_a_stale_dr_copy_is_not_already_promoted(self, h: Harness) -> None:
        """A standalone qa copy of an older generation than prod's writer (an earlier move left it) is refused,
        not reported `already-done`."""
        west, central = h.rds("eu-west-1"), h.rds("eu-central-1")
        replica = instance(h, "eu-west-1", "orders-db-euw1")
        primary = instance(h, "eu-central-1", "orders-db")
        assert replica is not None
        assert primary is not None
        west.promote_read_replica(DBInstanceIdentifier="orders-db-euw1")
        west.add_tags_to_resource(ResourceName=replica["DBInstanceArn"], Tags=[{"Key": GENERATION_TAG, "Value": "1"}])
        central.add_tags_to_resource(ResourceName=primary["DBInstanceArn"],
                                     Tags=[{"Key": GENERATION_TAG, "Value": "2"}])
        outcome = h.run("failover", "qa")
        assert outcome.exit_code == 3, outcome.report
        assert "orders-db-euw1 is a stale copy" in step(outcome.report, "prechecks")["detail"]
        assert "promote:orders" not in {s["name"] for s in outcome.report["steps"] if s["status"] == "already-done"}


class TestPlannedMoveFencesThenCatchesUp:
    def test_each_source_is_fenced_before_its_promotion_and_the_loss_is_measured_zero(self, h: Harness) -> None:
        """Planned: fence:<db> ends before promote:<db> starts, catch-up proves the replica applied everything,
        and the report's data-loss window is what was measured: 0."""
        outcome = h.run("failover", "qa")
        report = outcome.report
        assert outcome.exit_code == 0, report
        for name in PLAIN:
            fence, catch, promote = (step(report, f"{kind}:{name}") for kind in ("fence", "catch-up", "promote"))
            assert fence["status"] == catch["status"] == promote["status"] == "succeeded"
            fence_end = parse_iso(fence["started_at"]).timestamp() + fence["duration_seconds"]
            assert fence_end <= parse_iso(promote["started_at"]).timestamp()
            assert report["rpo"]["per_database"][name] == 0.0
        assert report["rpo"]["data_loss_window_seconds"] == 0.0
        assert instance(h, "eu-central-1", "orders-db") is None
        fenced = [d for d in h.rds("eu-central-1").describe_db_instances()["DBInstances"]
                  if d["DBInstanceIdentifier"].startswith("orders-db-fenced-")]
        assert len(fenced) == 1

    def test_postgres_catch_up_waits_for_the_replay_timestamp_to_stand_still(self, h: Harness) -> None:
        """PostgreSQL lag grows after the fence (now - last replay): catch-up needs two periods whose replay
        timestamp agrees, so it spends at least a minute after the fence; the promotion follows."""
        report = h.run("failover", "qa").report
        catch = step(report, "catch-up:orders")
        assert catch["status"] == "succeeded"
        assert catch["duration_seconds"] >= 60.0

    def test_catch_up_with_broken_replication_fails_naming_the_unplanned_path(self, h: Harness) -> None:
        """Replication error after the fence: the step fails at once (it can never catch up) and says how to
        move anyway; nothing is promoted."""
        h.set_lag("orders", -1.0)
        outcome = h.run("failover", "qa", accept_data_loss=True)
        assert outcome.exit_code == 1
        assert "--unplanned --accept-data-loss" in step(outcome.report, "catch-up:orders")["detail"]
        replica = instance(h, "eu-west-1", "orders-db-euw1")
        assert replica is not None
        assert replica.get("ReadReplicaSourceDBInstanceIdentifier")


class TestResume:
    def test_a_failover_stopped_after_the_fence_resumes_without_fencing_twice(self, h: Harness) -> None:
        """Catch-up fails (replication error after the fence): exit 1, sources fenced, nothing promoted. Once
        replication is back, resume catches up and promotes; each source was renamed exactly once."""
        account = h.topology.environments["prod"].account_id
        h.sbx.control.set_replication_state(account, "eu-west-1", "orders-db-euw1", "error", "IO thread stopped")
        first = h.run("failover", "qa", run_id="stopped")
        assert first.exit_code == 1, first.report
        assert step(first.report, "fence:orders")["status"] == "succeeded"
        assert step(first.report, "catch-up:orders")["status"] == "failed"
        assert step(first.report, "promote:orders")["status"] == "skipped"
        h.sbx.control.set_replication_state(account, "eu-west-1", "orders-db-euw1", "replicating")
        resumed = h.run("failover", "qa", run_id="stopped", resume=True)
        assert resumed.exit_code == 0, resumed.report
        assert resumed.report["rpo"]["per_database"]["orders"] == 0.0
        renames = [c for c in h.faults.calls if c[1] in ("ModifyDBInstance", "ModifyDBCluster")]
        assert len(renames) == len(PLAIN)


class TestWhatIsLeftBehindIsFenced:
    def test_unreachable_source_is_reported_unfenced_and_drctl_fence_fences_it_later(self, h: Harness) -> None:
        """Outage: the report names `drctl fence --env prod`; once eu-central-1 answers, `drctl fence` renames
        and stops every stale prod copy, tagged, and leaves qa's writers alone."""
        fail_over_during_outage(h)
        assert instance(h, "eu-central-1", "orders-db") is not None
        outcome = h.run("fence", "prod", run_id="fence-1")
        assert outcome.exit_code == 0, outcome.report
        for name in PLAIN:
            assert step(outcome.report, f"fence:{name}")["status"] == "succeeded"
        assert instance(h, "eu-central-1", "orders-db") is None
        fenced = next(d for d in h.rds("eu-central-1").describe_db_instances()["DBInstances"]
                      if d["DBInstanceIdentifier"].startswith("orders-db-fenced-"))
        assert fenced["DBInstanceStatus"] in ("stopped", "stopping")
        assert {t["Key"]: t["Value"] for t in fenced["TagList"]}[FENCED_TAG] == "fence-1"
        assert instance(h, "eu-west-1", "orders-db-euw1") is not None
        again = h.run("fence", "prod", run_id="fence-2")
        assert again.exit_code == 0
        assert again.report["status"] == "already-done"

    def test_fence_never_touches_the_current_writer(self, h: Harness) -> None:
        """`drctl fence --env qa` after a failover to qa: qa's copies are the writers: refused, nothing renamed."""
        fail_over_during_outage(h)
        h.faults.calls.clear()
        outcome = h.run("fence", "qa")
        assert outcome.exit_code == 3, outcome.report
        assert "current writer" in step(outcome.report, "fence:orders")["detail"]
        assert instance(h, "eu-west-1", "orders-db-euw1") is not None
        assert [c for c in h.mutating_calls() if c[1].startswith("Modify")] == []

    def test_a_stopped_unfenced_stale_copy_is_refused_not_already_done(self, h: Harness) -> None:
        """A stale prod copy stopped by hand is no fence (AWS restarts it after 7 days): `drctl fence` fences the
        others, fails that one naming it and the start command (not `already-done`), renames nothing of it, and
        fences it once it is started again."""
        fail_over_during_outage(h)
        h.rds("eu-central-1").stop_db_instance(DBInstanceIdentifier="orders-db")
        outcome = h.run("fence", "prod", run_id="fence-stopped")
        assert outcome.exit_code == 1, outcome.report
        assert step(outcome.report, "fence:customers")["status"] == "succeeded"
        assert step(outcome.report, "fence:orders")["status"] == "failed"
        detail = step(outcome.report, "fence:orders")["detail"]
        assert "orders-db (eu-central-1) is stopped but not fenced" in detail
        assert "aws rds start-db-instance --db-instance-identifier orders-db --region eu-central-1" in detail
        assert instance(h, "eu-central-1", "orders-db") is not None
        h.rds("eu-central-1").start_db_instance(DBInstanceIdentifier="orders-db")
        again = h.run("fence", "prod", run_id="fence-started")
        assert again.exit_code == 0, again.report
        assert step(again.report, "fence:orders")["status"] == "succeeded"
        assert instance(h, "eu-central-1", "orders-db") is None

    def test_rerunning_the_failover_after_the_region_returns_fences_what_it_left(self, h: Harness) -> None:
        """The first run could not reach eu-central-1; a re-run once it answers fences the old writers (it is
        not `already-done`, as the old tag step claimed)."""
        fail_over_during_outage(h)
        outcome = h.run("failover", "qa", run_id="again")
        assert outcome.exit_code == 0, outcome.report
        assert step(outcome.report, "fence-old-writer:orders")["status"] == "succeeded"
        assert instance(h, "eu-central-1", "orders-db") is None
        assert outcome.report["advice"] == []


class TestAuroraGlobalProgress:
    def test_a_switchover_under_way_is_waited_for_not_called_again(self, h: Harness) -> None:
        """A switchover already moving the writer (FailoverState switching-over): the run waits for it and
        calls neither SwitchoverGlobalCluster nor FailoverGlobalCluster."""
        db = next(d for d in h.topology.databases if d.name == "payments")
        west = h.rds("eu-west-1")
        arn = west.describe_db_clusters(DBClusterIdentifier=db.replica.id)["DBClusters"][0]["DBClusterArn"]
        h.sbx.control.set_promotion_seconds_for(db.replica.id, 300.0)  # still moving when promote:payments runs
        west.switchover_global_cluster(GlobalClusterIdentifier=db.global_cluster_id, TargetDbClusterIdentifier=arn)
        outcome = h.run("failover", "qa")
        assert outcome.exit_code == 0, outcome.report
        assert h.faults.count("rds", "SwitchoverGlobalCluster") == 0
        assert h.faults.count("rds", "FailoverGlobalCluster") == 0
        assert "not calling again" in step(outcome.report, "promote:payments")["detail"]


class TestGateOnWhatIsReported:
    def test_unplanned_gate_counts_the_datapoint_age(self, h: Harness) -> None:
        """Lag 200 s measured ~290 s ago with the source gone: ~490 s of writes at risk > RPO 300 s: refused,
        though each number alone is within bounds."""
        h.set_lag("orders", 200.0, age=290.0)
        h.faults.outage_regions.add("eu-central-1")
        outcome = h.run("failover", "qa")
        assert outcome.exit_code == 3, outcome.report
        detail = step(outcome.report, "rpo-gate")["detail"]
        assert "orders: lag 200 s + newest datapoint" in detail
        assert "of writes at risk > RPO 300 s" in detail

    def test_planned_gate_does_not_add_the_age_since_catch_up_measures_the_loss(self, h: Harness) -> None:
        """Lag 200 s measured 2 min ago: 320 s at risk would refuse an unplanned move; with the source answering
        the move is planned, the fence and catch-up keep every write, and the window is measured 0."""
        h.set_lag("orders", 200.0, age=120.0)
        outcome = h.run("failover", "qa")
        assert outcome.exit_code == 0, outcome.report
        assert outcome.report["rpo"]["per_database"]["orders"] == 0.0


class TestAnHonestOutage:
    def test_a_real_outage_needs_accept_data_loss_as_on_aws(self, h: Harness) -> None:
        """The sandbox's regional outage breaks replication as AWS shows it (MySQL-family lag -1, PostgreSQL lag
        growing): the unplanned failover is refused without --accept-data-loss, and passes with it."""
        h.sbx.control.set_outage("eu-central-1", True)
        h.faults.outage_regions.add("eu-central-1")
        refused = h.run("failover", "qa", run_id="no-accept")
        assert refused.exit_code == 3, refused.report
        assert "inventory: AuroraBinlogReplicaLag -1: replication broken" in step(refused.report, "rpo-gate")["detail"]
        assert h.mutating_calls() == []
        accepted = h.run("failover", "qa", run_id="accept", accept_data_loss=True)
        assert accepted.exit_code == 0, accepted.report
        assert accepted.report["rpo"]["data_loss_window_seconds"] is None  # inventory's window is unknown

    def test_an_outage_of_the_dr_region_refuses_the_failover_naming_it(self, h: Harness) -> None:
        """The target's region does not answer: nothing was touched, so exit 3 (refused), not 1 (a step failed,
        resume) — the DR side cannot take traffic."""
        h.faults.outage_regions.add("eu-west-1")
        outcome = h.run("failover", "qa")
        assert outcome.exit_code == 3, outcome.report
        assert "qa cannot be checked, nothing was changed" in step(outcome.report, "prechecks")["detail"]
        assert h.mutating_calls() == []

    def test_planned_is_refused_when_the_source_does_not_answer(self, h: Harness) -> None:
        """--planned with the source region down: exit 3, nothing touched."""
        h.faults.outage_regions.add("eu-central-1")
        outcome = h.run("failover", "qa", planned=True)
        assert outcome.exit_code == 3, outcome.report
        assert "a planned move needs the source region's RDS to answer" in step(outcome.report, "prechecks")["detail"]
        assert h.mutating_calls() == []


class TestFailbackRehearsal:
    @pytest.mark.parametrize("planned", [True, False])
    def test_failback_dry_run_right_after_a_failover_plans_the_whole_failback(self, h: Harness,
                                                                               planned: bool) -> None:
        """`failback --dry-run` after a failover exits 0 and plans re-protect, the switch and the DR side's
        re-protection (it used to refuse: 'orders-db still exists ... fence it first')."""
        if planned:
            assert h.run("failover", "qa").exit_code == 0
        else:
            fail_over_during_outage(h)
        h.faults.calls.clear()
        outcome = h.run("failback", "prod", dry_run=True)
        assert outcome.exit_code == 0, outcome.report
        names = {s["name"]: s["status"] for s in outcome.report["steps"]}
        assert names["reprotect:orders"] == "planned"
        assert names["promote:orders"] == "planned"
        assert names["dr-reprotect:orders"] == "planned"
        assert h.mutating_calls() == []
