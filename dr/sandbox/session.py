"""A running, seeded sandbox: the moto server with the fidelity extensions, the topology seeded into it,
the matching config file, and the environment a drctl process needs to talk to it.

Shared by `drctl sandbox up|demo` and the `dr.testing` fixtures, so users and tests get the same sandbox.
"""

from __future__ import annotations

import os
import sys
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dr.aws.dns_answers import VERIFY_ENV

if TYPE_CHECKING:
    from dr.config.model import Topology
    from dr.sandbox.control import SandboxControl
    from dr.sandbox.server import SandboxServer

EXAMPLE_CONFIG = Path(__file__).resolve().parent.parent / "examples" / "dr.yaml"
"""The packaged example topology: what the sandbox seeds when given nothing else."""

MOTO_SETTINGS: dict[str, str] = {
    "MOTO_ALLOW_NONEXISTENT_REGION": "true",  # the seed's eu-east-1, and regions newer than moto
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",  # ~0.3 s per account and region saved; ASGs launch from any AMI id
}
"""Settings of the moto process; they are read on each request, so they must stay set while it serves."""

FAKE_CREDENTIALS: dict[str, str] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
CLEARED_VARIABLES = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
"""Removed from a sandbox client's environment: a real profile or session must never be used against it."""


def client_env(endpoint: str, config_path: Path | None = None, dns: str | None = None) -> dict[str, str]:
    """What a drctl (or aws-cli, or boto3) process needs to use the sandbox at `endpoint` (and its DNS
    responder at `dns`, HOST:PORT, for data-plane answers)."""
    env = {"AWS_ENDPOINT_URL": endpoint, **FAKE_CREDENTIALS}
    if dns is not None:
        env[VERIFY_ENV] = dns
    if config_path is not None:  # last: `drctl sandbox up` prints it as the end of its export block
        env["DRCTL_CONFIG"] = str(config_path)
    return env


def subprocess_env(values: Mapping[str, str]) -> dict[str, str]:
    """This process's environment for a child using the sandbox: `values` win, real AWS identities go."""
    env = {k: v for k, v in os.environ.items()
           if k not in CLEARED_VARIABLES and not k.startswith("AWS_ENDPOINT_URL_")}
    return {**env, **values}


@contextmanager
def patched_environ(values: Mapping[str, str], cleared: tuple[str, ...] = CLEARED_VARIABLES) -> Iterator[None]:
    """Set `values` (and clear `cleared`) in os.environ for the block, restoring everything afterwards."""
    saved = {k: os.environ.get(k) for k in (*values, *cleared)}
    try:
        for key in cleared:
            os.environ.pop(key, None)
        os.environ.update(values)
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def load_source(config: str | Path | Topology | None) -> Topology:
    """The topology to seed: a model as is, else the file (validated), else the packaged example."""
    from dr.config import load
    from dr.config.model import Topology

    if isinstance(config, Topology):
        return config
    return load(config or EXAMPLE_CONFIG)


def require_moto() -> None:
    """The sandbox needs moto, which only the `sandbox` extra installs: say so instead of a traceback."""
    import importlib.util

    if importlib.util.find_spec("moto") is None:
        from dr.errors import UsageError

        raise UsageError("the sandbox needs moto: install drctl with its sandbox extra, "
                         "e.g. pip install 'drctl[sandbox]' (scripts/demo does this in ./.venv)")


def port_in_use(host: str, port: int) -> bool:
    """Whether something already listens on host:port (checked before starting: the server would exit)."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def drctl_command() -> list[str]:
    """How to start drctl from this interpreter: the console script beside it, else the module entry point."""
    script = Path(sys.executable).with_name("drctl")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from dr.cli.entry import main; main()"]


@dataclass(frozen=True)
class Timings:
    """How long sandbox operations take: promotions (modifying -> available) and Route53 changes (PENDING)."""

    promotion_seconds: float | None = None
    change_pending_seconds: float | None = None

    def apply(self, control: SandboxControl) -> None:
        if self.promotion_seconds is not None:
            control.set_promotion_seconds(self.promotion_seconds)
        if self.change_pending_seconds is not None:
            control.set_change_pending_seconds(self.change_pending_seconds)


class ServedSandbox:
    """A sandbox server seeded from a topology, with its matching config file written to `config_path`."""

    def __init__(self, server: SandboxServer, source: Topology, config_path: Path, timings: Timings) -> None:
        self.server = server
        self.source = source
        self.config_path = config_path
        self.timings = timings
        self.topology: Topology = source

    @property
    def endpoint(self) -> str:
        return self.server.endpoint

    @property
    def control(self) -> SandboxControl:
        """The server's control (an HttpControl): health, lag, timings, promotion events, call stats."""
        return self.server.control

    def env(self) -> dict[str, str]:
        """Variables for a drctl process using this sandbox, its config and its DNS responder."""
        return client_env(self.endpoint, self.config_path, self.server.dns.address)

    def seed(self, source: Topology | None = None) -> Topology:
        """Reset the sandbox and seed it. Writes the config with the real ids and returns the topology."""
        from dr.aws.factory import ClientFactory
        from dr.sandbox.seed import seed
        from dr.sandbox.topology_file import write_topology

        if source is not None:
            self.source = source
        self.reset()
        self.timings.apply(self.control)
        with patched_environ(client_env(self.endpoint)):
            self.topology = seed(self.source, ClientFactory(self.source, run_id="sandbox-seed"), self.control,
                                 roles=True)
        write_topology(self.topology, self.config_path)
        return self.topology

    def reset(self) -> None:
        """Empty the sandbox: every AWS resource gone, every knob back to its default."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
        self.control.reset()

    def stop(self) -> None:
        self.server.stop()


def start_unseeded(config_path: Path, *, host: str = "127.0.0.1", port: int = 0,
                   timings: Timings | None = None, config: str | Path | Topology | None = None) -> ServedSandbox:
    """Start the sandbox server on `host:port` (0: a free port) without seeding it; `seed()` does that."""
    require_moto()
    from dr.sandbox._moto_speedups import apply as speed_up_moto
    from dr.sandbox.server import start_server

    speed_up_moto()
    source = load_source(config)
    os.environ.update(MOTO_SETTINGS)
    return ServedSandbox(start_server(host, port), source, config_path, timings or Timings())


def start(config: str | Path | Topology | None, config_path: Path, *, host: str = "127.0.0.1", port: int = 0,
          timings: Timings | None = None) -> ServedSandbox:
    """Start the sandbox server on `host:port` (0: a free port), seed it, write the matching config."""
    sandbox = start_unseeded(config_path, host=host, port=port, timings=timings, config=config)
    try:
        sandbox.seed()
    except BaseException:
        sandbox.stop()
        raise
    return sandbox


@contextmanager
def running(config: str | Path | Topology | None, config_path: Path, **kwargs: Any) -> Iterator[ServedSandbox]:
    """`start`, and stop the server when the block ends."""
    sandbox = start(config, config_path, **kwargs)
    try:
        yield sandbox
    finally:
        sandbox.stop()
