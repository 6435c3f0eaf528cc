"""Shared fixtures: no test ever reaches real AWS; the example topology; moto in-process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from dr.clock import FakeClock
    from dr.sandbox.control import LocalControl

pytest_plugins = ["dr.testing.fixtures"]  # sandbox, sandbox_server, sandbox_topology, fake_clock

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "dr" / "examples" / "dr.yaml"


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials, a private state dir, no profile or endpoint leaking in from the machine."""
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "DRCTL_CONFIG", "DRCTL_PUSHGATEWAY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("DRCTL_STATE_DIR", str(tmp_path / "drctl-state"))
    if not os.environ.get("DRCTL_DNS_VERIFY", "").startswith("127.0.0.1:"):
        # plain moto has no name servers to ask; a sandbox fixture (module-scoped ones too) names its responder
        monkeypatch.setenv("DRCTL_DNS_VERIFY", "test-dns-answer")


@pytest.fixture(autouse=True)
def _no_controlling_terminal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A confirmation never waits on the terminal pytest runs in: tests give one explicitly (a pty) or none."""
    monkeypatch.setattr("dr.cli.confirm.CONTROLLING_TERMINAL", str(tmp_path / "no-controlling-terminal"))


@pytest.fixture
def example_path() -> Path:
    return EXAMPLE


@pytest.fixture
def aws() -> Iterator[None]:
    """moto in-process for the duration of the test."""
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture
def control_clock() -> FakeClock:
    """The clock `sandbox_control` runs on: 2026-03-01 12:00:00 UTC until the test advances it."""
    from datetime import UTC, datetime

    from dr.clock import FakeClock

    return FakeClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def sandbox_control(aws: None, control_clock: FakeClock) -> Iterator[LocalControl]:
    """moto in-process with the sandbox's extensions, driven by their LocalControl on `control_clock`; every knob
    reset before and after (the seeded in-process sandbox is `sandbox`, from dr.testing.fixtures)."""
    from tests.sandbox_ext_support import local_control

    with local_control(control_clock) as control:
        yield control


@pytest.fixture
def aurora_replica_cluster(sandbox_control: LocalControl) -> str:
    """ledger (aurora-mysql) in eu-central-1 and its cross-Region replica cluster ledger-euw1 in eu-west-1, in the
    sandbox; the replica's id."""
    from tests.sandbox_ext_support import rds

    source = rds("eu-central-1").create_db_cluster(
        DBClusterIdentifier="ledger", Engine="aurora-mysql", MasterUsername="admin", MasterUserPassword="password1",
    )["DBCluster"]
    rds("eu-west-1").create_db_cluster(
        DBClusterIdentifier="ledger-euw1", Engine="aurora-mysql", MasterUsername="admin",
        MasterUserPassword="password1", ReplicationSourceIdentifier=source["DBClusterArn"], SourceRegion="eu-central-1",
    )
    return "ledger-euw1"


@pytest.fixture
def r53(sandbox_control: LocalControl) -> Any:
    """A Route53 client on the sandbox."""
    import boto3

    return boto3.client("route53", region_name="us-east-1")


@pytest.fixture
def example_zone(r53: Any) -> str:
    """The id of a new hosted zone example.com in the sandbox."""
    return str(r53.create_hosted_zone(Name="example.com", CallerReference="zone")["HostedZone"]["Id"].split("/")[-1])


class AwsCalled(AssertionError):
    """Raised by the guard when a refused command still made an AWS client."""


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Any AWS client made (drctl's factory or boto3 directly) fails the command and is recorded."""
    import boto3.session

    made: list[str] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        made.append(f"{args[1:]!r} {kwargs!r}"[:200])
        raise AwsCalled("an AWS client was made for a command that should have been refused first")

    monkeypatch.setattr("dr.aws.factory.ClientFactory.__init__", refuse)
    monkeypatch.setattr(boto3.session.Session, "client", refuse)
    yield made
    assert made == [], f"AWS clients were made: {made}"
