"""The one client factory: assumed roles per environment and region, timeouts, fault hooks."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError

from dr.aws.factory import ClientFactory, session_name
from dr.aws.faults import Faults
from dr.config import load
from dr.config.model import AwsSettings

EXAMPLE = Path(__file__).resolve().parent.parent / "dr" / "examples" / "dr.yaml"


@pytest.fixture
def topology():  # type: ignore[no-untyped-def]
    return load(EXAMPLE)


class TestSessionName:
    def test_names_user_and_run(self) -> None:
        """CloudTrail shows who and which run: drctl-<user>-<run_id>."""
        assert session_name("alice", "20261126-abc") == "drctl-alice-20261126-abc"

    def test_stays_within_aws_limits(self) -> None:
        """RoleSessionName allows 64 characters of [\\w+=,.@-]; anything else is replaced."""
        name = session_name("jane doe/admin", "x" * 100)
        assert len(name) == 64
        assert " " not in name
        assert "/" not in name


@pytest.mark.usefixtures("aws")
class TestClientFactory:
    def test_assumes_each_environments_role(self, topology) -> None:  # type: ignore[no-untyped-def]
        """Clients act in the environment's account, under a session named for the user and run."""
        clients = ClientFactory(topology, run_id="run-1", user="oncall")
        prod = clients.client("sts", "prod", "eu-west-1").get_caller_identity()
        qa = clients.client("sts", "qa").get_caller_identity()
        assert prod["Account"] == "111111111111"
        assert prod["Arn"].endswith(":assumed-role/drctl/drctl-oncall-run-1")
        assert qa["Account"] == "222222222222"

    def test_clients_are_cached_per_service_env_region(self, topology) -> None:  # type: ignore[no-untyped-def]
        """One client per (service, env, region): no repeated set-up on the hot path."""
        clients = ClientFactory(topology)
        assert clients.client("rds", "prod", "eu-west-1") is clients.client("rds", "prod", "eu-west-1")
        assert clients.client("rds", "prod", "eu-west-1") is not clients.client("rds", "prod")

    def test_route53_is_called_in_us_east_1(self, topology) -> None:  # type: ignore[no-untyped-def]
        """Route53's control plane lives in us-east-1."""
        # botocore names Route53's partition-global endpoint "aws-global"; it is served from us-east-1.
        assert ClientFactory(topology).route53("prod").meta.region_name in {"us-east-1", "aws-global"}

    def test_timeouts_and_retries_come_from_settings(self, topology) -> None:  # type: ignore[no-untyped-def]
        """A dead region fails in seconds: explicit connect/read timeouts and attempt count."""
        settings = AwsSettings(connect_timeout=1.5, read_timeout=4, max_attempts=2)
        config = ClientFactory(topology, settings=settings).client("rds", "qa").meta.config
        assert (config.connect_timeout, config.read_timeout) == (1.5, 4)
        assert config.retries["total_max_attempts"] == 2

    def test_outage_fails_every_call_to_that_region_only(self, topology) -> None:  # type: ignore[no-untyped-def]
        """A simulated regional outage fails calls there (role assumption included), not elsewhere."""
        faults = Faults(outage_regions={"eu-central-1"})
        clients = ClientFactory(topology, faults=faults)
        with pytest.raises(ConnectTimeoutError, match="simulated outage of eu-central-1"):
            clients.client("rds", "prod").describe_db_instances()
        assert clients.client("rds", "prod", "eu-west-1").describe_db_instances()["DBInstances"] == []

    def test_dr_region_calls_need_nothing_from_the_failed_region(self, topology) -> None:  # type: ignore[no-untyped-def]
        """Roles are assumed through STS in the region being called, so the DR side never touches the dead one."""
        faults = Faults(outage_regions={"eu-central-1"})
        clients = ClientFactory(topology, faults=faults)
        clients.client("rds", "prod", "eu-west-1").describe_db_instances()
        assert ("sts", "AssumeRole", "eu-west-1") in faults.calls
        assert all(region != "eu-central-1" for _, _, region in faults.calls)

    def test_injected_throttling_counts_down(self, topology) -> None:  # type: ignore[no-untyped-def]
        """`throttle` answers the next N calls of an operation with Throttling, then lets them through."""
        faults = Faults(throttle={"ListHostedZones": 1})
        r53 = ClientFactory(topology, faults=faults).route53("prod")
        with pytest.raises(ClientError, match="Throttling"):
            r53.list_hosted_zones()
        assert r53.list_hosted_zones()["HostedZones"] == []
        assert faults.count("route53", "ListHostedZones") == 2


class TestStsRegionalEndpoints:
    """STS is pinned to the region called, whatever the user's AWS configuration says."""

    @pytest.fixture(params=["env", "config-file"])
    def legacy(self, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        """A user who asked botocore for the legacy (global, us-east-1) STS endpoint, one way or the other."""
        if request.param == "env":
            monkeypatch.setenv("AWS_STS_REGIONAL_ENDPOINTS", "legacy")
        else:
            config = tmp_path / "aws-config"
            config.write_text("[default]\nsts_regional_endpoints = legacy\n")
            monkeypatch.setenv("AWS_CONFIG_FILE", str(config))

    @pytest.mark.usefixtures("legacy")
    def test_role_assumption_uses_the_regional_endpoint(self, topology) -> None:  # type: ignore[no-untyped-def]
        """Without AWS_ENDPOINT_URL, roles for eu-west-1 are assumed at sts.eu-west-1.amazonaws.com."""
        clients = ClientFactory(topology)
        assert clients.role_assumption_client("eu-west-1").meta.endpoint_url == "https://sts.eu-west-1.amazonaws.com"
        assert clients.client("sts", "prod", "eu-west-1").meta.endpoint_url == "https://sts.eu-west-1.amazonaws.com"

    @pytest.mark.usefixtures("legacy", "aws")
    def test_the_assume_role_request_goes_to_the_region_called(self, topology) -> None:  # type: ignore[no-untyped-def]
        """The AssumeRole request of a call to eu-west-1 is sent to eu-west-1's STS, not the global endpoint."""
        clients = ClientFactory(topology)
        sent: list[str] = []
        clients.role_assumption_client("eu-west-1").meta.events.register(
            "before-send.sts", lambda request, **_: sent.append(request.url))
        clients.client("rds", "prod", "eu-west-1").describe_db_instances()
        assert sent == ["https://sts.eu-west-1.amazonaws.com/"]
