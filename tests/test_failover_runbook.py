"""The failover runbook on the in-process sandbox (example topology: every engine, both DNS strategies)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dr.engine.backends import journal_backend
from dr.engine.journal.liveness import HalfMoved
from tests.failover_support import Harness, harness, instance, record_values, step


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    with harness(tmp_path) as built:
        yield built


class TestPlannedFailover:
    def test_planned_failover_promotes_every_database_and_moves_dns(self, h: Harness) -> None:
        """A planned failover promotes each engine's DR copy and points every record at qa."""
        outcome = h.run("failover", "qa")
        report = outcome.report
        assert outcome.exit_code == 0, report
        assert report["status"] == "succeeded"
        orders = instance(h, "eu-west-1", "orders-db-euw1")
        assert orders is not None
        assert orders["DBInstanceStatus"] == "available"
        assert not orders.get("ReadReplicaSourceDBInstanceIdentifier")
        api = next(r for r in h.topology.dns if r.fqdn == "api.example.com.")
        assert record_values(h, api.zone_id, "api.example.com.") == ["api.eu-west-1.example.com"]
        assert "switchover" in step(report, "promote:payments")["detail"]
        assert step(report, "promote:orders")["outcome"] == "verified"
        assert step(report, "prechecks")["outcome"] == "checked"

    def test_report_timeline_has_each_milestone_of_the_move(self, h: Harness) -> None:
        """Writers ready, traffic moved, clients followed (+ max TTL) and target healthy, in order, from the
        steps that mark them (last promotion, last DNS zone, confirm)."""
        report = h.run("failover", "qa").report
        events = {e["name"]: e for e in report["timeline"]["events"]}
        offsets = {name: e["offset_seconds"] for name, e in events.items()}
        assert report["timeline"]["origin"] == "declared"
        assert offsets["declared"] == 0.0
        assert 0.0 < offsets["writers-ready"] <= offsets["traffic-moved"]
        ttl = max(r.ttl for r in h.topology.dns)
        assert offsets["clients-followed"] == pytest.approx(offsets["traffic-moved"] + ttl)
        assert offsets["target-healthy"] is not None
        assert events["writers-ready"]["detail"].startswith("promote:")
        assert events["traffic-moved"]["detail"].startswith("dns:")
        assert events["target-healthy"]["detail"] == "confirm"

    def test_planned_failover_re_points_the_primary_record_set_of_failover_records(self, h: Harness) -> None:
        """failover-routing: the PRIMARY record set now names qa (value and health check), the SECONDARY is
        untouched, no health check is inverted, and Route53 answers qa although prod is still healthy."""
        www = next(r for r in h.topology.dns if r.fqdn == "www.example.com.")
        before = failover_sets(h, www)
        outcome = h.run("failover", "qa")
        assert outcome.report["status"] == "succeeded"
        after = failover_sets(h, www)
        assert [v["Value"] for v in after["PRIMARY"]["ResourceRecords"]] == ["www.eu-west-1.example.com"]
        assert after["PRIMARY"]["HealthCheckId"] == www.health_checks["qa"]
        assert after["PRIMARY"]["SetIdentifier"] == before["PRIMARY"]["SetIdentifier"]
        assert after["SECONDARY"] == before["SECONDARY"]
        for side in ("prod", "qa"):
            config = h.route53().get_health_check(HealthCheckId=www.health_checks[side])["HealthCheck"]
            assert config["HealthCheckConfig"]["Inverted"] is False
        answer = h.route53().test_dns_answer(HostedZoneId=www.zone_id, RecordName=www.fqdn, RecordType="CNAME")
        assert answer["RecordData"] == ["www.eu-west-1.example.com"]
        assert h.faults.count("route53", "UpdateHealthCheck") == 0

    def test_rerun_of_a_finished_failover_is_already_done_without_mutating_calls(self, h: Harness) -> None:
        """Re-running a finished failover exits 0, status already-done, and calls nothing mutating."""
        assert h.run("failover", "qa").exit_code == 0
        h.faults.calls.clear()
        again = h.run("failover", "qa")
        assert again.exit_code == 0
        assert again.report["status"] == "already-done", again.report
        assert h.mutating_calls() == []
        nothing = "n/a (already done: this run moved nothing)"
        assert again.report["rpo"]["note"] == again.report["rto"]["note"] == nothing

    def test_data_loss_window_is_reported_per_database(self, h: Harness) -> None:
        """The report carries each database's data-loss window (0 for the Aurora global switchover)."""
        report = h.run("failover", "qa").report
        assert report["rpo"]["met"] is True
        assert report["rpo"]["data_loss_window_seconds"] is not None


class TestUnplannedFailover:
    def test_unhealthy_application_with_the_source_rds_answering_switches_aurora_global_over(self, h: Harness) -> None:
        """Source health checks unhealthy but its RDS answers: still a planned move, and Aurora global takes the
        zero-loss SwitchoverGlobalCluster. (This test once pinned FailoverGlobalCluster AllowDataLoss here: an
        unhealthy application is no reason to lose data while the primary region's databases answer.)"""
        for record in h.topology.dns:
            h.sbx.control.set_health(record.health_checks["prod"], False)
        outcome = h.run("failover", "qa")
        assert outcome.exit_code == 0, outcome.report
        assert "switchover" in step(outcome.report, "promote:payments")["detail"]
        assert h.faults.count("rds", "FailoverGlobalCluster") == 0
        detail = step(outcome.report, "prechecks")["detail"]
        assert detail.startswith("planned move")
        assert "source health checks unhealthy" in detail
        hc = h.health_check("www.example.com.", "prod")
        assert h.route53().get_health_check(HealthCheckId=hc)["HealthCheck"]["HealthCheckConfig"]["Inverted"] is False

    def test_unplanned_forced_fails_aurora_global_over_with_data_loss_allowed(self, h: Harness) -> None:
        """--unplanned: Aurora global uses FailoverGlobalCluster AllowDataLoss, nothing is fenced first, and the
        old writers are fenced after the promotions (their region answers)."""
        outcome = h.run("failover", "qa", planned=False)
        assert outcome.exit_code == 0, outcome.report
        assert "data loss allowed" in step(outcome.report, "promote:payments")["detail"]
        assert step(outcome.report, "fence:orders")["status"] == "skipped"
        assert step(outcome.report, "catch-up:orders")["status"] == "skipped"
        assert step(outcome.report, "fence-old-writer:orders")["status"] == "succeeded"
        assert instance(h, "eu-central-1", "orders-db") is None

    def test_traffic_stays_on_qa_when_prod_recovers(self, h: Harness) -> None:
        """Unplanned: Route53 had failed over by itself; the run re-points the PRIMARY too, so prod's checks
        turning healthy again (a stale prod coming back) do not send traffic back to it."""
        for record in h.topology.dns:
            h.sbx.control.set_health(record.health_checks["prod"], False)
        assert h.run("failover", "qa").exit_code == 0
        for record in h.topology.dns:
            h.sbx.control.set_health(record.health_checks["prod"], True)
        www = next(r for r in h.topology.dns if r.fqdn == "www.example.com.")
        answer = h.route53().test_dns_answer(HostedZoneId=www.zone_id, RecordName=www.fqdn, RecordType="CNAME")
        assert answer["RecordData"] == ["www.eu-west-1.example.com"]

    def test_simulated_outage_of_the_source_region_still_completes(self, h: Harness) -> None:
        """Every call to eu-central-1 fails: the failover completes unplanned; the old writers cannot be fenced,
        and the report says so and names `drctl fence --env prod`."""
        h.faults.outage_regions.add("eu-central-1")
        outcome = h.run("failover", "qa")
        assert outcome.exit_code == 0, outcome.report
        assert outcome.report["rto"]["met"] is True
        fencing = step(outcome.report, "fence-old-writer:orders")
        assert fencing["status"] == "skipped"
        assert "NOT fenced" in fencing["detail"]
        assert "drctl fence --env prod" in outcome.report["next_action"]
        assert any("orders-db" in a for a in outcome.report["advice"])
        assert "data loss allowed" in step(outcome.report, "promote:payments")["detail"]
        critical = [c for c in h.faults.calls if c[2] == "eu-central-1" and c[0] == "rds"
                    and not c[1].startswith(("Describe", "List"))]
        assert critical == []


class TestHalfMovedByADeadRun:
    def test_new_failover_after_a_dead_one_is_refused_naming_it_before_any_call(self, h: Harness) -> None:
        """A run killed after its promotions (journal: changes, no end, lock free): a new failover is refused
        (exit 3) before any AWS call — not at the RPO gate — naming the run and `drctl resume`; after the
        resume, a new failover is already done."""
        assert h.run("failover", "qa", run_id="dead", locked=True).exit_code == 0
        backend = journal_backend(h.topology, h.sbx.clients)
        lines = backend.read("dead") or []
        last = max(i for i, line in enumerate(lines) if '"step-outcome"' in line and '"promote:' in line)
        Path(backend.where("dead")).write_text("\n".join(lines[: last + 1]) + "\n")
        h.faults.calls.clear()
        with pytest.raises(HalfMoved) as refused:
            h.run("failover", "qa", run_id="new", locked=True)
        assert refused.value.exit_code == 3
        assert "run dead (failover prod -> qa" in str(refused.value)
        assert "`drctl resume dead`" in str(refused.value)
        assert h.faults.calls == []
        assert backend.read("new") is None
        assert h.run("failover", "qa", run_id="dead", resume=True, locked=True).exit_code == 0
        assert h.run("failover", "qa", run_id="new", locked=True).report["status"] == "already-done"


class TestRpoGate:
    @pytest.mark.parametrize(("lag", "age", "words"), [
        (900.0, 0.0, "> RPO"), (-1.0, 0.0, "replication broken"), (10.0, 420.0, "stale")])
    def test_gate_refuses_before_anything_changes(self, h: Harness, lag: float, age: float, words: str) -> None:
        """Lag over the RPO, -1 or a stale datapoint: exit 3, the database named, nothing mutated."""
        h.set_lag("orders", lag, age)
        outcome = h.run("failover", "qa")
        assert outcome.exit_code == 3
        assert outcome.report["status"] == "refused"
        detail = step(outcome.report, "rpo-gate")["detail"]
        assert "orders" in detail
        assert words in detail
        assert h.mutating_calls() == []
        rto = outcome.report["rto"]
        assert (rto["met"], rto["note"]) == (None, "n/a (refused before any change)")
        orders = instance(h, "eu-west-1", "orders-db-euw1")
        assert orders is not None
        assert orders.get("ReadReplicaSourceDBInstanceIdentifier")

    def test_accept_data_loss_passes_the_gate(self, h: Harness) -> None:
        """--unplanned --accept-data-loss: the gate passes knowingly and the failover completes."""
        h.set_lag("orders", 900.0)
        outcome = h.run("failover", "qa", accept_data_loss=True, planned=False)
        assert outcome.exit_code == 0, outcome.report
        assert "accepted data loss" in step(outcome.report, "rpo-gate")["detail"]
        assert outcome.report["rpo"]["met"] is False


class TestUnmovableDns:
    @pytest.mark.parametrize("shape", ["alias", "missing"])
    def test_a_failover_record_drctl_cannot_re_point_is_refused_before_anything_changes(
            self, h: Harness, shape: str) -> None:
        """A failover record whose PRIMARY is an alias (drctl re-points values) or absent: prechecks refuse
        (exit 3) naming it, before any promotion; nothing is mutated."""
        www = next(r for r in h.topology.dns if r.fqdn == "www.example.com.")
        primary = failover_sets(h, www)["PRIMARY"]
        changes: list[dict[str, Any]] = [{"Action": "DELETE", "ResourceRecordSet": primary}]
        if shape == "alias":
            alias = {k: v for k, v in primary.items() if k not in ("ResourceRecords", "TTL")}
            alias["AliasTarget"] = {"HostedZoneId": www.zone_id, "DNSName": "api.example.com.",
                                    "EvaluateTargetHealth": False}
            changes.append({"Action": "CREATE", "ResourceRecordSet": alias})
        h.route53().change_resource_record_sets(HostedZoneId=www.zone_id, ChangeBatch={"Changes": changes})
        h.faults.calls.clear()
        outcome = h.run("failover", "qa")
        assert outcome.exit_code == 3, outcome.report
        detail = step(outcome.report, "prechecks")["detail"]
        assert "www.example.com." in detail
        assert ("is an alias" if shape == "alias" else "no PRIMARY failover record set") in detail
        assert h.mutating_calls() == []


class TestPartialFailure:
    def test_backing_up_replica_fails_the_run_and_resume_completes_it(self, h: Harness) -> None:
        """A replica in backing-up: exit 1, the others promoted and reported; resume completes the failover."""
        account = h.topology.environments["prod"].account_id
        h.sbx.control.set_db_status(account, "eu-west-1", "orders-db-euw1", "backing-up")
        first = h.run("failover", "qa", run_id="partial")
        assert first.exit_code == 1
        assert "backing-up" in step(first.report, "promote:orders")["detail"]
        assert step(first.report, "promote:customers")["status"] == "succeeded"
        h.sbx.control.set_db_status(account, "eu-west-1", "orders-db-euw1", "available")
        resumed = h.run("failover", "qa", run_id="partial", resume=True)
        assert resumed.exit_code == 0, resumed.report
        orders = instance(h, "eu-west-1", "orders-db-euw1")
        assert orders is not None
        assert not orders.get("ReadReplicaSourceDBInstanceIdentifier")

    def test_a_source_check_inverted_by_an_earlier_drctl_does_not_make_the_move_unplanned(self, h: Harness) -> None:
        """A prod health check left inverted (an earlier drctl forced failovers that way) says nothing of prod's
        health: the run is still planned."""
        hc = h.health_check("www.example.com.", "prod")
        h.route53().update_health_check(HealthCheckId=hc, Inverted=True)
        outcome = h.run("failover", "qa")
        assert outcome.exit_code == 0, outcome.report
        assert step(outcome.report, "prechecks")["detail"].startswith("planned")

    def test_a_target_check_left_inverted_is_restored_by_the_dns_step(self, h: Harness) -> None:
        """A qa health check left inverted would keep Route53 from answering qa: prechecks accept it (the DNS
        step restores it), the zone step un-inverts it and journals that, and Route53 answers qa."""
        www = next(r for r in h.topology.dns if r.fqdn == "www.example.com.")
        hc = h.health_check("www.example.com.", "qa")
        h.route53().update_health_check(HealthCheckId=hc, Inverted=True)
        outcome = h.run("failover", "qa")
        assert outcome.exit_code == 0, outcome.report
        assert h.route53().get_health_check(HealthCheckId=hc)["HealthCheck"]["HealthCheckConfig"]["Inverted"] is False
        assert f"restored inverted health check(s) {hc}" in step(outcome.report, f"dns:{www.zone_id}")["detail"]
        answer = h.route53().test_dns_answer(HostedZoneId=www.zone_id, RecordName=www.fqdn, RecordType="CNAME")
        assert answer["RecordData"] == ["www.eu-west-1.example.com"]


class TestConfirmation:
    def test_planned_failover_asks_for_the_target_name(self, h: Harness) -> None:
        """Source healthy: the operator must type the target's name."""
        from dr.engine.registry import get

        assert get("failover")().confirmation(h.context("failover", "qa")) == "qa"

    def test_unplanned_failover_asks_the_target_name_too(self, h: Harness) -> None:
        """Source unhealthy (an unplanned move): the operator still types the target's name, never a bare yes."""
        from dr.engine.registry import get

        for record in h.topology.dns:
            h.sbx.control.set_health(record.health_checks["prod"], False)
        assert get("failover")().confirmation(h.context("failover", "qa")) == "qa"


class TestStuckPromotion:
    def test_a_promotion_that_never_finishes_fails_saying_what_it_waits_for(self, h: Harness) -> None:
        """A promotion still `modifying` when the budget runs out: exit 1, the detail names the status."""
        h.sbx.control.set_promotion_seconds(10_000)
        outcome = h.run("failover", "qa")
        assert outcome.exit_code == 1
        detail = step(outcome.report, "promote:orders")["detail"]
        assert "orders-db-euw1 is modifying" in detail
        assert step(outcome.report, "dns:" + h.topology.dns[0].zone_id)["status"] == "skipped"


class TestUnknownDataLoss:
    def test_broken_replication_passed_knowingly_leaves_the_rpo_verdict_unknown(self, h: Harness) -> None:
        """Lag -1 with --unplanned --accept-data-loss: the report's data-loss window and RPO verdict are null."""
        h.set_lag("orders", -1.0)
        outcome = h.run("failover", "qa", accept_data_loss=True, planned=False)
        assert outcome.exit_code == 0, outcome.report
        assert outcome.report["rpo"]["data_loss_window_seconds"] is None
        assert outcome.report["rpo"]["met"] is None


def failover_sets(h: Harness, record: Any) -> dict[str, dict[str, Any]]:
    """The record's PRIMARY and SECONDARY record sets, as Route53 holds them."""
    sets = h.route53().list_resource_record_sets(HostedZoneId=record.zone_id)["ResourceRecordSets"]
    return {str(s["Failover"]): s for s in sets if s["Name"] == record.fqdn and s.get("Failover")}
