"""Replication lag from the CloudWatch metric AWS publishes per engine, and the RPO verdict on it.

Lag is read in the replica's account and region, batched: one GetMetricData call per (account, region)
group and 500 series, never one per database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from dr.aws.cloudwatch import Datapoint, MetricQuery, latest_datapoints
from dr.aws.errors import describe
from dr.aws.lag_metrics import BROKEN, lag_metric
from dr.checks.model import human_seconds
from dr.config.model import Database, Engine, Topology

if TYPE_CHECKING:
    from dr.aws.factory import ClientFactory
    from dr.clock import Clock

DEFAULT_WINDOW_SECONDS = 600.0
"""How far back to look for a lag datapoint: none in this window means "unknown", which fails."""
DEFAULT_MAX_AGE_SECONDS = 300.0
"""A newest datapoint older than this is stale: the metric stopped, which fails (AWS publishes every minute)."""
_PERIOD = timedelta(seconds=60)


@dataclass(frozen=True)
class LagTarget:
    """Where to read one database's lag: the member that is the replica, in its account and region."""

    database: str
    engine: Engine
    env: str
    region: str
    member_id: str
    source_region: str


@dataclass(frozen=True)
class LagSample:
    """The newest lag of one database in seconds (-1 = replication broken, None = no datapoint).

    `age_seconds` counts from the start of the newest datapoint's one-minute period (CloudWatch's timestamp),
    so it errs on the old side by up to a minute: staleness is never under-reported.
    """

    database: str
    source_region: str
    replica_region: str
    seconds: float | None
    age_seconds: float | None
    metric: str = "ReplicaLag"
    window_seconds: float = DEFAULT_WINDOW_SECONDS
    error: str | None = None
    """Set when the metric could not be read at all (region unreachable, access denied...)."""

    @property
    def broken(self) -> bool:
        return self.seconds is not None and self.seconds < 0


def declared_target(topology: Topology, db: Database) -> LagTarget:
    """The topology's declared direction: the `replica` member replicates from the `primary` member."""
    return LagTarget(db.name, db.engine, db.replica.env, topology.region_of(db.replica), db.replica.id,
                     topology.region_of(db.primary))


def read_lags(
    topology: Topology,
    clients: ClientFactory,
    clock: Clock,
    databases: Iterable[str] | None = None,
    window_seconds: float = DEFAULT_WINDOW_SECONDS,
) -> dict[str, LagSample]:
    """Lag of each database (all, or those named) in the declared direction, keyed by database name."""
    wanted = set(databases) if databases is not None else None
    targets = [declared_target(topology, db) for db in topology.databases if wanted is None or db.name in wanted]
    return read_lag_targets(targets, clients, clock, window_seconds)


def read_lag_targets(
    targets: Iterable[LagTarget], clients: ClientFactory, clock: Clock, window_seconds: float = DEFAULT_WINDOW_SECONDS
) -> dict[str, LagSample]:
    """Lag of each target; the (account, region) groups are read concurrently, one call per 500 series each."""
    groups: dict[tuple[str, str], list[LagTarget]] = defaultdict(list)
    for target in targets:
        groups[(target.env, target.region)].append(target)
    if not groups:
        return {}
    samples: dict[str, LagSample] = {}
    with ThreadPoolExecutor(max_workers=min(8, len(groups))) as pool:
        futures = [pool.submit(_read_group, clients, clock, group, members, window_seconds)
                   for group, members in groups.items()]
        for future in futures:
            samples.update(future.result())
    return samples


def _read_group(
    clients: ClientFactory, clock: Clock, group: tuple[str, str], targets: list[LagTarget], window_seconds: float
) -> dict[str, LagSample]:
    env, region = group
    queries = [_query(t) for t in targets]
    now = clock.now()
    try:
        client = clients.client("cloudwatch", env, region)
        # EndTime one period ahead: the current, still filling minute counts as recent, not as missing
        points = latest_datapoints(client, queries, now - timedelta(seconds=window_seconds), now + _PERIOD)
    except Exception as exc:  # one unreachable region must not hide the lag of the others
        return {t.database: _sample(t, None, window_seconds, now, error=describe(exc)) for t in targets}
    return {t.database: _sample(t, points.get(t.database), window_seconds, now) for t in targets}


def _query(target: LagTarget) -> MetricQuery:
    m = lag_metric(target.engine)
    return MetricQuery(target.database, m.namespace, m.metric, m.dimensions(target.member_id))


def _sample(
    target: LagTarget, point: Datapoint | None, window: float, now: datetime, error: str | None = None
) -> LagSample:
    m = lag_metric(target.engine)
    seconds = age = None
    if point is not None:
        seconds = BROKEN if point.value < 0 else point.value * m.to_seconds
        age = max(0.0, (now - point.timestamp).total_seconds())
    return LagSample(target.database, target.source_region, target.region, seconds, age,
                     metric=m.metric, window_seconds=window, error=error)


def rpo_verdict(
    sample: LagSample, rpo_seconds: float, max_age_seconds: float = DEFAULT_MAX_AGE_SECONDS
) -> tuple[bool, str]:
    """Pass only on a fresh datapoint within the RPO. Broken (-1), unknown (no datapoint), stale, over: fail."""
    metric = sample.metric
    if sample.error is not None:
        return False, f"could not read {metric}: {sample.error}"
    if sample.seconds is None or sample.age_seconds is None:
        return False, f"no {metric} datapoint in the last {human_seconds(sample.window_seconds)}"
    if sample.broken:
        return False, f"{metric} -1: replication broken"
    if sample.age_seconds > max_age_seconds:
        return False, (f"newest {metric} datapoint is {human_seconds(sample.age_seconds)} old "
                       f"(> {human_seconds(max_age_seconds)}): metric stale")
    if sample.seconds > rpo_seconds:
        return False, f"lag {sample.seconds:.0f} s > RPO {rpo_seconds:.0f} s"
    return True, f"lag {sample.seconds:.0f} s <= RPO {rpo_seconds:.0f} s"
