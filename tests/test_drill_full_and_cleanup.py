"""The full game day (a real failover then failback) and `drctl drill cleanup` against the in-process sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from drill_support import drctl, drill_json, shared_sandbox

from dr.drill.leftovers import find_leftovers
from dr.drill.tags import drill_tags
from dr.testing import InProcessSandbox

__all__ = ["shared_sandbox"]


class TestFullDrill:
    @pytest.mark.timeout(600)  # the suite's slowest test (~150 s with the 2 CPUs shared): twice the default
    def test_full_drill_fails_over_for_real_then_fails_back(self, sandbox: InProcessSandbox) -> None:
        """--mode full --yes promotes the production replicas (a real failover), fails back, exits 0, and
        DNS serves prod again."""
        from dr.aws.route53 import record_side

        for db in sandbox.topology.databases:  # the replicas failback re-creates in prod's region report lag too
            account = sandbox.topology.environments[db.primary.env].account_id
            sandbox.control.set_replica_lag(account, "eu-central-1", db.engine.value, db.primary.id, 2.0)
        sandbox.control.set_metric_period_seconds(5.0)  # the planned moves' catch-up datapoints come in seconds
        result = drctl("drill", "--to", "qa", "--mode", "full", "--yes", "-c", str(sandbox.config_path), "-o", "json")
        report = drill_json(result)
        parts = report["drill"]["parts"]
        assert result.exit_code == 0, report["drill"]["findings"]
        assert (parts["failover"]["status"], parts["failback"]["status"]) == ("succeeded", "succeeded")
        assert (parts["failback"]["source"], parts["failback"]["target"]) == ("qa", "prod")
        promoted = {e.identifier for e in sandbox.control.promotion_events()}
        assert {"orders-db-euw1", "customers-db-euw1"} <= promoted
        assert report["rto"]["elapsed_seconds"] == parts["failover"]["rto"]["elapsed_seconds"]
        assert any(s["name"].startswith("failback/") for s in report["steps"])
        api = next(r for r in sandbox.topology.dns if r.fqdn == "api.example.com.")
        assert record_side(sandbox.clients, sandbox.topology, api) == "prod"


def make_leftovers(box: InProcessSandbox, run_id: str, ident: str, record: str) -> None:
    """A tagged drill clone and a drill_name record, as a crashed drill would leave them."""
    rds = box.clients.client("rds", "prod", "eu-west-1")
    rds.create_db_instance_read_replica(DBInstanceIdentifier=ident, SourceDBInstanceIdentifier="orders-db-euw1",
                                        Tags=drill_tags(run_id, "orders"))
    api = next(r for r in box.topology.dns if r.drill_name == record)
    box.clients.route53("prod").change_resource_record_sets(HostedZoneId=api.zone_id, ChangeBatch={"Changes": [{
        "Action": "UPSERT", "ResourceRecordSet": {"Name": record, "Type": "CNAME", "TTL": 60,
                                                   "ResourceRecords": [{"Value": api.targets["qa"]}]}}]})


class TestCleanupCommand:
    @pytest.fixture
    def leftover_box(self, shared_sandbox: InProcessSandbox) -> Iterator[InProcessSandbox]:
        """Leftovers of two drills (run-a: a clone and a record; run-b: a clone); all removed afterwards."""
        box = shared_sandbox
        make_leftovers(box, "run-a", "drill-orders-run-a", "drill-api.example.com.")
        rds = box.clients.client("rds", "prod", "eu-west-1")
        rds.create_db_instance_read_replica(DBInstanceIdentifier="drill-orders-run-b",
                                            SourceDBInstanceIdentifier="orders-db-euw1",
                                            Tags=drill_tags("run-b", "orders"))
        yield box
        from dr.drill.leftovers import cleanup

        cleanup(box.topology, box.clients)

    def test_cleanup_finds_and_deletes_every_leftover_by_tag(self, leftover_box: InProcessSandbox) -> None:
        """`drctl drill cleanup` deletes every drill-tagged database and every drill_name record, exit 0."""
        result = drctl("drill", "cleanup", "-c", str(leftover_box.config_path), "-o", "json")
        document = drill_json(result)
        assert result.exit_code == 0
        assert sorted(d["id"] for d in document["deleted"]) == [
            "drill-api.example.com.", "drill-orders-run-a", "drill-orders-run-b"]
        assert find_leftovers(leftover_box.topology, leftover_box.clients) == ([], [])
        names = [d["DBInstanceIdentifier"] for d in leftover_box.clients.client(
            "rds", "prod", "eu-west-1").describe_db_instances()["DBInstances"]]
        assert "orders-db-euw1" in names

    def test_cleanup_with_run_id_deletes_only_that_runs_databases(self, leftover_box: InProcessSandbox) -> None:
        """--run-id limits database deletion to that drill; the other drill's clone stays."""
        result = drctl("drill", "cleanup", "--run-id", "run-a", "-c", str(leftover_box.config_path), "-o", "json")
        assert result.exit_code == 0
        found, _ = find_leftovers(leftover_box.topology, leftover_box.clients)
        assert [f.ident for f in found] == ["drill-orders-run-b"]

    def test_cleanup_dry_run_lists_and_deletes_nothing(self, leftover_box: InProcessSandbox) -> None:
        """--dry-run prints what it would delete and leaves it there."""
        result = drctl("drill", "cleanup", "--dry-run", "-c", str(leftover_box.config_path))
        assert result.exit_code == 0
        assert "would delete db-instance drill-orders-run-a" in result.stdout
        assert len(find_leftovers(leftover_box.topology, leftover_box.clients)[0]) == 3

    def test_unreachable_region_is_reported_and_the_rest_still_cleaned(self, leftover_box: InProcessSandbox) -> None:
        """With eu-central-1 down, cleanup still deletes the DR region's leftovers, names the region, exits 1."""
        result = drctl("drill", "cleanup", "--simulate-outage", "eu-central-1", "-c", str(leftover_box.config_path),
                       "-o", "json")
        document = drill_json(result)
        assert result.exit_code == 1
        assert any(e.startswith("prod/eu-central-1: cannot list databases") for e in document["errors"])
        assert {"drill-orders-run-a", "drill-orders-run-b"} <= {d["id"] for d in document["deleted"]}
