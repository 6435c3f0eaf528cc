"""`drctl sandbox up|demo|outage`: the embedded AWS sandbox (moto server + fidelity extensions) seeded from a
topology, and a regional outage in a running one."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dr.cli.common import Output, OutputOpt, print_json

if TYPE_CHECKING:
    from dr.sandbox.session import ServedSandbox

sandbox_app = typer.Typer(help="The embedded AWS sandbox: a local moto server seeded from a topology.",
                          no_args_is_help=True)

SeedConfigOpt = Annotated[
    str | None,
    typer.Option("--config", "-c", help="Topology to seed (default: the packaged example dr/examples/dr.yaml).",
                 show_default=False),
]
PromotionOpt = Annotated[float, typer.Option("--promotion-seconds", min=0,
                                             help="How long an RDS/Aurora promotion stays 'modifying'.")]
PendingOpt = Annotated[float, typer.Option("--change-pending-seconds", min=0,
                                           help="How long a Route53 change stays PENDING before INSYNC.")]


@sandbox_app.command("up")
def up_cmd(
    *,
    config: SeedConfigOpt = None,
    host: Annotated[str, typer.Option(help="Address to listen on (keep it loopback).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on (0: any free port).")] = 5000,
    write_config: Annotated[Path, typer.Option("--write-config", help="Where to write the matching topology.")
                            ] = Path("sandbox-dr.yaml"),
    promotion_seconds: PromotionOpt = 3.0,
    change_pending_seconds: PendingOpt = 2.0,
    output: OutputOpt = Output.TEXT,
) -> None:
    """Start the sandbox, seed it, write the matching config, print the environment; serve until Ctrl-C."""
    from dr.errors import UsageError
    from dr.sandbox.session import Timings, port_in_use, start

    if port and port_in_use(host, port):
        raise UsageError(f"{host}:{port} is already in use (another sandbox?): pass --port 0 for any free port, "
                         "or another --port")
    sandbox = start(config, write_config.resolve(), host=host, port=port,
                    timings=Timings(promotion_seconds, change_pending_seconds))
    try:
        _announce(sandbox, output)
        _serve_until_signalled()
    finally:
        sandbox.stop()
    sys.stderr.write("sandbox stopped\n")


@sandbox_app.command("demo")
def demo_cmd(
    *,
    config: SeedConfigOpt = None,
    promotion_seconds: PromotionOpt = 3.0,
    change_pending_seconds: PendingOpt = 2.0,
    output: OutputOpt = Output.TEXT,
) -> None:
    """Start a private sandbox on a free port, seed it, and run the demo: drctl against it, step by step."""
    import tempfile

    from dr.sandbox.demo import closing_lines, run_demo
    from dr.sandbox.session import Timings, running

    with tempfile.TemporaryDirectory(prefix="drctl-demo-") as work:
        timings = Timings(promotion_seconds, change_pending_seconds)
        sys.stderr.write("starting the sandbox and seeding the topology...\n")
        with running(config, Path(work) / "sandbox-dr.yaml", timings=timings) as sandbox:
            sys.stderr.write(f"sandbox at {sandbox.endpoint}, config {sandbox.config_path}\n")
            results = run_demo(sandbox, json_output=output is Output.JSON)
            closing = closing_lines(sandbox) if output is Output.TEXT and results and results[-1].exit_code == 0 else []
    failed = [r for r in results if r.exit_code != 0]
    if output is Output.JSON:
        print_json({"steps": [r.to_dict() for r in results], "succeeded": not failed})
    if failed:
        raise typer.Exit(failed[0].exit_code)
    sys.stderr.write(f"\ndemo finished: {len(results)} step(s), all exit 0\n")
    sys.stderr.write("".join(f"{line}\n" for line in closing))


@sandbox_app.command("outage")
def outage_cmd(
    region: Annotated[str, typer.Argument(help="The region to take down (or, with --end, bring back).")],
    *,
    end: Annotated[bool, typer.Option("--end", help="End the region's outage.")] = False,
    hang_seconds: Annotated[float | None, typer.Option(
        "--hang-seconds", min=0, help="How long each call to a region in outage hangs before it fails.",
        show_default=False)] = None,
    endpoint: Annotated[str | None, typer.Option(
        "--endpoint", help="The sandbox server (default: $AWS_ENDPOINT_URL, as `drctl sandbox up` prints it).",
        show_default=False)] = None,
    output: OutputOpt = Output.TEXT,
) -> None:
    """Start (or --end) a regional outage in a running sandbox: calls to REGION hang, then fail; replication
    from it breaks; its health checks fail; its databases take no writes."""
    from dr.sandbox.control import HttpControl

    control = HttpControl(_sandbox_endpoint(endpoint))
    if hang_seconds is not None:
        control.set_outage_hang_seconds(hang_seconds)
    control.set_outage(region, not end)
    down = control.outages()
    if output is Output.JSON:
        print_json({"region": region, "down": region in down, "outages": down})
        return
    state = f"down since {down[region]}" if region in down else "up"
    others = ", ".join(f"{r} (since {since})" for r, since in sorted(down.items()) if r != region)
    sys.stdout.write(f"{region}: {state}\n" + (f"also down: {others}\n" if others else ""))


def _sandbox_endpoint(endpoint: str | None) -> str:
    import os

    from dr.errors import UsageError

    url = endpoint or os.environ.get("AWS_ENDPOINT_URL")
    if not url:
        raise UsageError("no sandbox to talk to: set AWS_ENDPOINT_URL as `drctl sandbox up` printed it, "
                         "or pass --endpoint http://127.0.0.1:PORT")
    return url


def _announce(sandbox: ServedSandbox, output: Output) -> None:
    env = sandbox.env()
    if output is Output.JSON:
        print_json({"endpoint": sandbox.endpoint, "config": str(sandbox.config_path), "env": env})
    else:
        import shlex

        sys.stdout.write("# drctl sandbox: export these to use it (drctl, aws-cli, boto3):\n")
        for key, value in env.items():
            sys.stdout.write(f"export {key}={shlex.quote(value)}\n")
        sys.stdout.flush()
    sys.stderr.write(f"sandbox serving at {sandbox.endpoint}; config written to {sandbox.config_path}; "
                     "Ctrl-C to stop\n")
    sys.stderr.flush()


def _serve_until_signalled() -> None:
    """Block until SIGINT or SIGTERM (either is the normal way to stop the sandbox)."""
    import signal
    import threading

    stop = threading.Event()

    def handler(signum: int, frame: object) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handler)
    while not stop.wait(0.5):
        pass


def register(app: typer.Typer) -> None:
    app.add_typer(sandbox_app, name="sandbox")
