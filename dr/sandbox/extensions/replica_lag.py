"""Replication-lag metrics: CloudWatch answers with fresh datapoints for each registered replica (and, once
`default_lag_seconds` is set, for every other replica too, as AWS publishes lag for every replica).

moto publishes no RDS metrics. moto's CloudWatch backend asks every `CloudWatchMetricProvider`
subclass for metrics on each read (`GetMetricData`, `GetMetricStatistics`, `ListMetrics`), so the
sandbox registers one provider; real `put_metric_data` keeps working alongside. The metric, its
dimensions and unit are AWS's, from its documentation (`AWS_LAG_METRICS` below), never from drctl's own table
(`dr.aws.lag_metrics`): the sandbox plays AWS, so a wrong name in drctl finds no datapoints here as it would
find none in AWS (tests/test_sandbox_ext_lag.py checks that both agree). Published in the replica's account and
region. A database that is no longer a replica (promoted, deleted) gets no datapoints.

AWS's pages:
- "Amazon CloudWatch metrics for Amazon RDS" (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-metrics.html)
  and "Monitoring MariaDB read replicas" / "Monitoring MySQL read replica lag" (RDS User Guide): `ReplicaLag`, in
  the `AWS/RDS` namespace, dimension `DBInstanceIdentifier`, unit Seconds (Seconds_Behind_Master); -1 when
  replication is not active.
- "Amazon CloudWatch metrics for Amazon Aurora"
  (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.AuroraMonitoring.Metrics.html):
  `AuroraBinlogReplicaLag` (Aurora MySQL binary log replica cluster; Seconds, Seconds_Behind_Master) and the
  cluster-level `AuroraGlobalDBReplicationLag` (Aurora global database, secondary Regions only; Milliseconds);
  "Amazon CloudWatch dimensions for Aurora" (same guide): `DBClusterIdentifier` and `Role`.

An Aurora replica cluster's `AuroraBinlogReplicaLag` is published for DBClusterIdentifier + Role=WRITER only,
the series AWS recommends ("Amazon CloudWatch metrics for Amazon Aurora": binary log replication only occurs
on the writer instance of the cluster, use the metric of the WRITER role). AWS also aggregates the metric
under other dimension sets (per instance, per cluster across roles); the sandbox leaves those out on purpose,
so that a reader asking for anything but the recommended series finds no datapoints and fails its tests.

The value is the replica's setting while nothing is modelled; once the application load has written to
its source, and whenever its source's region is in outage, each datapoint follows the engine's own rule
(`dr.sandbox.data.lag`): MySQL family 0 once applied and -1 in an outage, PostgreSQL now minus the last
replayed write, Aurora global growing through an outage. Without the load, a replica whose source was fenced
(renamed away) or stopped catches up as its engine shows it (`rds_fence.lag_at`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dr.config.model import Engine
from dr.sandbox.data.lag import lag_series
from dr.sandbox.data.load import catch_up_if_running
from dr.sandbox.extensions import _guard
from dr.sandbox.extensions.rds_fence import lag_at, source_of, writes_stopped_at
from dr.sandbox.extensions.state import STATE, LagKey, LagSetting


@dataclass(frozen=True)
class PublishedLag:
    """One lag series as AWS publishes it (see the module docstring for the pages)."""

    namespace: str
    metric: str
    dimension: str
    """The dimension naming the replica."""
    unit: str
    fixed: tuple[tuple[str, str], ...] = ()
    """Dimensions with a fixed value that complete the series (AuroraBinlogReplicaLag: Role=WRITER)."""

    def dimensions(self, identifier: str) -> list[dict[str, str]]:
        return [{"Name": name, "Value": value} for name, value in ((self.dimension, identifier), *self.fixed)]

    @property
    def per_second(self) -> float:
        """Datapoint units per second of lag."""
        return 1000.0 if self.unit == "Milliseconds" else 1.0


AWS_LAG_METRICS: dict[Engine, PublishedLag] = {
    Engine.RDS_INSTANCE: PublishedLag("AWS/RDS", "ReplicaLag", "DBInstanceIdentifier", "Seconds"),
    Engine.AURORA_CLUSTER: PublishedLag("AWS/RDS", "AuroraBinlogReplicaLag", "DBClusterIdentifier", "Seconds",
                                        (("Role", "WRITER"),)),
    Engine.AURORA_GLOBAL: PublishedLag("AWS/RDS", "AuroraGlobalDBReplicationLag", "DBClusterIdentifier",
                                       "Milliseconds"),
}
"""What AWS publishes per engine, from AWS's CloudWatch metric pages for RDS and Aurora (module docstring)."""
BROKEN = -1.0
"""AWS's value for "replication not active" (RDS User Guide, "Monitoring MariaDB read replicas")."""

HISTORY = 5
"""Datapoints per replica, one a minute (`STATE.metric_period_seconds`) back from the newest: the recent past
readers look at, kept short because moto's GetMetricData cost grows with queries x datapoints."""

_providers: list[type] = []


def install() -> None:
    from moto.cloudwatch import models
    from moto.core.common_models import CloudWatchMetricProvider

    _guard.require_attrs(models.CloudWatchBackend, ["aws_metric_data", "get_all_metrics"], "CloudWatchBackend")
    _guard.require_attrs(models, ["MetricDatum"], "moto.cloudwatch.models")
    _guard.expect_params(
        models.MetricDatum.__init__, ["namespace", "name", "value", "dimensions", "timestamp", "unit"], "MetricDatum"
    )
    if _providers:
        return

    class _ReplicaLagProvider(CloudWatchMetricProvider):
        @staticmethod
        def get_cloudwatch_metrics(account_id: str, region: str) -> list[Any]:
            return datapoints(account_id, region)

    _providers.append(_ReplicaLagProvider)


def register(account_id: str, region: str, engine: str, identifier: str, setting: LagSetting) -> None:
    key = LagKey(account_id, region, Engine(engine).value, identifier)
    with STATE.lock:
        STATE.lag[key] = setting


def datapoints(account_id: str, region: str) -> list[Any]:
    from moto.cloudwatch.models import MetricDatum

    with STATE.lock:
        settings = {k: v for k, v in STATE.lag.items() if k.account_id == account_id and k.region == region}
        default = STATE.default_lag_seconds
    if default is not None:
        for key in replica_keys(account_id, region):
            settings.setdefault(key, LagSetting(default))
    entries = list(settings.items())
    catch_up_if_running()
    now = STATE.now().astimezone(UTC).replace(microsecond=0)
    step = timedelta(seconds=STATE.metric_period_seconds)
    points: list[Any] = []
    for key, setting in entries:
        if setting.seconds is None or not is_replica(key):
            continue
        metric = AWS_LAG_METRICS[Engine(key.engine)]
        newest = now - timedelta(seconds=setting.age_seconds)
        times = [newest - k * step for k in range(HISTORY)]
        values = [BROKEN] * HISTORY if setting.seconds == BROKEN else lag_series(key, setting.seconds, times)
        engine_name, stopped = _source_stopped(key)
        if stopped is not None and setting.seconds != BROKEN and all(v == setting.seconds for v in values):
            values = [lag_at(setting.seconds, engine_name, stopped, at) for at in times]  # nothing modelled
        dims = metric.dimensions(key.identifier)
        for at, seconds in zip(times, values, strict=True):
            value = seconds if seconds == BROKEN else seconds * metric.per_second
            # moto compares naive UTC timestamps
            points.append(MetricDatum(metric.namespace, metric.metric, float(value), dims,
                                      at.replace(tzinfo=None), metric.unit))
    return points


def _source_stopped(key: LagKey) -> tuple[str, datetime | None]:
    """The replica's engine name and when its source stopped taking writes, if it did: a fenced source's
    replicas catch up (see rds_fence)."""
    from moto.rds.models import rds_backends

    backend = rds_backends[key.account_id][key.region]
    replica = (backend.databases if key.engine == Engine.RDS_INSTANCE.value else backend.clusters).get(key.identifier)
    if replica is None or key.engine == Engine.AURORA_GLOBAL.value:
        return "", None
    source = source_of(replica, key.engine)
    stopped = writes_stopped_at(source) if source is not None else None
    engine_name = str(getattr(replica, "engine", "") or "")
    return engine_name, stopped.astimezone(UTC) if stopped is not None else None


def replica_keys(account_id: str, region: str) -> list[LagKey]:
    """Every replica in one account and region, with the engine whose lag metric AWS publishes for it."""
    from moto.rds.models import rds_backends

    backend = rds_backends[account_id][region]
    keys = [LagKey(account_id, region, Engine.RDS_INSTANCE.value, db_id)
            for db_id, db in list(backend.databases.items()) if db.is_replica]
    for cluster_id, cluster in list(backend.clusters.items()):
        if cluster.replication_source_identifier:
            keys.append(LagKey(account_id, region, Engine.AURORA_CLUSTER.value, cluster_id))
        elif _is_global_secondary(cluster):
            keys.append(LagKey(account_id, region, Engine.AURORA_GLOBAL.value, cluster_id))
    return keys


def is_replica(key: LagKey) -> bool:
    """Whether the database is (still) a replica in its backend: promoted or deleted ones publish no lag."""
    from moto.rds.models import rds_backends

    backend = rds_backends[key.account_id][key.region]
    if key.engine == Engine.RDS_INSTANCE.value:
        db = backend.databases.get(key.identifier)
        return bool(db is not None and db.is_replica)
    cluster = backend.clusters.get(key.identifier)
    if cluster is None:
        return False
    if key.engine == Engine.AURORA_CLUSTER.value:
        return bool(cluster.replication_source_identifier)
    return _is_global_secondary(cluster)


def _is_global_secondary(cluster: Any) -> bool:
    from moto.rds.models import rds_backends

    for global_cluster in rds_backends[cluster.account_id]["us-east-1"].global_clusters.values():
        if cluster in global_cluster.members:
            return not cluster.is_writer
    return False
