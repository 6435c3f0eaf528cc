"""The exporter's custom collector: turns the in-memory state into metric families at scrape time.

It never calls AWS; the only live computation is the lag sample age (now minus the datapoint's time).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from dr import __version__
from dr.metrics import names
from dr.metrics._state import ExporterState, Labels, Snapshot

if TYPE_CHECKING:
    from dr.clock import Clock
    from dr.config.model import Objectives
    from dr.metrics._evaluator import PlanView


class ExporterCollector:
    """Yields the public gauges (docs/reference.md) and the exporter's own health from `state`."""

    def __init__(self, state: ExporterState, objectives: Objectives, clock: Clock,
                 drill_targets: tuple[str, ...] = (), *, plan: Callable[[], PlanView] | None = None,
                 backup_limits: dict[str, float] | None = None) -> None:
        self._plan = plan
        self._backup_limits = backup_limits or {}
        self._state = state
        self._objectives = objectives
        self._clock = clock
        self._drill_targets = drill_targets

    def describe(self) -> list[Metric]:
        """Nothing up front: the families are produced at collect time (keeps registration cheap)."""
        return []

    def collect(self) -> Iterator[Metric]:
        now = self._clock.now().timestamp()
        snap = self._state.snapshot(now)
        yield from _lag_families(snap, now)
        yield _single(names.RPO_TARGET, float(self._objectives.rpo))
        yield _single(names.RTO_TARGET, float(self._objectives.rto))
        yield from _writer_families(snap.series.get(names.SOURCE_WRITERS, {}))
        yield _labelled(names.READINESS_OK, snap.series.get(names.SOURCE_READINESS, {}))
        yield _labelled(names.HEALTH_CHECK_HEALTHY, snap.series.get(names.SOURCE_HEALTH, {}))
        sites = snap.series.get(names.SOURCE_DNS, {})
        yield _labelled(names.ACTIVE_SITE, sites)
        yield _labelled(names.ACTIVE_SITE_INFO, {key: 1.0 for key, value in sites.items() if value == 1.0})
        yield _labelled(names.DRILL_TARGET_INFO, {(target,): 1.0 for target in self._drill_targets})
        if self._plan is not None:
            yield from _plan_families(self._plan(), now)
            yield _labelled(names.DR_BACKUP_MAX_AGE, {(db,): limit for db, limit in self._backup_limits.items()})
        yield _labelled(names.BUILD_INFO, {(__version__,): 1.0})
        yield from _exporter_families(snap)


def _lag_families(snap: Snapshot, now: float) -> Iterator[Metric]:
    lag = GaugeMetricFamily(names.REPLICATION_LAG.name, names.REPLICATION_LAG.help,
                            labels=list(names.REPLICATION_LAG.labels))
    age = GaugeMetricFamily(names.LAG_SAMPLE_AGE.name, names.LAG_SAMPLE_AGE.help,
                            labels=list(names.LAG_SAMPLE_AGE.labels))
    for name in sorted(snap.lags):
        point = snap.lags[name]
        if point.seconds is not None:
            lag.add_metric([point.database, point.source_region, point.replica_region], point.seconds)
        sample_age = math.inf if point.observed_at is None else max(0.0, now - point.observed_at)
        age.add_metric([point.database], sample_age)
    yield lag
    yield age


def _plan_families(view: PlanView, now: float) -> Iterator[Metric]:
    """Plan checks and reasons as last evaluated; backup ages grown by the time since that evaluation."""
    yield _labelled(names.PLAN_CHECK_OK, view.ok)
    yield _labelled(names.PLAN_CHECK_INFO, view.reasons)
    if view.evaluated_at is not None:
        yield _single(names.PLAN_EVALUATION_TIMESTAMP, view.evaluated_at)
        since = max(0.0, now - view.evaluated_at)
        yield _labelled(names.DR_BACKUP_AGE, {key: age + since for key, age in view.backup_ages.items()})


def _writer_families(values: dict[Labels, float]) -> Iterator[Metric]:
    """The writers source holds two metrics: its label tuples are (metric name, database)."""
    for metric in (names.WRITERS, names.REPLICATION_UP):
        yield _labelled(metric, {key[1:]: value for key, value in values.items() if key[0] == metric.name})


def _single(metric: names.MetricName, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(metric.name, metric.help, value=value)


def _labelled(metric: names.MetricName, values: dict[Labels, float]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(metric.name, metric.help, labels=list(metric.labels))
    for key in sorted(values):
        family.add_metric(list(key), values[key])
    return family


def _exporter_families(snap: Snapshot) -> Iterator[Metric]:
    errors = CounterMetricFamily(names.EXPORTER_ERRORS.name.removesuffix("_total"), names.EXPORTER_ERRORS.help,
                                 labels=list(names.EXPORTER_ERRORS.labels))
    for source in sorted(snap.errors):
        errors.add_metric([source], float(snap.errors[source]))
    yield errors
    success = GaugeMetricFamily(names.EXPORTER_SOURCE_LAST_SUCCESS.name, names.EXPORTER_SOURCE_LAST_SUCCESS.help,
                                labels=list(names.EXPORTER_SOURCE_LAST_SUCCESS.labels))
    for source in sorted(snap.source_success):
        success.add_metric([source], snap.source_success[source])
    yield success
    if snap.last_refresh is not None:
        yield _single(names.EXPORTER_LAST_REFRESH, snap.last_refresh)
    if snap.refresh_duration is not None:
        yield _single(names.EXPORTER_REFRESH_DURATION, snap.refresh_duration)
