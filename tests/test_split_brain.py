"""Split brain is visible: a replica promoted by hand while its primary stays writable shows in `drctl status`
(exit 1, SPLIT BRAIN RISK), in readiness of the stale side and in drctl_writers, until the stale copy is fenced.

In the in-process sandbox (moto + extensions: promotion unlinks the replica from its primary, as AWS does).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from test_checks_support import check, invoke

from dr.aws.lineage import FENCED_TAG, GENERATION_TAG
from dr.checks.model import all_ok
from dr.checks.readiness import readiness
from dr.checks.status import status
from dr.clock import SYSTEM_CLOCK
from dr.metrics.exporter import Exporter
from dr.sandbox.topology_file import write_topology
from dr.testing import InProcessSandbox

PROD_ARN = "arn:aws:rds:{region}:111111111111:db:{id}"


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")


def promote_by_hand(box: InProcessSandbox) -> None:
    """An operator promotes orders' DR replica and records it as generation 1; orders-db stays writable."""
    west = box.clients.client("rds", "prod", "eu-west-1")
    west.promote_read_replica(DBInstanceIdentifier="orders-db-euw1")
    west.add_tags_to_resource(ResourceName=PROD_ARN.format(region="eu-west-1", id="orders-db-euw1"),
                              Tags=[{"Key": GENERATION_TAG, "Value": "1"}])


def fence_by_tag(box: InProcessSandbox) -> None:
    """As drctl's fence does: the fence tag, then a rename away from the endpoint (a tag alone fences nothing)."""
    central = box.clients.client("rds", "prod", "eu-central-1")
    central.add_tags_to_resource(ResourceName=PROD_ARN.format(region="eu-central-1", id="orders-db"),
                                 Tags=[{"Key": FENCED_TAG, "Value": "run-by-hand"}])
    central.modify_db_instance(DBInstanceIdentifier="orders-db", NewDBInstanceIdentifier="orders-db-fenced-byhand",
                               ApplyImmediately=True)


def status_json(box: InProcessSandbox) -> tuple[int, dict[str, dict[str, object]]]:
    code, out = invoke("status", "-c", str(box.config_path), "-o", "json")
    return code, {d["name"]: d for d in json.loads(out)["databases"]}


def exported(box: InProcessSandbox) -> dict[tuple[str, str], float]:
    """(metric, database) -> value of drctl_writers and drctl_replication_up after one exporter refresh."""
    exporter = Exporter(box.topology, clients=box.clients)
    exporter.refresh_once()
    text = generate_latest(exporter.registry).decode()
    return {(s.name, s.labels["database"]): s.value for f in text_string_to_metric_families(text)
            for s in f.samples if s.name in ("drctl_writers", "drctl_replication_up")}


ORDERS_DB = {"env": "prod", "region": "eu-central-1", "id": "orders-db"}
ORDERS_EUW1 = {"env": "prod", "region": "eu-west-1", "id": "orders-db-euw1"}


class TestStatus:
    def test_steady_state_has_one_writer_per_database_and_exits_0(self, sandbox: InProcessSandbox) -> None:
        """Seeded: each database's only writable copy is its primary, the current writer; exit 0."""
        code, dbs = status_json(sandbox)
        assert code == 0
        assert dbs["orders"]["writers"] == [ORDERS_DB]
        assert dbs["orders"]["writer"] == {**ORDERS_DB, "generation": 0}
        assert dbs["orders"]["stale"] == []
        assert all(len(d["writers"]) == 1 and not d["split_brain"] for d in dbs.values())  # type: ignore[arg-type]

    def test_hand_promoted_replica_beside_a_writable_primary_is_split_brain(self, sandbox: InProcessSandbox) -> None:
        """Promoted by hand (generation 1) with orders-db still standalone: both are writers, orders-db is stale,
        the JSON lists both and the command exits 1."""
        promote_by_hand(sandbox)
        code, dbs = status_json(sandbox)
        assert code == 1
        orders = dbs["orders"]
        assert sorted(orders["writers"], key=str) == sorted([ORDERS_DB, ORDERS_EUW1], key=str)  # type: ignore[arg-type]
        assert orders["writer"] == {**ORDERS_EUW1, "generation": 1}
        assert orders["stale"] == [ORDERS_DB]
        assert orders["split_brain"] is True
        assert orders["fence"] == ["drctl fence --env prod"]
        assert orders["replication"] == "not replicating"
        assert [d["split_brain"] for n, d in dbs.items() if n != "orders"] == [False, False, False]

    def test_text_says_split_brain_risk_names_both_copies_and_the_fence(self, sandbox: InProcessSandbox) -> None:
        """The text output shows SPLIT BRAIN RISK with both copies, the writer, the stale copy and the fence."""
        promote_by_hand(sandbox)
        code, out = invoke("status", "-c", str(sandbox.config_path))
        assert code == 1
        assert "SPLIT BRAIN RISK: orders has 2 writable copies: orders-db (prod/eu-central-1), orders-db-euw1" in out
        assert "current writer: orders-db-euw1 (prod/eu-west-1, generation 1); stale: orders-db (eu-central-1)" in out
        assert "`drctl fence --env prod`" in out
        assert "STALE writer" in next(line for line in out.splitlines() if "orders-db (prod/eu-central-1)" in line)

    def test_fencing_the_stale_copy_by_tag_leaves_one_writer(self, sandbox: InProcessSandbox) -> None:
        """Fenced as drctl fences (tag, rename): only the generation-1 copy writes; exit 0."""
        promote_by_hand(sandbox)
        fence_by_tag(sandbox)
        code, dbs = status_json(sandbox)
        assert code == 0
        assert dbs["orders"]["writers"] == [ORDERS_EUW1]
        assert dbs["orders"]["stale"] == []

    def test_renaming_the_stale_copy_away_leaves_one_writer(self, sandbox: InProcessSandbox) -> None:
        """Renamed away from its endpoint (as the fence does), orders-db is missing at its location; exit 0."""
        promote_by_hand(sandbox)
        rds_central = sandbox.clients.client("rds", "prod", "eu-central-1")
        rds_central.modify_db_instance(DBInstanceIdentifier="orders-db", NewDBInstanceIdentifier="orders-db-fenced",
                                       ApplyImmediately=True)
        code, dbs = status_json(sandbox)
        assert code == 0
        assert dbs["orders"]["writers"] == [ORDERS_EUW1]
        members = {m["id"]: m["state"] for m in dbs["orders"]["members"]}  # type: ignore[attr-defined]
        assert members["orders-db"] == "missing"

    def test_two_untagged_writers_are_split_brain_with_no_current_writer(self, sandbox: InProcessSandbox) -> None:
        """Promoted by hand without a generation tag: nobody can tell the writer; still exit 1."""
        sandbox.clients.client("rds", "prod", "eu-west-1").promote_read_replica(DBInstanceIdentifier="orders-db-euw1")
        report = status(sandbox.topology, sandbox.clients, SYSTEM_CLOCK)
        orders = next(d for d in report.databases if d.name == "orders")
        assert (len(orders.writers), orders.writer, orders.split_brain) == (2, None, True)
        code, out = invoke("status", "-c", str(sandbox.config_path))
        assert code == 1
        assert "no copy is tagged as the newest writer" in out


def point_orders_at_a_restored_primary(box: InProcessSandbox, tmp_path: Path) -> Path:
    """orders-db-v2 restored in eu-central-1 and configured as orders' primary; the DR replica still follows
    the old orders-db: it replicates from a copy that is not the current writer."""
    box.clients.client("rds", "prod", "eu-central-1").create_db_instance(
        DBInstanceIdentifier="orders-db-v2", Engine="postgres", DBInstanceClass="db.t3.micro",
        MasterUsername="admin", MasterUserPassword="password-1", AllocatedStorage=20)
    dbs = [db.model_copy(update={"primary": db.primary.model_copy(update={"id": "orders-db-v2"})})
           if db.name == "orders" else db for db in box.topology.databases]
    box.topology = box.topology.model_copy(update={"databases": dbs})
    return write_topology(box.topology, tmp_path / "restored.yaml")


class TestReplicationAgainstTheWriter:
    def test_a_replica_of_another_copy_is_not_replication(self, sandbox: InProcessSandbox, tmp_path: Path) -> None:
        """Status says the DR copy replicates from something that is not the current writer; the exporter's
        drctl_replication_up is 0 for orders and 1 for the others."""
        point_orders_at_a_restored_primary(sandbox, tmp_path)
        report = status(sandbox.topology, sandbox.clients, SYSTEM_CLOCK)
        orders = next(d for d in report.databases if d.name == "orders")
        assert orders.replication == (
            "not from the writer: orders-db-euw1 replicates from arn:aws:rds:eu-central-1:111111111111:db:orders-db")
        values = exported(sandbox)
        assert values[("drctl_replication_up", "orders")] == 0.0
        assert values[("drctl_replication_up", "customers")] == 1.0

    def test_readiness_of_the_dr_side_fails_on_a_replica_of_another_copy(
            self, sandbox: InProcessSandbox, tmp_path: Path) -> None:
        """qa is not ready: orders-db-euw1 protects nothing; the reason names the writer and re-protection."""
        point_orders_at_a_restored_primary(sandbox, tmp_path)
        result = check(readiness(sandbox.topology, sandbox.clients, SYSTEM_CLOCK, "qa"), "writer-lineage",
                       "orders-db-euw1")
        assert not result.ok
        assert result.reason == (
            "orders: orders-db-euw1 replicates from arn:aws:rds:eu-central-1:111111111111:db:orders-db, not from "
            "the current writer orders-db-v2 (prod/eu-central-1, generation 0): it protects nothing; "
            "`drctl failback --to qa --phase reprotect`")


class TestReadiness:
    def test_the_stale_side_is_not_ready_and_says_how_to_fence_and_reprotect(
            self, sandbox: InProcessSandbox) -> None:
        """After a promotion by hand, prod's orders-db is a stale writable copy: prod is not ready, the reason
        names the database, the stale copy, the current writer and the fix."""
        promote_by_hand(sandbox)
        results = readiness(sandbox.topology, sandbox.clients, SYSTEM_CLOCK, "prod")
        assert not all_ok(results)
        result = check(results, "writer-lineage", "orders-db")
        assert not result.ok
        assert result.reason == (
            "orders: orders-db (eu-central-1) is a stale writable copy, the current writer is orders-db-euw1 "
            "(prod/eu-west-1, generation 1): fence it and re-protect prod: `drctl fence --env prod`, then "
            "`drctl failback --to prod --phase reprotect`")
        assert check(results, "writer-lineage", "customers-db").ok

    def test_the_cli_exits_1_for_the_stale_side_and_0_for_the_writer_side(self, sandbox: InProcessSandbox) -> None:
        """`drctl readiness --env prod` is not ready (exit 1) while qa, holding the writer, passes its lineage."""
        promote_by_hand(sandbox)
        code, out = invoke("readiness", "--env", "prod", "-c", str(sandbox.config_path), "-o", "json")
        assert code == 1
        failing = {(c["check"], c["resource"]) for c in json.loads(out)["checks"] if not c["ok"]}
        assert ("writer-lineage", "orders-db") in failing
        code, out = invoke("readiness", "--env", "qa", "-c", str(sandbox.config_path), "-o", "json")
        lineage = next(c for c in json.loads(out)["checks"]
                       if (c["check"], c["resource"]) == ("writer-lineage", "orders-db-euw1"))
        assert lineage["ok"]
        assert lineage["reason"].startswith("orders-db-euw1 is the current writer of orders")

    def test_a_fenced_former_writer_is_not_ready_until_reprotected(self, sandbox: InProcessSandbox) -> None:
        """Fenced (renamed away), prod holds no copy of orders that protects anything: not ready until
        re-protected."""
        promote_by_hand(sandbox)
        fence_by_tag(sandbox)
        results = readiness(sandbox.topology, sandbox.clients, SYSTEM_CLOCK, "prod")
        failing = [r for r in results if r.resource == "orders-db" and not r.ok]
        assert failing, results

    def test_an_unreadable_writer_region_does_not_fail_the_dr_side(self, sandbox: InProcessSandbox) -> None:
        """With eu-central-1 down nothing says who writes: qa's replicas pass their lineage, naming why."""
        from dr.aws.factory import ClientFactory
        from dr.aws.faults import Faults

        clients = ClientFactory(sandbox.topology, run_id="test", faults=Faults(outage_regions={"eu-central-1"}))
        result = check(readiness(sandbox.topology, clients, SYSTEM_CLOCK, "qa"), "writer-lineage", "orders-db-euw1")
        assert result.ok
        assert "orders-db in eu-central-1 could not be read" in result.reason


class TestExporter:
    def test_writers_gauge_is_2_until_the_stale_copy_is_fenced(self, sandbox: InProcessSandbox) -> None:
        """drctl_writers{database="orders"} is 1, then 2 after the promotion by hand, then 1 once fenced."""
        assert exported(sandbox)[("drctl_writers", "orders")] == 1.0
        promote_by_hand(sandbox)
        values = exported(sandbox)
        assert values[("drctl_writers", "orders")] == 2.0
        assert values[("drctl_replication_up", "orders")] == 0.0
        assert values[("drctl_writers", "customers")] == 1.0
        fence_by_tag(sandbox)
        assert exported(sandbox)[("drctl_writers", "orders")] == 1.0


class TestDormantStaleCopy:
    def test_a_stopped_stale_copy_fails_readiness_and_status_naming_the_restart(
            self, sandbox: InProcessSandbox) -> None:
        """After a promotion by hand orders-db is stopped but not fenced: prod's readiness fails naming the 7-day
        restart and the fix; `drctl status` lists it as dormant and exits 1."""
        promote_by_hand(sandbox)
        sandbox.clients.client("rds", "prod", "eu-central-1").stop_db_instance(DBInstanceIdentifier="orders-db")
        result = check(readiness(sandbox.topology, sandbox.clients, SYSTEM_CLOCK, "prod"), "writer-lineage",
                       "orders-db")
        assert not result.ok
        assert "orders-db (eu-central-1) is stopped but not fenced" in result.reason
        assert "after 7 days" in result.reason
        assert "`aws rds start-db-instance --db-instance-identifier orders-db --region eu-central-1`" in result.reason
        assert "`drctl fence --env prod`" in result.reason
        code, dbs = status_json(sandbox)
        assert code == 1
        assert dbs["orders"]["dormant"] == [ORDERS_DB]
        assert dbs["orders"]["split_brain"] is False
        assert dbs["orders"]["fence"] == ["drctl fence --env prod"]
