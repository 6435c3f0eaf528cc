"""The exporter's plan evaluator: runs `dr.evaluate` every --evaluate-interval in its own thread.

Its results are kept until the next evaluation replaces them (an evaluation every 30 minutes must not vanish
between two of them); a backup age grows at scrape time from the evaluation's reading, as a lag's sample age
does. An evaluation that fails as a whole counts in `drctl_exporter_errors_total{source="plan"}` and keeps the
previous results.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dr.metrics import names

if TYPE_CHECKING:
    from dr.clock import Clock
    from dr.evaluate.model import CheckOutcome
    from dr.metrics._state import ExporterState, Labels

log = logging.getLogger(__name__)

Evaluate = Callable[[], Sequence["CheckOutcome"]]


@dataclass(frozen=True)
class PlanView:
    """The last evaluation as the collector exports it."""

    ok: dict[Labels, float] = field(default_factory=dict)
    reasons: dict[Labels, float] = field(default_factory=dict)
    backup_ages: dict[Labels, float] = field(default_factory=dict)
    """Ages at `evaluated_at`; the collector adds the time since."""
    evaluated_at: float | None = None


def view_of(outcomes: Sequence[CheckOutcome], at: float) -> PlanView:
    ok: dict[Labels, float] = {}
    reasons: dict[Labels, float] = {}
    ages: dict[Labels, float] = {}
    for outcome in outcomes:
        ok[(outcome.check, outcome.env)] = 1.0 if outcome.ok else 0.0
        reasons[(outcome.check, outcome.env, outcome.reason[:names.PLAN_REASON_MAX_CHARS])] = 1.0
        for finding in outcome.findings:
            labels = dict(finding.labels)
            if outcome.check == "dr-backup" and finding.value is not None and labels.keys() >= {"database", "region"}:
                ages[(labels["database"], labels["region"])] = finding.value
    return PlanView(ok, reasons, ages, at)


class PlanEvaluator:
    """Evaluates the plan now and then every `interval` seconds until stopped."""

    def __init__(self, evaluate: Evaluate, state: ExporterState, clock: Clock, interval: float,
                 *, debug: bool = False) -> None:
        self._evaluate = evaluate
        self._state = state
        self._clock = clock
        self._interval = interval
        self._debug = debug
        self._lock = threading.Lock()
        self._view = PlanView()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def view(self) -> PlanView:
        with self._lock:
            return self._view

    def evaluate_once(self) -> bool:
        """Evaluate now; True when the evaluation ran (whether its checks passed or not)."""
        now = self._clock.now().timestamp()
        try:
            outcomes = self._evaluate()
        except Exception as err:
            log.warning("exporter could not evaluate the plan: %s: %s", type(err).__name__, err,
                        exc_info=err if self._debug else None)
            self._state.record_outcome(names.SOURCE_PLAN, False, now)
            return False
        with self._lock:
            self._view = view_of(outcomes, now)
        self._state.record_outcome(names.SOURCE_PLAN, True, now)
        return True

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="drctl-exporter-plan", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.evaluate_once()
            self._stop.wait(self._interval)
