"""`drctl exporter`: serve replication lag, readiness, health and active site to Prometheus until SIGTERM."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from dr.cli.common import ConfigOpt, Output, OutputOpt, SimulateOutageOpt

if TYPE_CHECKING:
    from dr.metrics.exporter import Exporter

MAX_INTERVAL_SECONDS = 3600.0
"""Readings older than the lag alerts' windows are no monitoring; this also bounds the refresher's wait."""
MIN_EVALUATE_SECONDS = 60.0
MAX_EVALUATE_SECONDS = 24 * 3600.0
"""A plan evaluation reads every copy, quota and backup: not more often than a minute, at least daily."""


def exporter_cmd(
    *,
    config: ConfigOpt = None,
    port: Annotated[int, typer.Option("--port", help="TCP port to serve /metrics and /healthz on.")] = 9877,
    address: Annotated[str, typer.Option("--address", help="Address to bind (0.0.0.0 for all).")] = "127.0.0.1",
    interval: Annotated[str, typer.Option("--interval", help="How often to read AWS (90s, 5m, ...).")] = "60s",
    debug: Annotated[bool, typer.Option("--debug", help="Log tracebacks of failed reads and AWS SDK details.")] = False,
    evaluate_interval: Annotated[str, typer.Option(
        "--evaluate-interval", help="How often to evaluate the plan (drctl plan evaluate), 1m to 24h.")] = "30m",
    simulate_outage: SimulateOutageOpt = None,
    output: OutputOpt = Output.TEXT,
    check: Annotated[bool, typer.Option(
        "--check", help="Read every source and evaluate the plan once, print the result and exit (0 all fine, "
                        "1 any failure) instead of serving.")] = False,
) -> None:
    """Prometheus exporter: reads AWS in the background every --interval and evaluates the plan every
    --evaluate-interval; scrapes are served from memory."""
    import logging

    from dr.aws.factory import ClientFactory
    from dr.cli.common import load_topology, outage_faults
    from dr.cli.option_checks import port as check_port
    from dr.metrics.exporter import Exporter

    check_port(port)
    seconds = _duration("--interval", interval, 0.0, MAX_INTERVAL_SECONDS, "more than 0 seconds and at most 1h")
    evaluate_seconds = _duration("--evaluate-interval", evaluate_interval, MIN_EVALUATE_SECONDS,
                                 MAX_EVALUATE_SECONDS, "at least 1m and at most 24h", inclusive_low=True)
    faults = outage_faults(simulate_outage)
    # drctl's own messages at INFO: one line per failing source per refresh. The AWS SDK's own retry and
    # connection warnings would repeat each of those many times: only with --debug.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("dr").setLevel(logging.DEBUG if debug else logging.INFO)
    for noisy in ("botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if debug else logging.ERROR)
    topology = load_topology(config)
    clients = ClientFactory(topology, run_id="exporter", faults=faults)
    exporter = Exporter(topology, clients=clients, interval=seconds, debug=debug, evaluate_interval=evaluate_seconds)
    if check:
        check_once(exporter, output)
        return
    serve(exporter, address, port, output)


def _duration(option: str, text: str, low: float, high: float, bounds: str, *, inclusive_low: bool = False) -> float:
    from dr.config.durations import parse_duration
    from dr.errors import UsageError

    try:
        seconds = parse_duration(text)
    except ValueError as err:
        raise UsageError(f"{option} {text!r}: {err}") from None
    if not (low <= seconds if inclusive_low else low < seconds) or seconds > high:
        raise UsageError(f"{option} {text!r}: must be {bounds}")
    return seconds


def check_once(exporter: Exporter, output: Output) -> None:
    """One refresh and one plan evaluation, printed; exit 1 when a source failed or a plan check failed."""
    from dr.cli.common import print_json

    refreshed = exporter.refresh_once()
    evaluated = exporter.evaluator.evaluate_once() if exporter.evaluator is not None else True
    snap = exporter.state.snapshot(exporter.clock.now().timestamp())
    view = exporter.evaluator.view if exporter.evaluator is not None else None
    plan = {f"{check}/{env}": value == 1.0 for (check, env), value in (view.ok if view else {}).items()}
    reasons = {f"{key[0]}/{key[1]}": key[2] for key in (view.reasons if view else {})}
    ok = refreshed and evaluated and all(plan.values())
    if output is Output.JSON:
        print_json({"ok": ok, "sources_ok": refreshed, "errors": snap.errors, "plan_evaluated": evaluated,
                    "plan": {name: {"ok": passed, "reason": reasons.get(name, "")} for name, passed in plan.items()}})
    else:
        lines = [f"sources: {'all read' if refreshed else 'some failed'} (errors: "
                 f"{', '.join(f'{k}={v}' for k, v in sorted(snap.errors.items()) if v) or 'none'})",
                 f"plan evaluation: {'ran' if evaluated else 'failed'}"]
        lines += [f"  {'PASS' if passed else 'FAIL'} {name}: {reasons.get(name, '')}" for name, passed in plan.items()]
        sys.stdout.write("\n".join(lines) + "\n")
    if not ok:
        raise typer.Exit(1)


def serve(exporter: Exporter, address: str, port: int, output: Output = Output.TEXT) -> None:
    """Run until SIGTERM or SIGINT, then stop the server and the refresher and return (exit 0)."""
    import signal
    import threading

    stop = threading.Event()

    def _on_signal(signum: int, _frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        host, bound = _start(exporter, address, port)
        if output is Output.JSON:
            from dr.cli.common import print_json

            print_json({"event": "listening", "url": f"http://{host}:{bound}/metrics",
                        "interval_seconds": exporter.interval, "evaluate_interval_seconds": exporter.evaluate_interval})
            sys.stdout.flush()
        else:
            sys.stderr.write(f"drctl exporter listening on http://{host}:{bound}/metrics "
                             f"(refresh every {exporter.interval:g}s, plan evaluation every "
                             f"{exporter.evaluate_interval:g}s)\n")
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
