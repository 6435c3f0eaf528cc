"""The sandbox for tests, without pytest: in-process (moto mocked in this process) or a server for drctl
processes. The pytest fixtures in `dr.testing.fixtures` wrap these."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dr.aws.dns_answers import VERIFY_ENV
from dr.sandbox.dns_responder import DnsResponder
from dr.sandbox.session import (
    MOTO_SETTINGS,
    ServedSandbox,
    Timings,
    drctl_command,
    load_source,
    patched_environ,
    subprocess_env,
)

if TYPE_CHECKING:
    from dr.aws.factory import ClientFactory
    from dr.clock import Clock
    from dr.config.model import Topology
    from dr.sandbox.control import LocalControl, SandboxControl


@dataclass
class InProcessSandbox:
    """moto mocked in this process, extensions installed, the topology seeded.

    `topology` has the sandbox's real zone and health-check ids; `clients` is a ClientFactory for it;
    `control` acts on the sandbox (health, lag, timings); `config_path` is the topology written as YAML.
    """

    topology: Topology
    source: Topology
    clients: ClientFactory
    control: LocalControl
    config_path: Path
    dns_address: str = ""
    """HOST:PORT of the sandbox's DNS responder (set as DRCTL_DNS_VERIFY while the sandbox is up)."""


@contextmanager
def in_process_sandbox(config: str | Path | Topology | None, workdir: Path, *, clock: Clock | None = None,
                       timings: Timings | None = None) -> Iterator[InProcessSandbox]:
    """Seed `config` (default: the packaged example) into a fresh in-process moto for the block."""
    from moto import mock_aws

    from dr.aws.factory import ClientFactory
    from dr.sandbox._moto_speedups import apply as speed_up_moto
    from dr.sandbox.control import LocalControl
    from dr.sandbox.seed import seed
    from dr.sandbox.topology_file import write_topology

    speed_up_moto()
    source = load_source(config)
    dns = DnsResponder()  # answers from this process's moto: failover-routing verified in the data plane
    try:
        with patched_environ({**MOTO_SETTINGS, "AWS_DEFAULT_REGION": "us-east-1", VERIFY_ENV: dns.address}), \
                mock_aws():
            control = LocalControl(clock)
            control.reset()
            (timings or Timings()).apply(control)
            seeded = seed(source, ClientFactory(source, run_id="sandbox-seed"), control)
            path = write_topology(seeded, workdir / "sandbox-dr.yaml")
            try:
                yield InProcessSandbox(seeded, source, ClientFactory(seeded, run_id="test"), control, path,
                                       dns.address)
            finally:
                control.reset()
    finally:
        dns.stop()


@dataclass
class ServerSandbox:
    """A seeded sandbox server, and how to run drctl against it as a separate process."""

    served: ServedSandbox
    state_dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def endpoint(self) -> str:
        return self.served.endpoint

    @property
    def control(self) -> SandboxControl:
        """HttpControl of the server: health, lag, timings, promotion events, call stats."""
        return self.served.control

    @property
    def topology(self) -> Topology:
        return self.served.topology

    @property
    def config_path(self) -> Path:
        return self.served.config_path

    @property
    def env(self) -> dict[str, str]:
        """Variables for a drctl process: endpoint, fake credentials, DRCTL_CONFIG, DRCTL_STATE_DIR."""
        return {**self.served.env(), "DRCTL_STATE_DIR": str(self.state_dir), **self.extra_env}

    def clients(self, run_id: str = "test") -> ClientFactory:
        """A ClientFactory for the seeded topology; use it inside `with sandbox.aws_env():`."""
        from dr.aws.factory import ClientFactory

        return ClientFactory(self.topology, run_id=run_id)

    def boto3_client(self, service: str, env: str, region: str | None = None) -> Any:
        """A plain boto3 client in `env`'s account through the sandbox endpoint, independent of drctl's
        ClientFactory: for asserting AWS state after a drctl run without trusting drctl's own code."""
        import boto3

        from dr.sandbox.seed import SANDBOX_ROLE

        where = self.topology.environments[env]
        region = region or where.region
        plain = {"region_name": region, "endpoint_url": self.endpoint}
        sts = boto3.client("sts", aws_access_key_id="testing", aws_secret_access_key="testing", **plain)
        role = where.role_arn or f"arn:aws:iam::{where.account_id}:role/{SANDBOX_ROLE}"
        creds = sts.assume_role(RoleArn=role, RoleSessionName="drctl-test-check")["Credentials"]
        return boto3.client(service, aws_access_key_id=creds["AccessKeyId"],
                            aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"],
                            **plain)

    @contextmanager
    def aws_env(self) -> Iterator[None]:
        """This process's boto3 clients talk to the sandbox server within the block."""
        with patched_environ(self.env):
            yield

    def run_drctl(self, *args: str, env: Mapping[str, str] | None = None, input: str | None = None,
                  timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """`drctl ARGS...` as a subprocess against the sandbox; output captured as text, never raises on exit."""
        return subprocess.run(
            [*drctl_command(), *args], env=subprocess_env({**self.env, **(env or {})}), input=input,
            capture_output=True, text=True, timeout=timeout, check=False,
        )


@contextmanager
def served_sandbox(config: str | Path | Topology | None, workdir: Path, *,
                   timings: Timings | None = None) -> Iterator[ServerSandbox]:
    """A sandbox server on a free loopback port, seeded from `config`, stopped when the block ends."""
    from dr.sandbox.session import running

    with running(config, workdir / "sandbox-dr.yaml", timings=timings) as served:
        yield ServerSandbox(served, workdir / "drctl-state")
