"""The drctl Prometheus exporter: a background refresher reads AWS, an HTTP server serves from memory.

`GET /metrics` (and `/`) returns the exposition, `GET /healthz` says whether the refresher is alive and
recent (200) or not (503). AWS being unreachable does not make /healthz fail: that shows in the metrics
(`drctl_exporter_errors_total`), and restarting the exporter would not fix AWS.

The HTTP server accepts with a listen backlog of `LISTEN_BACKLOG` and hands each connection to a bounded pool
of `HTTP_WORKERS` threads; a connection that sends nothing for `CONNECTION_TIMEOUT_SECONDS` is closed, so idle
clients never hold the workers for long and never grow the thread count.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry

from dr.clock import SYSTEM_CLOCK, Clock
from dr.metrics import names
from dr.metrics._collector import ExporterCollector
from dr.metrics._evaluator import Evaluate, PlanEvaluator
from dr.metrics._exposition import SharedExposition
from dr.metrics._http import Answer, PooledServer
from dr.metrics._refresher import Refresher
from dr.metrics._sources import AwsSources, Sources
from dr.metrics._state import ExporterState, LagPoint

if TYPE_CHECKING:
    from dr.aws.factory import ClientFactory
    from dr.config.model import Topology

DEFAULT_PORT = 9877
DEFAULT_ADDRESS = "127.0.0.1"
DEFAULT_INTERVAL_SECONDS = 60.0
HOLD_INTERVALS = 3
"""Readiness/health/DNS series survive this many refresh intervals of failed reads before disappearing."""
LAG_WINDOW_SECONDS = 600.0
DEFAULT_EVALUATE_INTERVAL_SECONDS = 1800.0
"""Plan evaluation every 30 minutes, as AWS ARC Region switch evaluates its plans."""
LISTEN_BACKLOG = 256
"""Pending connections the kernel queues before refusing (socketserver's default of 5 drops scrapes)."""
HTTP_WORKERS = 16
"""Threads that answer requests; more connections wait in the backlog or the pool's queue, not in threads."""
CONNECTION_TIMEOUT_SECONDS = 10.0
"""A connection that sends no complete request within this time is closed."""

log = logging.getLogger(__name__)

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


@dataclass(frozen=True)
class Health:
    ok: bool
    detail: dict[str, Any]


class Exporter:
    """Wires the state, the refresher, the collector and the HTTP server for one topology."""

    def __init__(self, topology: Topology, *, sources: Sources | None = None, clients: ClientFactory | None = None,
                 clock: Clock = SYSTEM_CLOCK, interval: float = DEFAULT_INTERVAL_SECONDS, debug: bool = False,
                 workers: int = HTTP_WORKERS, connection_timeout: float = CONNECTION_TIMEOUT_SECONDS,
                 evaluate: Evaluate | None = None,
                 evaluate_interval: float = DEFAULT_EVALUATE_INTERVAL_SECONDS) -> None:
        """`evaluate` runs the plan evaluation (default with `sources` None: `dr.evaluate.evaluate` on AWS; with
        fake `sources` and no `evaluate`, no plan evaluation)."""
        self.clock = clock
        self.interval = interval
        self.evaluate_interval = evaluate_interval
        if sources is None:
            from dr.aws.factory import ClientFactory

            factory = clients or ClientFactory(topology, run_id="exporter")
            sources = AwsSources(topology, factory, clock, LAG_WINDOW_SECONDS)
            evaluate = evaluate or _aws_evaluation(topology, factory, clock)
        self.state = ExporterState(_initial_lags(topology), names.ERROR_SOURCES,
                                   hold_seconds=HOLD_INTERVALS * interval)
        self.refresher = Refresher(sources, self.state, clock, interval, debug=debug)
        self.evaluator = (PlanEvaluator(evaluate, self.state, clock, evaluate_interval, debug=debug)
                          if evaluate is not None else None)
        self.registry = CollectorRegistry(auto_describe=False)
        drill_targets = tuple(sorted(name for name, env in topology.environments.items() if env.dr_for))
        evaluator = self.evaluator
        plan = (lambda: evaluator.view) if evaluator is not None else None
        limits = {db.name: setting.max_age for db in topology.databases
                  if (setting := topology.dr_backup_of(db)) is not None}
        self.registry.register(ExporterCollector(self.state, topology.objectives, clock, drill_targets, plan=plan,
                                                 backup_limits=limits if evaluator is not None else {}))
        self._workers = workers
        self._connection_timeout = connection_timeout
        self.exposition = SharedExposition(self.registry)
        self._server: PooledServer | None = None
        self._server_thread: threading.Thread | None = None
        self._started_at = clock.now().timestamp()

    def refresh_once(self) -> bool:
        """Read every source now (tests and benchmarks; the server refreshes in the background)."""
        return self.refresher.refresh_once()

    def start(self, address: str = DEFAULT_ADDRESS, port: int = DEFAULT_PORT) -> tuple[str, int]:
        """Start refreshing and serving; returns the bound (address, port) (port 0 picks a free one)."""
        self._started_at = self.clock.now().timestamp()
        bound = self.serve(address, port)  # bind first: a taken port must not leave a refresher running
        self.refresher.start()
        if self.evaluator is not None:
            self.evaluator.start()
        return bound

    def serve(self, address: str = DEFAULT_ADDRESS, port: int = DEFAULT_PORT) -> tuple[str, int]:
        """Serve HTTP from the current state without starting the refresher (benchmarks; `start` does both)."""
        server = PooledServer((address, port), self.respond, backlog=LISTEN_BACKLOG, workers=self._workers,
                              timeout=self._connection_timeout)
        self._server = server
        self._server_thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                               name="drctl-exporter-http", daemon=True)
        self._server_thread.start()
        return address, int(server.server_address[1])

    def stop(self) -> None:
        """Stop serving, then stop the refresher (a refresh in progress finishes or times out)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._server_thread is not None:
            self._server_thread.join(5)
        self.refresher.stop()
        if self.evaluator is not None:
            self.evaluator.stop()

    def health(self) -> Health:
        """Healthy when the refresher runs and has attempted a refresh within three intervals (+30 s slack)."""
        now = self.clock.now().timestamp()
        snap = self.state.snapshot(now)
        reference = snap.last_attempt if snap.last_attempt is not None else self._started_at
        recent = now - reference <= HOLD_INTERVALS * self.interval + 30
        ok = self.refresher.alive and recent
        return Health(ok, {"status": "ok" if ok else "unhealthy", "refresher_alive": self.refresher.alive,
                           "last_refresh_attempt": snap.last_attempt, "last_full_refresh": snap.last_refresh,
                           "errors": snap.errors})

    def respond(self, path: str) -> Answer:
        """The answer to `GET path`: /metrics (and /) the exposition, /healthz the health, else 404."""
        if path == "/healthz":
            health = self.health()
            return (200 if health.ok else 503), "application/json", json.dumps(health.detail).encode()
        if path in ("/", "/metrics"):
            return 200, self.exposition.content_type, self.exposition.body()
        return 404, "text/plain", b"not found: try /metrics or /healthz\n"

    def wsgi_app(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """The same answers as a WSGI app (to mount the exporter in another server)."""
        status, content_type, body = self.respond(environ.get("PATH_INFO", "/"))
        start_response(f"{status} {HTTPStatus(status).phrase}",
                       [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]


def _aws_evaluation(topology: Topology, clients: ClientFactory, clock: Clock) -> Evaluate:
    from dr.evaluate import evaluate

    return lambda: evaluate(topology, clients, clock)


def _initial_lags(topology: Topology) -> dict[str, LagPoint]:
    """Every database starts as never read (sample age +Inf), so a silent exporter is visible at once."""
    from dr.checks.lag import declared_target

    points = {}
    for db in topology.databases:
        target = declared_target(topology, db)
        points[db.name] = LagPoint(db.name, target.source_region, target.region, None, None)
    return points
