"""Seed the sandbox from any valid topology, and give back the topology with the sandbox's real ids.

Everything is created through the one ClientFactory, so each environment's resources land in its own
account (roles are assumed through STS) and region, exactly where drctl will look for them.
"""

from __future__ import annotations

from typing import Any, Protocol

from dr.aws.factory import ClientFactory
from dr.aws.rds import partition_of
from dr.config.model import Database, Topology
from dr.sandbox._seed_arc import ArcSeeder
from dr.sandbox._seed_dns import DnsIds, DnsSeeder, SeedError, serving_sides, zone_name
from dr.sandbox._seed_rds import ENGINES, RdsSeeder
from dr.sandbox._seed_readiness import ReadinessSeeder
from dr.sandbox._seed_settings import SettingsSeeder
from dr.sandbox._seed_state import seed_state

__all__ = ["DEFAULT_LAG_SECONDS", "ENGINES", "SANDBOX_ROLE", "LagControl", "SeedError", "rewrite", "seed",
           "serving_sides", "with_account_roles", "zone_name"]

SANDBOX_ROLE = "drctl-sandbox"
"""The role name given to environments that have no role_arn (moto accepts any role)."""

DEFAULT_LAG_SECONDS = 2.0
"""Replication lag of every replica right after seeding: fresh and well inside any RPO."""


class LagControl(Protocol):
    """The part of the sandbox control (dr.sandbox.control) seeding needs: the published replica lag."""

    def set_default_lag(self, seconds: float | None) -> Any:
        """Lag for every replica without its own setting, including ones created later (e.g. by failback)."""
        ...

    def set_replica_lag(  # noqa: PLR0917 - mirrors SandboxControl.set_replica_lag
        self, account_id: str, region: str, engine: str, identifier: str,
        seconds: float | None, age_seconds: float = 0,
    ) -> Any:
        """Publish `seconds` as the replica's lag metric (None: no datapoints; -1: replication broken)."""
        ...


def seed(topology: Topology, clients: ClientFactory, control: LagControl | None = None,
         *, lag_seconds: float = DEFAULT_LAG_SECONDS, roles: bool = False) -> Topology:
    """Create the topology's resources in the (mocked) AWS behind `clients`; return it with the real ids.

    Without a control (plain moto), one lag datapoint per replica is put into CloudWatch directly.
    An environment without `role_arn` gets a sandbox role in its account (see `with_account_roles`). With
    `roles`, each role is created with the policies `drctl iam policy` generates (for plan evaluation's
    `permissions` check; in-process tests that do not need it skip the IAM calls).
    """
    prepared = with_account_roles(topology)
    if prepared != topology:
        clients = ClientFactory(prepared, run_id=clients.run_id, user=clients.user, faults=clients.faults,
                                settings=clients.settings)
    topology = SettingsSeeder(prepared, clients).seed()  # with the real security group ids
    if control is not None:
        control.set_default_lag(lag_seconds)
    rds = RdsSeeder(topology, clients)
    for db in topology.databases:
        rds.seed(db)
        _set_lag(topology, clients, control, db, lag_seconds)
    arc = ArcSeeder(topology, clients, serving_sides).seed()  # before DNS: its RECOVERY_CONTROL health checks
    ids = DnsSeeder(topology, clients, DnsIds(health_checks=dict(arc.health_checks))).seed()
    ReadinessSeeder(topology, clients).seed()
    seed_state(topology, clients)
    seeded = rewrite(topology, ids)
    seeded = seeded.model_copy(update={"dns": [arc.rewrite(r) for r in seeded.dns]})
    if roles:  # from the topology with the real ids: the policies name the real zones and health checks
        from dr.sandbox._seed_roles import seed_roles

        seed_roles(seeded, clients)
    return seeded


def with_account_roles(topology: Topology) -> Topology:
    """Every environment reached through a role in its own account.

    Ambient credentials all land in one moto account, while the topology (and drctl's ARN checks) place each
    environment in its `account_id`; a role per account keeps the sandbox's accounts where the topology says.
    """
    environments = {
        name: env if env.role_arn else env.model_copy(
            update={"role_arn": f"arn:{partition_of(env.region)}:iam::{env.account_id}:role/{SANDBOX_ROLE}"})
        for name, env in topology.environments.items()
    }
    if environments == topology.environments:
        return topology
    return topology.model_copy(update={"environments": environments})


def rewrite(topology: Topology, ids: DnsIds) -> Topology:
    """The topology with zone and health-check placeholders replaced by the ids the sandbox generated."""
    records = [
        rec.model_copy(update={
            "zone_id": ids.zones.get(rec.zone_id, rec.zone_id),
            "health_checks": {side: ids.health_checks.get(hc, hc) for side, hc in rec.health_checks.items()},
        })
        for rec in topology.dns
    ]
    return topology.model_copy(update={"dns": records})


def _set_lag(topology: Topology, clients: ClientFactory, control: LagControl | None, db: Database,
             seconds: float) -> None:
    account = topology.environments[db.replica.env].account_id
    region = topology.region_of(db.replica)
    if control is not None:
        control.set_replica_lag(account, region, db.engine.value, db.replica.id, seconds)
        return
    from dr.sandbox.extensions.replica_lag import AWS_LAG_METRICS

    metric = AWS_LAG_METRICS[db.engine]  # as AWS publishes it, not as drctl reads it
    clients.client("cloudwatch", db.replica.env, region).put_metric_data(
        Namespace=metric.namespace,
        MetricData=[{"MetricName": metric.metric, "Value": seconds * metric.per_second, "Unit": metric.unit,
                     "Dimensions": metric.dimensions(db.replica.id)}],
    )
