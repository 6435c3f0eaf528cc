"""Helpers for the checks/status/readiness tests: a small seeded topology and ways to break it (no tests here)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from dr.aws.factory import ClientFactory
from dr.aws.faults import Faults
from dr.aws.lag_metrics import lag_metric
from dr.clock import FakeClock
from dr.config.model import Engine, Topology

PROD, QA = "111111111111", "222222222222"
SMALL = """
version: 1
objectives: {rto: 15m, rpo: 5m}
aws: {max_attempts: 1, connect_timeout: 1, read_timeout: 2}
environments:
  prod: {account_id: "111111111111", region: eu-central-1, role_arn: "arn:aws:iam::111111111111:role/drctl"}
  qa: {account_id: "222222222222", region: eu-west-1, role_arn: "arn:aws:iam::222222222222:role/drctl", dr_for: prod}
databases:
  - {name: orders, engine: rds-instance, primary: {env: prod, id: orders-db},
     replica: {env: prod, region: eu-west-1, id: orders-db-euw1}}
  - {name: payments, engine: aurora-global, global_cluster_id: payments-global,
     primary: {env: prod, id: payments-cluster}, replica: {env: prod, region: eu-west-1, id: payments-cluster-euw1}}
dns:
  - {zone_id: Z0EXAMPLE, env: prod, name: api.example.com., type: CNAME, ttl: 60, strategy: upsert,
     targets: {prod: api.eu-central-1.example.com, qa: api.eu-west-1.example.com},
     health_checks: {prod: hc-api-prod, qa: hc-api-qa}}
  - {zone_id: Z0EXAMPLE, env: prod, name: www.example.com., type: CNAME, ttl: 60, strategy: failover-routing,
     targets: {prod: www.eu-central-1.example.com, qa: www.eu-west-1.example.com},
     health_checks: {prod: hc-www-prod, qa: hc-www-qa}}
readiness:
  qa:
    eks_clusters: [cluster-1]
    ecs_services: [{cluster: ecs-1, service: service-a, min_running: 2}]
    autoscaling_groups: [{name: web, min_in_service: 2}]
"""


@dataclass
class Seeded:
    """A seeded moto world: the topology with real ids, a factory with fault hooks, a clock at seed time."""

    topology: Topology
    clients: ClientFactory
    faults: Faults
    clock: FakeClock
    reports: dict[str, list[str]] = field(default_factory=dict)
    """Health check id -> the checker reports GetHealthCheckStatus returns instead of moto's."""
    _placeholders: dict[tuple[str, str], str] = field(default_factory=dict)
    _undo: list[Callable[[], object]] = field(default_factory=list)

    def fresh(self, hours: int) -> Seeded:
        """A view `hours` later with its own faults, clients, and a fresh 2 s lag on every replica.

        Each test works hours apart from the others, so the lag datapoints it publishes are its own.
        """
        faults = Faults()
        clock = FakeClock(self.clock.now() + timedelta(hours=hours))
        world = Seeded(self.topology, ClientFactory(self.topology, run_id="test", faults=faults), faults, clock,
                       _placeholders=self._placeholders, _undo=[])
        for db in self.topology.databases:
            metric = lag_metric(db.engine)
            world.put_lag(2 / metric.to_seconds, 30, db.replica.id, db.engine)
        events = world.clients.route53("prod").meta.events
        events.register("provide-client-params.route53.GetHealthCheckStatus", world._remember_id)
        events.register("after-call.route53.GetHealthCheckStatus", world._rewrite_health)
        return world

    def on_teardown(self, undo: Callable[[], object]) -> None:
        """Restore shared AWS state changed by a test."""
        self._undo.append(undo)

    def restore(self) -> None:
        for undo in reversed(self._undo):
            undo()

    def replace_db(self, name: str, **locations: Any) -> None:
        """Point the topology's `primary`/`replica` of database `name` elsewhere (AWS unchanged)."""
        dbs = [db.model_copy(update={k: getattr(db, k).model_copy(update=v) for k, v in locations.items()})
               if db.name == name else db for db in self.topology.databases]
        self.topology = self.topology.model_copy(update={"databases": dbs})

    def put_lag(self, value: float, age_seconds: float, db_id: str = "orders-db-euw1",
                engine: Engine = Engine.RDS_INSTANCE) -> None:
        """Publish the engine's lag datapoint `age_seconds` before the clock's now, in the replica's account/region,
        under the dimensions AWS publishes it with."""
        metric = lag_metric(engine)
        self.clients.client("cloudwatch", "prod", "eu-west-1").put_metric_data(
            Namespace=metric.namespace,
            MetricData=[{"MetricName": metric.metric, "Value": value,
                         "Timestamp": self.clock.now() - timedelta(seconds=age_seconds),
                         "Dimensions": metric.cloudwatch_dimensions(db_id)}],
        )

    def health_id(self, placeholder: str) -> str:
        return next(rec.health_checks[side] for rec in self.topology.dns for side in rec.health_checks
                    if self._placeholders[(rec.fqdn, side)] == placeholder)

    def make_unhealthy(self, hc_id: str) -> None:
        """Route53 (moto) always reports healthy: rewrite the observations of `hc_id` to all-failure."""
        self.reports[hc_id] = ["Failure: HTTP Status Code 503, Service Unavailable"]

    def set_reports(self, hc_id: str, reports: list[str]) -> None:
        """Make GetHealthCheckStatus of `hc_id` return one observation per report (as seen by this client)."""
        self.reports[hc_id] = reports

    def _remember_id(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["drctl_test_hc"] = params.get("HealthCheckId")

    def _rewrite_health(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        reports = self.reports.get(str(context.get("drctl_test_hc")))
        if reports is not None:
            parsed["HealthCheckObservations"] = [
                {"Region": "us-east-1", "IPAddress": f"192.0.2.{i}", "StatusReport": {"Status": text}}
                for i, text in enumerate(reports)
            ]


def seeded(text: str = SMALL, *, topology: Topology | None = None) -> Seeded:
    """Seed `text` (or `topology`) into the active moto mock and return handles to break it."""
    from dr.sandbox.seed import seed

    declared = topology or Topology.model_validate(yaml.safe_load(text))
    real = seed(declared, ClientFactory(declared, run_id="seed"))
    world = Seeded(real, ClientFactory(real), Faults(), FakeClock(datetime.now(UTC)))
    world._placeholders = {(rec.fqdn, side): hc for rec in declared.dns for side, hc in rec.health_checks.items()}
    return world.fresh(0)


class Module:
    """One seeded moto world per test module (seeding costs ~1 s); each test takes a `fresh` view of it."""

    def __init__(self, base: Seeded) -> None:
        self.base = base
        self.count = 0

    def fresh(self) -> Seeded:
        self.count += 1
        return self.base.fresh(self.count)


def module_world(text: str = SMALL) -> Iterator[Module]:
    """Body of a module-scoped fixture: moto on, fake credentials, the topology seeded once."""
    from moto import mock_aws

    with pytest.MonkeyPatch.context() as mp:
        for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "DRCTL_SIMULATE_OUTAGE"):
            mp.delenv(var, raising=False)
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        with mock_aws():
            yield Module(seeded(text))


def check(results: list[Any], kind: str, resource: str | None = None) -> Any:
    """The one result of `kind` (for `resource`, when given)."""
    found = [r for r in results if str(r.check) == kind and (resource is None or r.resource == resource)]
    assert len(found) == 1, f"expected one {kind} result for {resource}, got {found}"
    return found[0]


@pytest.fixture(scope="module")
def module() -> Iterator[Module]:
    """The seeded world of one test module (import `module` and `world` into the module to use them)."""
    yield from module_world()


@pytest.fixture
def world(module: Module) -> Iterator[Seeded]:
    view = module.fresh()
    yield view
    view.restore()


@pytest.fixture
def config(world: Seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The world's topology written as a config file, for CLI tests (wide terminal for rich tables)."""
    from dr.sandbox.topology_file import write_topology

    monkeypatch.setenv("COLUMNS", "250")
    return str(write_topology(world.topology, tmp_path / "dr.yaml"))


def invoke(*args: str) -> tuple[int, str]:
    """`drctl ARGS` in-process: exit code and output."""
    from typer.testing import CliRunner

    from dr.cli.main import app

    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output
