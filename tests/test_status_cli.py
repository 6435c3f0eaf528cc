"""`drctl status`: roles, replication and lag per database, the side each record serves, health checks."""

from __future__ import annotations

import json
from pathlib import Path

from test_checks_support import Seeded, config, invoke, module, world

from dr.checks.status import status

__all__ = ["config", "module", "world"]  # fixtures shared from test_checks_support


class TestStatusJson:
    def test_json_reports_roles_replication_sides_and_health(self, config: str) -> None:
        """One JSON document: each member's role and state, replication and lag, record sides, health."""
        code, out = invoke("status", "-c", config, "-o", "json")
        assert code == 0
        doc = json.loads(out)
        assert set(doc) == {"checked_at", "databases", "records", "health_checks"}
        orders = next(d for d in doc["databases"] if d["name"] == "orders")
        roles = {m["id"]: (m["role"], m["state"]) for m in orders["members"]}
        assert roles == {"orders-db": ("primary", "available"), "orders-db-euw1": ("replica", "available")}
        assert (orders["replication"], orders["lag_seconds"], orders["rpo_ok"]) == ("replicating", 2.0, True)
        payments = next(d for d in doc["databases"] if d["name"] == "payments")
        assert {m["role"] for m in payments["members"]} == {"primary", "replica"}
        assert {r["name"]: r["side"] for r in doc["records"]} == {"api.example.com.": "prod",
                                                                  "www.example.com.": "prod"}
        assert len(doc["health_checks"]) == 4
        assert all(h["healthy"] is True for h in doc["health_checks"])

    def test_outage_shows_the_failed_region_as_unreachable(self, config: str) -> None:
        """--simulate-outage eu-central-1: the primaries are unreachable, the replicas still answer."""
        code, out = invoke("status", "-c", config, "-o", "json", "--simulate-outage", "eu-central-1")
        assert code == 0
        members = [m for d in json.loads(out)["databases"] for m in d["members"]]
        states = {m["id"]: m["state"] for m in members}
        assert states == {"orders-db": "unreachable", "orders-db-euw1": "available",
                          "payments-cluster": "unreachable", "payments-cluster-euw1": "available"}

    def test_record_moved_to_qa_is_reported_serving_qa(self, world: Seeded, config: str) -> None:
        """After the api record is UPSERTed to qa's target, status says it serves qa."""
        rec = next(r for r in world.topology.dns if r.name == "api.example.com.")
        route53 = world.clients.route53("prod")

        def point(value: str) -> None:
            route53.change_resource_record_sets(HostedZoneId=rec.zone_id, ChangeBatch={"Changes": [{
                "Action": "UPSERT", "ResourceRecordSet": {"Name": rec.fqdn, "Type": "CNAME", "TTL": 60,
                                                          "ResourceRecords": [{"Value": value}]}}]})

        point(rec.targets["qa"])
        world.on_teardown(lambda: point(rec.targets["prod"]))
        doc = json.loads(invoke("status", "-c", config, "-o", "json")[1])
        assert {r["name"]: r["side"] for r in doc["records"]}["api.example.com."] == "qa"


class TestStatusText:
    def test_text_shows_three_tables(self, config: str) -> None:
        """The text output has the databases, DNS records and health checks tables."""
        code, out = invoke("status", "-c", config)
        assert code == 0
        for heading in ("databases", "DNS records", "health checks"):
            assert heading in out
        row = next(line for line in out.splitlines() if "orders-db-euw1 (prod/eu-west-1)" in line)
        assert "replica, available" in row
        assert "PRIMARY healthy -> www.eu-central-1.example.com" in out

    def test_invalid_config_exits_2_with_the_finding(self, tmp_path: Path) -> None:
        """A broken topology file is a configuration error: exit 2, nothing read."""
        bad = tmp_path / "dr.yaml"
        bad.write_text("version: 1\nenvironments: {prod: {account_id: '1', region: eu-central-1}}\n")
        code, out = invoke("status", "-c", str(bad))
        assert code == 2
        assert "account_id" in out


class TestStatusModel:
    def test_broken_replication_is_reported_broken(self, world: Seeded) -> None:
        """ReplicaLag -1 makes the database's replication 'broken' and fails its RPO verdict."""
        world.clock.advance(120)
        world.put_lag(-1, age_seconds=10)
        report = status(world.topology, world.clients, world.clock)
        orders = next(d for d in report.databases if d.name == "orders")
        assert (orders.replication, orders.rpo_ok, orders.rpo_reason) == (
            "broken", False, "ReplicaLag -1: replication broken")

    def test_unhealthy_check_is_reported_unhealthy(self, world: Seeded) -> None:
        """A failing health check shows healthy=False with Route53's report."""
        hc = world.health_id("hc-www-qa")
        world.make_unhealthy(hc)
        report = status(world.topology, world.clients, world.clock)
        found = next(h for h in report.health_checks if h.id == hc)
        assert (found.healthy, found.side, found.records) == (False, "qa", ("www.example.com.",))
