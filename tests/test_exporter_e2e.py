"""End to end: real Prometheus scrapes `drctl exporter` reading the sandbox server; the lag alert fires."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from prometheus_support import RULES, free_port, get_json, poll, require_binary, running, stop_process

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
  - {name: inventory, engine: aurora-cluster, primary: {env: prod, id: inventory-cluster},
     replica: {env: prod, region: eu-west-1, id: inventory-cluster-euw1}}
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


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory for the module's processes (they are shared: starting them takes seconds)."""
    return tmp_path_factory.mktemp("exporter-e2e")


@pytest.fixture(scope="module")
def sandbox(workdir: Path) -> Iterator[Any]:
    """The sandbox server seeded with a two-database topology; its config (real ids) written beside it."""
    from dr.sandbox.session import running as sandbox_running

    source = workdir / "source-dr.yaml"
    source.write_text(TOPOLOGY)
    with sandbox_running(source, workdir / "dr.yaml") as served:
        yield served


@pytest.fixture(scope="module")
def exporter(sandbox: Any, workdir: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`drctl exporter --interval 1s` as a subprocess against the sandbox; yields its address and process."""
    from dr.sandbox.session import drctl_command, subprocess_env

    port = free_port()
    args = [*drctl_command(), "exporter", "-c", str(sandbox.config_path), "--port", str(port), "--interval", "1s"]
    with running(args, ready_url=f"http://127.0.0.1:{port}/healthz", log=workdir / "exporter.log",
                 env=subprocess_env(sandbox.env())) as proc:
        yield f"127.0.0.1:{port}", proc


@pytest.fixture(scope="module")
def prometheus(exporter: tuple[str, subprocess.Popen[bytes]], workdir: Path) -> Iterator[str]:
    """Prometheus on loopback scraping the exporter every second, evaluating the test copy of the rules."""
    address, _ = exporter
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(short_for_rules(workdir))],
        "scrape_configs": [{"job_name": "drctl", "static_configs": [{"targets": [address]}]}],
    }
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    args = [require_binary("prometheus"), f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}"]
    with running(args, ready_url=f"http://127.0.0.1:{port}/-/ready", log=workdir / "prometheus.log"):
        yield f"http://127.0.0.1:{port}"


def query(prom: str, promql: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = get_json(f"{prom}/api/v1/query?query={quote(promql)}")["data"]["result"]
    return result


def firing(prom: str, alertname: str) -> list[dict[str, Any]]:
    alerts = get_json(f"{prom}/api/v1/alerts")["data"]["alerts"]
    return [a for a in alerts if a["labels"]["alertname"] == alertname and a["state"] == "firing"]


class TestPrometheusScrapesTheExporter:
    # The tests share one sandbox, exporter and Prometheus; they run in file order, the shutdown test last.
    def test_health_and_active_site_arrive(self, prometheus: str) -> None:
        """Health checks and the active site of the seeded record are scraped through Prometheus."""
        active = poll(lambda: query(prometheus, "drctl_active_site_info == 1") or None, deadline=45,
                      what="drctl_active_site_info in Prometheus")
        assert [(s["metric"]["record"], s["metric"]["env"]) for s in active] == [("api.example.com.", "prod")]
        health = poll(lambda: query(prometheus, "drctl_health_check_healthy") or None, deadline=15,
                      what="drctl_health_check_healthy in Prometheus")
        assert sorted(s["metric"]["env"] for s in health) == ["prod", "qa"]

    def test_lag_arrives_and_the_rpo_alert_fires_when_lag_exceeds_the_rpo(
            self, sandbox: Any, prometheus: str, exporter: tuple[str, subprocess.Popen[bytes]]) -> None:
        """The seeded lag reaches Prometheus; raising it above the RPO fires DRReplicationLagAboveRPO for it only."""
        lag = 'drctl_replication_lag_seconds{database="orders",source_region="eu-central-1",replica_region="eu-west-1"}'
        seeded = poll(lambda: query(prometheus, lag) or None, deadline=45, what="the orders lag series in Prometheus")
        assert float(seeded[0]["value"][1]) == 2.0
        assert firing(prometheus, "DRReplicationLagAboveRPO") == []

        db = next(d for d in sandbox.topology.databases if d.name == "orders")
        sandbox.control.set_replica_lag("111111111111", "eu-west-1", "rds-instance", db.replica.id, 900.0)

        alerts = poll(lambda: firing(prometheus, "DRReplicationLagAboveRPO") or None, deadline=45,
                      what="DRReplicationLagAboveRPO to fire")
        assert [a["labels"]["database"] for a in alerts] == ["orders"]
        assert alerts[0]["labels"]["severity"] == "critical"
        assert float(alerts[0]["value"]) == 900.0


class TestShutdown:
    def test_sigterm_stops_the_exporter_cleanly(self, exporter: tuple[str, subprocess.Popen[bytes]]) -> None:
        """SIGTERM makes `drctl exporter` stop serving and exit 0 (runs last: it ends the shared exporter)."""
        _, proc = exporter
        proc.send_signal(signal.SIGTERM)
        assert stop_process(proc, timeout=15) == 0
