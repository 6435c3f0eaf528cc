"""The failback runbook on the in-process sandbox: fence, re-protect, switch back, restore DR protection."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from dr.clock import parse_iso
from dr.config import load
from tests.conftest import EXAMPLE
from tests.failover_support import Harness, harness, instance, record_values, step

NAMES = ("orders", "customers", "inventory", "payments")


@pytest.fixture
def failed_over(tmp_path: Path) -> Iterator[Harness]:
    with harness(tmp_path, load(EXAMPLE)) as h:
        assert h.run("failover", "qa").exit_code == 0
        for name in NAMES:
            h.set_lag(name, 5.0, at_primary=True)
        yield h


class TestFailback:
    def test_reprotect_stops_the_copy_the_planned_failover_fenced_and_recreates_a_replica(
            self, failed_over: Harness) -> None:
        """--phase reprotect after a planned failover: the old writer was fenced (renamed, tagged) by the failover
        itself; re-protect finds it by tag, stops it, and its id becomes a replica of qa's copy."""
        h = failed_over
        outcome = h.run("failback", "prod", run_id="fb-1", extra={"phase": "reprotect"})
        assert outcome.exit_code == 0, outcome.report
        assert step(outcome.report, "fence-stale:orders")["status"] == "already-done"
        fenced = [d for d in h.rds("eu-central-1").describe_db_instances()["DBInstances"]
                  if d["DBInstanceIdentifier"].startswith("orders-db-fenced-")]
        assert len(fenced) == 1
        assert fenced[0]["DBInstanceStatus"] in ("stopped", "stopping")
        tags = h.rds("eu-central-1").list_tags_for_resource(ResourceName=fenced[0]["DBInstanceArn"])["TagList"]
        assert {"Key": "drctl:fenced-by-run", "Value": "run-1"} in tags
        replica = instance(h, "eu-central-1", "orders-db")
        assert replica is not None
        assert "orders-db-euw1" in replica["ReadReplicaSourceDBInstanceIdentifier"]
        assert replica["DBInstanceClass"] == fenced[0]["DBInstanceClass"]

    def test_full_failback_returns_traffic_and_restores_protection(self, failed_over: Harness) -> None:
        """--phase all: prod writes again, DNS points at prod (the failover PRIMARY names prod again), qa replicates."""
        h = failed_over
        for name in NAMES:
            h.set_lag(name, 5.0)
        outcome = h.run("failback", "prod", extra={"phase": "all"})
        assert outcome.exit_code == 0, outcome.report
        orders = instance(h, "eu-central-1", "orders-db")
        assert orders is not None
        assert not orders.get("ReadReplicaSourceDBInstanceIdentifier")
        api = next(r for r in h.topology.dns if r.fqdn == "api.example.com.")
        assert record_values(h, api.zone_id, "api.example.com.") == ["api.eu-central-1.example.com"]
        www = next(r for r in h.topology.dns if r.fqdn == "www.example.com.")
        sets = h.route53().list_resource_record_sets(HostedZoneId=www.zone_id)["ResourceRecordSets"]
        primary = next(s for s in sets if s["Name"] == www.fqdn and s.get("Failover") == "PRIMARY")
        assert [v["Value"] for v in primary["ResourceRecords"]] == ["www.eu-central-1.example.com"]
        assert primary["HealthCheckId"] == www.health_checks["prod"]
        dr_copy = instance(h, "eu-west-1", "orders-db-euw1")
        assert dr_copy is not None
        assert "orders-db" in dr_copy["ReadReplicaSourceDBInstanceIdentifier"]
        assert step(outcome.report, "promote:payments")["status"] == "succeeded"

    def test_rto_times_only_the_switch(self, failed_over: Harness) -> None:
        """Re-protecting is not downtime: the failback's RTO spans prechecks to the end of the switch (DNS and
        confirm, side by side), not the whole run."""
        h = failed_over
        for name in NAMES:
            h.set_lag(name, 5.0)
        report = h.run("failback", "prod", extra={"phase": "all"}).report
        steps = {s["name"]: s for s in report["steps"]}
        ends = {name: parse_iso(s["started_at"]) + timedelta(seconds=s["duration_seconds"])
                for name, s in steps.items() if name == "confirm" or name.startswith("dns:")}
        last = max(ends, key=lambda name: ends[name])
        assert report["rto"]["measured"] == f"from the start of prechecks to the end of {last}"
        start = parse_iso(steps["prechecks"]["started_at"])
        assert report["rto"]["elapsed_seconds"] == pytest.approx((ends[last] - start).total_seconds(), abs=0.01)
        names = [s["name"] for s in report["steps"]]
        assert names.index("prechecks") > 0, "re-protect steps run before the switch and are outside the window"

    def test_failback_while_the_home_region_is_down_fails_naming_it(self, failed_over: Harness) -> None:
        """Re-protecting needs the home region: with it down the run fails (exit 1) and says why."""
        h = failed_over
        h.faults.outage_regions.add("eu-central-1")
        outcome = h.run("failback", "prod", extra={"phase": "reprotect"})
        assert outcome.exit_code == 1
        assert "eu-central-1" in step(outcome.report, "fence-stale:orders")["detail"]

    def test_rerun_of_a_finished_failback_is_already_done(self, failed_over: Harness) -> None:
        """Failing back twice: the second run changes nothing and says already-done."""
        h = failed_over
        for name in NAMES:
            h.set_lag(name, 5.0)
        assert h.run("failback", "prod").exit_code == 0
        h.faults.calls.clear()
        again = h.run("failback", "prod")
        assert again.exit_code == 0
        assert again.report["status"] == "already-done", again.report
        assert h.mutating_calls() == []


class TestIdentifiers:
    @pytest.mark.parametrize("db_id", ["orders-db", "a" * 63, "x"])
    def test_fenced_and_member_ids_are_valid_rds_identifiers(self, db_id: str) -> None:
        """Generated ids: <= 63 chars, start with a letter, letters/digits/single hyphens, no trailing hyphen."""
        import re

        from dr.config.model import DbLocation
        from runbooks.steps.fence import fenced_id
        from runbooks.steps.reprotect import member_instance_id

        rule = re.compile(r"^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{0,62}(?<!-)$")
        run_id = "20261126T130000Z-failback-prod-ab12"
        for made in (fenced_id(DbLocation(env="prod", id=db_id), run_id), member_instance_id(db_id, run_id)):
            assert rule.match(made), made
            assert made != db_id


class TestAuroraClusterFailback:
    def test_aurora_cluster_is_fenced_and_recreated_as_a_replica_cluster(self, tmp_path: Path) -> None:
        """aurora-cluster: the old writer is fenced, a replica cluster takes its id (one CreateDBCluster, no master
        user: AWS takes it from the source), the switch restores DR."""
        example = load(EXAMPLE)
        only = example.model_copy(update={"databases": [d for d in example.databases if d.name == "inventory"]})
        with harness(tmp_path, only) as h:
            assert h.run("failover", "qa").exit_code == 0
            h.set_lag("inventory", 5.0, at_primary=True)
            outcome = h.run("failback", "prod", run_id="fb-aurora", extra={"phase": "reprotect"})
            assert outcome.exit_code == 0, outcome.report
            central = h.rds("eu-central-1")
            clusters = {c["DBClusterIdentifier"]: c for c in central.describe_db_clusters()["DBClusters"]}
            fenced = [c for name, c in clusters.items() if name.startswith("inventory-cluster-fenced-")]
            assert [c["Status"] for c in fenced] in (["stopped"], ["stopping"])
            assert "inventory-cluster-euw1" in clusters["inventory-cluster"]["ReplicationSourceIdentifier"]
            assert clusters["inventory-cluster"]["DBClusterMembers"]
            assert [c for c in h.faults.calls if c[1] == "CreateDBCluster"] == [("rds", "CreateDBCluster",
                                                                                  "eu-central-1")]
            west_writer = h.rds("eu-west-1").describe_db_clusters(DBClusterIdentifier="inventory-cluster-euw1")
            assert clusters["inventory-cluster"]["MasterUsername"] == west_writer["DBClusters"][0]["MasterUsername"]
            switched = h.run("failback", "prod", run_id="fb-aurora-switch", extra={"phase": "switch"})
            assert switched.exit_code == 0, switched.report
            home = central.describe_db_clusters(DBClusterIdentifier="inventory-cluster")["DBClusters"][0]
            assert not home.get("ReplicationSourceIdentifier")
            west = h.rds("eu-west-1").describe_db_clusters(DBClusterIdentifier="inventory-cluster-euw1")
            assert "inventory-cluster" in west["DBClusters"][0]["ReplicationSourceIdentifier"]


class TestReplicationWait:
    def test_a_new_replica_without_lag_data_fails_saying_so(self, tmp_path: Path) -> None:
        """No lag datapoint for the re-created replica: the wait fails at its budget naming the missing metric."""
        with harness(tmp_path, load(EXAMPLE)) as h:
            assert h.run("failover", "qa").exit_code == 0
            h.set_lag("orders", None, at_primary=True)  # the sandbox publishes lag for replicas unless told not to
            outcome = h.run("failback", "prod", extra={"phase": "reprotect"})
            assert outcome.exit_code == 1
            detail = step(outcome.report, "replicating:orders")["detail"]
            assert "orders-db" in detail
            assert "no ReplicaLag datapoint" in detail
