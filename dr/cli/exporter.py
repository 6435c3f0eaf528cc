"""`drctl exporter`: serve replication lag, readiness, health and active site to Prometheus until SIGTERM."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from dr.cli.common import ConfigOpt

if TYPE_CHECKING:
    from dr.metrics.exporter import Exporter

MAX_INTERVAL_SECONDS = 3600.0
"""Readings older than the lag alerts' windows are no monitoring; this also bounds the refresher's wait."""


def exporter_cmd(
    config: ConfigOpt = None,
    port: Annotated[int, typer.Option("--port", help="TCP port to serve /metrics and /healthz on.")] = 9877,
    address: Annotated[str, typer.Option("--address", help="Address to bind (0.0.0.0 for all).")] = "127.0.0.1",
    interval: Annotated[str, typer.Option("--interval", help="How often to read AWS (90s, 5m, ...).")] = "60s",
    debug: Annotated[bool, typer.Option("--debug", help="Log tracebacks of failed reads and AWS SDK details.")] = False,
) -> None:
    """Prometheus exporter: reads AWS in the background every --interval; scrapes are served from memory."""
    import logging

    from dr.cli.common import load_topology
    from dr.cli.option_checks import port as check_port
    from dr.config.durations import parse_duration
    from dr.errors import UsageError
    from dr.metrics.exporter import Exporter

    check_port(port)
    try:
        seconds = parse_duration(interval)
    except ValueError as err:
        raise UsageError(f"--interval {interval!r}: {err}") from None
    if not 0 < seconds <= MAX_INTERVAL_SECONDS:
        raise UsageError(f"--interval {interval!r}: must be more than 0 seconds and at most 1h (e.g. 60s)")
    # drctl's own messages at INFO: one line per failing source per refresh. The AWS SDK's own retry and
    # connection warnings would repeat each of those many times: only with --debug.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("dr").setLevel(logging.DEBUG if debug else logging.INFO)
    for noisy in ("botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if debug else logging.ERROR)
    topology = load_topology(config)
    serve(Exporter(topology, interval=seconds, debug=debug), address, port)


def serve(exporter: Exporter, address: str, port: int) -> None:
    """Run until SIGTERM or SIGINT, then stop the server and the refresher and return (exit 0)."""
    import signal
    import threading

    stop = threading.Event()

    def _on_signal(signum: int, _frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        host, bound = _start(exporter, address, port)
        sys.stderr.write(f"drctl exporter listening on http://{host}:{bound}/metrics "
                         f"(refresh every {exporter.interval:g}s)\n")
        sys.stderr.flush()
        while not stop.wait(1.0):
            pass
    finally:
        exporter.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    sys.stderr.write("drctl exporter stopped\n")


def _start(exporter: Exporter, address: str, port: int) -> tuple[str, int]:
    from dr.errors import UsageError

    try:
        return exporter.start(address, port)
    except OSError as err:  # port taken, address not local: the operator's to fix, not a traceback
        raise UsageError(f"cannot listen on {address}:{port}: {err.strerror or err}; "
                         "choose another --port or --address") from None


def register(app: typer.Typer) -> None:
    app.command("exporter")(exporter_cmd)
