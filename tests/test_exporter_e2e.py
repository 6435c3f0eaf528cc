"""End to end: real Prometheus scrapes `drctl exporter` reading the sandbox server; the lag alert fires."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from prometheus_support import RULES, free_port, get_json, poll, require_binary, running

pytestmark = [pytest.mark.e2e, pytest.mark.promtool]

TOPOLOGY = """\
version: 1
objectives: {rto: 15m, rpo: 5m}
environments:
  prod: {account_id: "111111111111", region: eu-central-1, role_arn: "arn:aws:iam::111111111111:role/drctl"}
  qa: {account_id: "222222222222", region: eu-west-1, role_arn: "arn:aws:iam::222222222222:role/drctl", dr_for: prod}
databases:
  - {name: orders, engine: rds-instance, primary: {env: prod, id: orders-db},
     replica: {env: prod, region: eu-west-1, id: orders-db-euw1}}
  - {name: inventory, engine: aurora-cluster,
     primary: {env: prod, id: inventory-cluster,
               settings: {parameter_group: aurora-mysql8-dr, cluster_parameter_group: aurora-mysql8-binlog}},
     replica: {env: prod, region: eu-west-1, id: inventory-cluster-euw1,
               settings: {parameter_group: aurora-mysql8-dr, cluster_parameter_group: aurora-mysql8-binlog}}}
dns:
  - {zone_id: Z0EXAMPLEPUBLIC, env: prod, name: api.example.com., type: CNAME, ttl: 60, strategy: upsert,
     targets: {prod: api.eu-central-1.example.com, qa: api.eu-west-1.example.com},
     health_checks: {prod: hc-api-prod, qa: hc-api-qa}}
"""


def short_for_rules(tmp: Path) -> Path:
    """A test copy of the shipped rules, identical but with every `for` at 2s (the expressions are the real ones)."""
    document = yaml.safe_load(RULES.read_text())
    for group in document["groups"]:
        for rule in group["rules"]:
            rule["for"] = "2s"
    path = tmp / "drctl-alerts.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@pytest.fixture
def sandbox_topology(tmp_path: Path) -> Path:
    """The topology `sandbox_server` (dr.testing) seeds for this module: two databases, one record."""
    path = tmp_path / "source-dr.yaml"
    path.write_text(TOPOLOGY)
    return path


@pytest.fixture
def exporter(sandbox_server: Any, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`drctl exporter --interval 1s` as a subprocess against the sandbox server; yields its address and process."""
    from dr.sandbox.session import drctl_command, subprocess_env

    port = free_port()
    args = [*drctl_command(), "exporter", "-c", str(sandbox_server.config_path), "--port", str(port),
            "--interval", "1s"]
    with running(args, ready_url=f"http://127.0.0.1:{port}/healthz", log=tmp_path / "exporter.log",
                 env=subprocess_env(sandbox_server.env)) as proc:
        yield f"127.0.0.1:{port}", proc


@pytest.fixture
def prometheus(exporter: tuple[str, subprocess.Popen[bytes]], tmp_path: Path) -> Iterator[str]:
    """Prometheus on loopback scraping the exporter every second, evaluating the test copy of the rules."""
    address, _ = exporter
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(short_for_rules(tmp_path))],
        "scrape_configs": [{"job_name": "drctl", "static_configs": [{"targets": [address]}]}],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    args = [require_binary("prometheus"), f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}"]
    with running(args, ready_url=f"http://127.0.0.1:{port}/-/ready", log=tmp_path / "prometheus.log"):
        yield f"http://127.0.0.1:{port}"


def query(prom: str, promql: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = get_json(f"{prom}/api/v1/query?query={quote(promql)}")["data"]["result"]
    return result


def firing(prom: str, alertname: str) -> list[dict[str, Any]]:
    alerts = get_json(f"{prom}/api/v1/alerts")["data"]["alerts"]
    return [a for a in alerts if a["labels"]["alertname"] == alertname and a["state"] == "firing"]


class TestPrometheusScrapesTheExporter:
    def test_sandbox_state_reaches_prometheus_and_the_rpo_alert_fires_on_raised_lag(
            self, sandbox_server: Any, prometheus: str) -> None:
        """Seeded lag, health, active site and the plan evaluation reach Prometheus; lag above the RPO fires
        DRReplicationLagAboveRPO.

        One scenario on one stack (sandbox, exporter, Prometheus take seconds to start): first the steady
        state, then the sandbox's lag is raised and the alert must fire for that database only.
        """
        lag = 'drctl_replication_lag_seconds{database="orders",source_region="eu-central-1",replica_region="eu-west-1"}'
        seeded = poll(lambda: query(prometheus, lag) or None, deadline=45, what="the orders lag series in Prometheus")
        from dr.sandbox.seed import DEFAULT_LAG_SECONDS

        assert float(seeded[0]["value"][1]) == DEFAULT_LAG_SECONDS
        active = query(prometheus, "drctl_active_site_info == 1")
        assert [(s["metric"]["record"], s["metric"]["env"]) for s in active] == [("api.example.com.", "prod")]
        health = query(prometheus, "drctl_health_check_healthy == 1")
        assert sorted(s["metric"]["env"] for s in health) == ["prod", "qa"]
        assert firing(prometheus, "DRReplicationLagAboveRPO") == []
        # the plan evaluated at start-up in the exporter's own thread reaches Prometheus too
        resources = poll(lambda: query(prometheus, 'drctl_plan_check_ok{check="resources",env="qa"}') or None,
                         deadline=30, what="the plan's resources check in Prometheus")
        assert float(resources[0]["value"][1]) == 1.0

        db = next(d for d in sandbox_server.topology.databases if d.name == "orders")
        sandbox_server.control.set_replica_lag("111111111111", "eu-west-1", "rds-instance", db.replica.id, 900.0)

        alerts = poll(lambda: firing(prometheus, "DRReplicationLagAboveRPO") or None, deadline=45,
                      what="DRReplicationLagAboveRPO to fire")
        assert [a["labels"]["database"] for a in alerts] == ["orders"]
        assert alerts[0]["labels"]["severity"] == "critical"
        assert float(alerts[0]["value"]) == 900.0


def exported(address: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """The exporter's own exposition (not Prometheus's copy): (name, labels) -> value."""
    from prometheus_client.parser import text_string_to_metric_families
    from prometheus_support import http_get

    text = http_get(f"http://{address}/metrics")[1].decode()
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def after_two_refreshes(address: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """The exposition once two refreshes have finished from now on: the second one started after this call, so
    it read AWS as it is now (what an operator sees within two refresh intervals)."""
    def attempt() -> float | None:
        value = get_json(f"http://{address}/healthz")["last_refresh_attempt"]
        return float(value) if value is not None else None

    seen: list[float | None] = [attempt()]

    def two_more() -> bool | None:
        now = attempt()
        if now != seen[-1]:
            seen.append(now)
        return True if len(seen) >= 3 else None

    poll(two_more, deadline=60, what="two exporter refreshes")
    return exported(address)


def by_database(values: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str) -> dict[str, float]:
    return {dict(labels)["database"]: value for (metric, labels), value in values.items() if metric == name}


def lag_directions(values: dict[tuple[str, frozenset[tuple[str, str]]], float]) -> dict[str, tuple[str, str]]:
    return {(d := dict(labels))["database"]: (d["source_region"], d["replica_region"])
            for (metric, labels) in values if metric == "drctl_replication_lag_seconds"}


class TestMonitoringFollowsAFailover:
    def test_replication_up_drops_after_failover_fires_the_alert_and_returns_after_reprotect(
            self, sandbox_server: Any, exporter: tuple[str, subprocess.Popen[bytes]], prometheus: str) -> None:
        """Failover to qa: within two refreshes drctl_replication_up is 0 for every moved database, its lag
        series is gone and DRReplicationBroken (replication-up) fires in Prometheus; after re-protect toward
        prod it is 1 again and the lag runs eu-west-1 -> eu-central-1."""
        address, _ = exporter
        steady = after_two_refreshes(address)
        assert by_database(steady, "drctl_replication_up") == {"orders": 1.0, "inventory": 1.0}
        assert lag_directions(steady) == {"orders": ("eu-central-1", "eu-west-1"),
                                          "inventory": ("eu-central-1", "eu-west-1")}

        # unplanned: the same end state (old writers fenced after promotion) without a planned move's minute-long
        # wait for a lag datapoint newer than the fence; this test is about what the exporter sees afterwards
        moved = sandbox_server.run_drctl("failover", "--to", "qa", "--yes", "--unplanned", "-o", "json")
        assert moved.returncode == 0, moved.stdout + moved.stderr
        after = after_two_refreshes(address)
        assert by_database(after, "drctl_replication_up") == {"orders": 0.0, "inventory": 0.0}
        assert lag_directions(after) == {}
        alerts = poll(lambda: [a for a in firing(prometheus, "DRReplicationBroken")
                               if a["labels"].get("signal") == "replication-up"] or None,
                      deadline=45, what="DRReplicationBroken (replication-up) to fire")
        assert sorted(a["labels"]["database"] for a in alerts) == ["inventory", "orders"]

        back = sandbox_server.run_drctl("failback", "--to", "prod", "--phase", "reprotect", "--yes", "-o", "json",
                                        timeout=180)
        assert back.returncode == 0, back.stdout + back.stderr
        protected = after_two_refreshes(address)
        assert by_database(protected, "drctl_replication_up") == {"orders": 1.0, "inventory": 1.0}
        assert lag_directions(protected) == {"orders": ("eu-west-1", "eu-central-1"),
                                             "inventory": ("eu-west-1", "eu-central-1")}
        up = poll(lambda: query(prometheus, "drctl_replication_up == 1") if len(
            query(prometheus, "drctl_replication_up == 1")) == 2 else None, deadline=30,
            what="drctl_replication_up 1 for both databases in Prometheus")
        assert sorted(s["metric"]["database"] for s in up) == ["inventory", "orders"]
