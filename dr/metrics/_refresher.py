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

    def __init__(self, sources: Sources, state: ExporterState, clock: Clock, interval: float,
                 *, debug: bool = False) -> None:
        self._sources = sources
        self._debug = debug
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
            lag = pool.submit(self._guarded_lags)
            readers: dict[str, Callable[[], bool]] = {
                names.SOURCE_READINESS: lambda: self._refresh(
                    names.SOURCE_READINESS, lambda: self._sources.readiness(_measured(lag.result()[1]))),
                names.SOURCE_HEALTH: lambda: self._refresh(names.SOURCE_HEALTH, self._sources.health),
                names.SOURCE_DNS: lambda: self._refresh(names.SOURCE_DNS, self._sources.dns),
                names.SOURCE_WRITERS: lambda: self._refresh(
                    names.SOURCE_WRITERS, lambda: self._sources.writers(lag.result()[1])),
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
            except Exception as err:  # the refresher must outlive any bug in a source
                log.error("exporter refresh failed: %s: %s", type(err).__name__, err, exc_info=self._debug)
            self._stop.wait(self._interval)

    def _guarded(self, source: str, read: Callable[[], bool]) -> bool:
        try:
            return read()
        except Exception as err:
            self._log_failure(source, [_describe(err)], err)
            return False

    def _refresh(self, source: str, read: Callable[[], Reading]) -> bool:
        reading = read()
        self._state.update(source, reading, self._now())
        self._log_failure(source, list(reading.errors))
        return not reading.errors

    def _log_failure(self, source: str, failures: list[str], err: Exception | None = None) -> None:
        """One line per failing source per refresh, however many reads failed; the traceback only with debug."""
        if not failures:
            return
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        log.warning("exporter could not read %s: %s%s", source, failures[0], more,
                    exc_info=err if self._debug and err is not None else None)

    def _guarded_lags(self) -> tuple[bool, dict[str, LagSample | None] | None]:
        """Read and store the lag; (ok, samples) with samples None when the read failed as a whole."""
        try:
            samples = self._sources.lags()
        except Exception as err:
            self._log_failure(names.SOURCE_LAG, [_describe(err)], err)
            return False, None
        now = self._now()
        gone = [name for name, sample in samples.items() if sample is None]
        for name in gone:
            self._lag_points.pop(name, None)
        self._state.update_lags({name: self._lag_point(sample, now) for name, sample in samples.items()
                                 if sample is not None}, gone)
        failed = [f"lag of {s.database}: {s.error}" for s in samples.values() if s is not None and s.error]
        self._log_failure(names.SOURCE_LAG, failed)
        return not failed, samples

    def _lag_point(self, sample: LagSample, now: float) -> LagPoint:
        """A fresh datapoint replaces the old one; a failed or empty read keeps it, so its age keeps growing.
        A datapoint of the other direction is never kept: after a move the old lag means nothing."""
        previous = self._lag_points.get(sample.database)
        if previous is not None and (previous.source_region, previous.replica_region) != (
                sample.source_region, sample.replica_region):
            previous = None
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


def _measured(samples: dict[str, LagSample | None] | None) -> dict[str, LagSample] | None:
    """The lag samples that were read (readiness reuses them)."""
    return None if samples is None else {name: s for name, s in samples.items() if s is not None}


def _describe(err: Exception) -> str:
    from dr.aws.errors import describe

    return describe(err)
