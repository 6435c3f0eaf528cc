"""What the exporter knows, held in memory between refreshes; scrapes read it, only the refresher writes it.

Staleness policy (what a failed read does to a series):
- Replication lag follows the direction replication runs in now (`dr.metrics._direction`); a database with
  no copy replicating has no lag series at all (never a stale "healthy" value of the old direction).
- Replication lag keeps its last value and the *time of its datapoint*: the sample age is computed at scrape
  time, so it keeps growing while reads fail and `DRLagMetricStale` fires. A database never read has an
  age of +Inf.
- Readiness, health-check and active-site series keep their last value for `hold_seconds` (default three
  refresh intervals, so one flaky read does not reset an alert's `for`), then disappear: after that the
  exporter would be asserting something it no longer knows.
Every failed read increments `drctl_exporter_errors_total{source}`, and a refresh with any failure does not
advance `drctl_exporter_last_refresh_timestamp_seconds`.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

Labels = tuple[str, ...]


@dataclass(frozen=True)
class LagPoint:
    """The newest known lag of one database and the unix time of its datapoint (None: never read)."""

    database: str
    source_region: str
    replica_region: str
    seconds: float | None
    observed_at: float | None


@dataclass(frozen=True)
class Reading:
    """One source's read: values by label tuple, the label prefixes it fully re-read, and what failed.

    A series whose labels start with a `covered` prefix but is absent from `values` is gone (e.g. a record
    that now points at the other side); series under uncovered prefixes are kept until they expire.
    """

    values: dict[Labels, float] = field(default_factory=dict)
    covered: frozenset[Labels] = frozenset()
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Held:
    value: float
    read_at: float


@dataclass(frozen=True)
class Snapshot:
    """A consistent copy of the state for one scrape."""

    lags: dict[str, LagPoint]
    series: dict[str, dict[Labels, float]]
    errors: dict[str, int]
    source_success: dict[str, float]
    last_refresh: float | None
    refresh_duration: float | None
    last_attempt: float | None


class ExporterState:
    """Thread-safe store of the latest readings; `snapshot()` is what a scrape sees."""

    def __init__(self, lags: dict[str, LagPoint], sources: tuple[str, ...], hold_seconds: float) -> None:
        self._lock = threading.Lock()
        self._lags = dict(lags)
        self._series: dict[str, dict[Labels, _Held]] = {}
        self._errors: Counter[str] = Counter(dict.fromkeys(sources, 0))
        self._source_success: dict[str, float] = {}
        self._hold = hold_seconds
        self._last_refresh: float | None = None
        self._refresh_duration: float | None = None
        self._last_attempt: float | None = None

    def update_lags(self, points: dict[str, LagPoint], gone: list[str] | tuple[str, ...] = ()) -> None:
        """Store fresh lag points; databases in `gone` have no copy to read lag on now: their series go."""
        with self._lock:
            for name in gone:
                self._lags.pop(name, None)
            self._lags.update(points)

    def update(self, source: str, reading: Reading, now: float) -> None:
        """Merge a source's reading read at unix time `now`, counting its failures."""
        with self._lock:
            held = self._series.setdefault(source, {})
            for key in [k for k in held if _under(k, reading.covered) and k not in reading.values]:
                del held[key]
            for key, value in reading.values.items():
                held[key] = _Held(value, now)

    def record_outcome(self, source: str, ok: bool, now: float) -> None:
        with self._lock:
            if ok:
                self._source_success[source] = now
            else:
                self._errors[source] += 1

    def finish_refresh(self, now: float, duration: float, all_ok: bool) -> None:
        with self._lock:
            self._last_attempt = now
            self._refresh_duration = duration
            if all_ok:
                self._last_refresh = now

    def snapshot(self, now: float) -> Snapshot:
        """The current view; held series older than the hold time are dropped here."""
        with self._lock:
            for held in self._series.values():
                for key in [k for k, h in held.items() if now - h.read_at > self._hold]:
                    del held[key]
            return Snapshot(
                lags=dict(self._lags),
                series={source: {k: h.value for k, h in held.items()} for source, held in self._series.items()},
                errors=dict(self._errors),
                source_success=dict(self._source_success),
                last_refresh=self._last_refresh,
                refresh_duration=self._refresh_duration,
                last_attempt=self._last_attempt,
            )


def _under(key: Labels, prefixes: frozenset[Labels]) -> bool:
    return any(key[: len(prefix)] == prefix for prefix in prefixes)
