"""The exporter's background refresher: reads every source on its own schedule into the in-memory state."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from dr.metrics import names
from dr.metrics._state import ExporterState, LagPoint, Reading

if TYPE_CHECKING:
    from dr.checks.lag import LagSample
    from dr.clock import Clock
    from dr.metrics._sources import Sources

log = logging.getLogger(__name__)


class Refresher:
    """Refreshes `state` from `sources` every `interval` seconds in a daemon thread (or on demand)."""

    def __init__(self, sources: Sources, state: ExporterState, clock: Clock, interval: float) -> None:
        self._sources = sources
        self._state = state
        self._clock = clock
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lag_points: dict[str, LagPoint] = {}

    def refresh_once(self) -> bool:
        """Read every source once; True if all were read without error.

        Sources run concurrently (one slow region must not delay the rest), except that readiness waits for
        the lag read and reuses it, so that a refresh reads each CloudWatch series once (and the RDS listings
        of readiness and writers are shared through the sources' per-refresh memo).
        """
        started = self._clock.monotonic()
        self._sources.begin_refresh()
        with ThreadPoolExecutor(max_workers=len(names.SOURCES), thread_name_prefix="drctl-refresh") as pool:
            lag = pool.submit(self._read_lags)
            readers: dict[str, Callable[[], bool]] = {
                names.SOURCE_READINESS: lambda: self._refresh(
                    names.SOURCE_READINESS, lambda: self._sources.readiness(lag.result()[1])),
                names.SOURCE_HEALTH: lambda: self._refresh(names.SOURCE_HEALTH, self._sources.health),
                names.SOURCE_DNS: lambda: self._refresh(names.SOURCE_DNS, self._sources.dns),
                names.SOURCE_WRITERS: lambda: self._refresh(names.SOURCE_WRITERS, self._sources.writers),
            }
            futures = {source: pool.submit(self._guarded, source, read) for source, read in readers.items()}
            outcomes = {names.SOURCE_LAG: lag.result()[0]}
            outcomes.update({source: future.result() for source, future in futures.items()})
        now = self._now()
        for source, ok in outcomes.items():
            self._state.record_outcome(source, ok, now)
        all_ok = all(outcomes.values())
        self._state.finish_refresh(now, self._clock.monotonic() - started, all_ok)
        return all_ok

    def start(self) -> None:
        """Start refreshing in the background; the first refresh begins at once."""
        self._thread = threading.Thread(target=self._loop, name="drctl-exporter-refresher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the loop to stop and wait for a refresh in progress to finish (up to `timeout`)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.refresh_once()
            except Exception:  # the refresher must outlive any bug in a source
                log.exception("exporter refresh failed")
            self._stop.wait(self._interval)

    def _guarded(self, source: str, read: Callable[[], bool]) -> bool:
        try:
            return read()
        except Exception as err:
            from dr.aws.errors import describe

            log.warning("exporter could not read %s: %s", source, describe(err))
            return False

    def _refresh(self, source: str, read: Callable[[], Reading]) -> bool:
        reading = read()
        self._state.update(source, reading, self._now())
        return not reading.errors

    def _read_lags(self) -> tuple[bool, dict[str, LagSample] | None]:
        """Read and store the lag; (ok, samples) with samples None when the read failed as a whole."""
        try:
            samples = self._sources.lags()
        except Exception as err:
            from dr.aws.errors import describe

            log.warning("exporter could not read the replication lag: %s", describe(err))
            return False, None
        now = self._now()
        self._state.update_lags({name: self._lag_point(sample, now) for name, sample in samples.items()})
        failed = [s for s in samples.values() if s.error is not None]
        for sample in failed:
            log.warning("exporter could not read the lag of %s: %s", sample.database, sample.error)
        return not failed, samples

    def _lag_point(self, sample: LagSample, now: float) -> LagPoint:
        """A fresh datapoint replaces the old one; a failed or empty read keeps it, so its age keeps growing."""
        previous = self._lag_points.get(sample.database)
        if sample.error is None and sample.seconds is not None and sample.age_seconds is not None:
            point = LagPoint(sample.database, sample.source_region, sample.replica_region, sample.seconds,
                             now - sample.age_seconds)
        elif previous is not None:
            point = previous
        else:
            point = LagPoint(sample.database, sample.source_region, sample.replica_region, None, None)
        self._lag_points[sample.database] = point
        return point

    def _now(self) -> float:
        return self._clock.now().timestamp()
