"""`drctl sandbox up|demo` and the sandbox_server fixture, exercised as users run them: drctl subprocesses."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import boto3
import pytest

from dr.config import check_file
from dr.sandbox.demo import DEMO_STEPS, demo_argv, run_demo
from dr.sandbox.session import drctl_command, subprocess_env
from dr.testing import SandboxProcess, ServerSandbox


def _drctl(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*drctl_command(), *args], env=subprocess_env(env or {}), cwd=cwd, capture_output=True,
                          text=True, timeout=300, check=False)


class TestDemoSteps:
    def test_demo_steps_target_the_topologys_dr_side(self, example_path: Path) -> None:
        """The demo checks readiness of the first DR environment (qa in the example), takes the source region
        down in the sandbox, fails over unplanned (accepting the loss, as AWS would need), brings the region
        back, fences its stale primaries and shows status."""
        from dr.config import load

        assert demo_argv(load(example_path)) == [
            ("readiness", "--env", "qa"),
            ("sandbox", "outage", "eu-central-1"),
            ("failover", "--to", "qa", "--yes", "--simulate-outage", "eu-central-1", "--accept-data-loss"),
            ("sandbox", "outage", "eu-central-1", "--end"),
            ("fence", "--env", "prod", "--yes"),
            ("status",),
        ]
        assert len(DEMO_STEPS) >= 2


class TestSessionHelpers:
    def test_missing_moto_is_a_usage_error_naming_the_extra(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without moto installed the sandbox says to install drctl[sandbox] (exit 2), no traceback."""
        import importlib.util

        from dr.errors import UsageError
        from dr.sandbox.session import require_moto

        real = importlib.util.find_spec
        monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "moto" else real(name, *a))
        with pytest.raises(UsageError, match=r"drctl\[sandbox\]") as err:
            require_moto()
        assert err.value.exit_code == 2

    def test_child_env_drops_real_aws_identities(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A sandbox child never inherits AWS_PROFILE, a session token or per-service endpoints."""
        monkeypatch.setenv("AWS_PROFILE", "prod-admin")
        monkeypatch.setenv("AWS_SESSION_TOKEN", "real-token")
        monkeypatch.setenv("AWS_ENDPOINT_URL_RDS", "https://rds.example")
        env = subprocess_env({"AWS_ENDPOINT_URL": "http://127.0.0.1:1"})
        assert not {"AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_RDS"} & set(env)
        assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1"

    def test_port_in_use_detects_a_listener(self) -> None:
        """A listening port is reported busy; once closed it is free."""
        import socket

        from dr.sandbox.session import port_in_use

        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            assert port_in_use("127.0.0.1", port)
        assert not port_in_use("127.0.0.1", port)


@pytest.mark.e2e
class TestSandboxUp:
    def test_up_writes_a_valid_config_prints_the_env_and_stops_on_sigterm(self, tmp_path: Path) -> None:
        """`drctl sandbox up` serves the seeded example; its config validates; SIGTERM stops it with exit 0."""
        config = tmp_path / "sandbox-dr.yaml"
        with SandboxProcess.start(config, "--promotion-seconds", "1") as up:
            assert up.env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
            assert up.env["DRCTL_CONFIG"] == str(config)
            dns_host, dns_port = up.env["DRCTL_DNS_VERIFY"].rsplit(":", 1)
            assert dns_host == "127.0.0.1"
            assert int(dns_port) > 0
            assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"} <= set(up.env)
            model, findings = check_file(config)
            assert model is not None, findings
            zone_id = model.dns[0].zone_id
            sts = boto3.client("sts", endpoint_url=up.env["AWS_ENDPOINT_URL"], region_name="us-east-1")
            creds = sts.assume_role(RoleArn=model.environments["prod"].role_arn or "", RoleSessionName="test")
            route53 = boto3.client(
                "route53", endpoint_url=up.env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                aws_access_key_id=creds["Credentials"]["AccessKeyId"],
                aws_secret_access_key=creds["Credentials"]["SecretAccessKey"],
                aws_session_token=creds["Credentials"]["SessionToken"])
            assert route53.get_hosted_zone(Id=zone_id)["HostedZone"]["Name"] == "example.com."
            code, err = up.stop()
        assert code == 0, err
        assert "sandbox stopped" in err

    def test_up_with_an_invalid_topology_exits_2_naming_the_field(self, tmp_path: Path) -> None:
        """A bad --config is refused before any server starts: exit 2 and the finding's path."""
        bad = tmp_path / "bad.yaml"
        bad.write_text("version: 1\nenvironments:\n  prod: {account_id: '1', region: eu-central-1}\n")
        result = _drctl("sandbox", "up", "--port", "0", "--config", str(bad), "--write-config",
                        str(tmp_path / "out.yaml"))
        assert result.returncode == 2
        assert "environments.prod.account_id" in result.stderr
        assert not (tmp_path / "out.yaml").exists()


    def test_up_on_a_busy_port_exits_2_with_a_hint(self, tmp_path: Path) -> None:
        """A port already taken gives exit 2 and says to use --port 0, not a traceback."""
        import socket

        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            result = _drctl("sandbox", "up", "--port", str(port), "--write-config", str(tmp_path / "out.yaml"))
        assert result.returncode == 2
        assert "--port 0" in result.stderr
        assert "Traceback" not in result.stderr


@pytest.mark.e2e
class TestDemo:
    def test_validate_then_demo_both_exit_0(self, example_path: Path, tmp_path: Path) -> None:
        """`drctl config validate` on the example and `drctl sandbox demo` both succeed as a new user runs them."""
        validate = _drctl("config", "validate", "--config", str(example_path))
        assert validate.returncode == 0, validate.stderr
        demo = _drctl("sandbox", "demo", "--promotion-seconds", "0.5", "--change-pending-seconds", "0.5", cwd=tmp_path)
        assert demo.returncode == 0, demo.stderr[-3000:]
        assert "$ drctl readiness --env qa" in demo.stderr
        assert "$ drctl status" in demo.stderr
        assert f"demo finished: {len(DEMO_STEPS)} step(s), all exit 0" in demo.stderr
        assert "qa is ready" in demo.stdout
        assert "failover prod -> qa (real) SUCCEEDED" in demo.stdout  # the timed report
        assert "RTO met" in demo.stdout
        closing = demo.stderr.rstrip().splitlines()[-4:]  # what moved, RTO and RPO, the journal, the next command
        assert closing[0].startswith("moved: 4 database(s) (")
        assert " from prod to qa: run " in closing[0]
        assert closing[1].startswith("RTO ")
        assert "(met); RPO: data-loss window " in closing[1]
        assert closing[2].startswith("journal: ")
        assert closing[3].startswith("next: `drctl sandbox up --write-config sandbox-dr.yaml`")
        assert list(tmp_path.iterdir()) == [], "the demo leaves no files behind in the working directory"

    def test_demo_stops_at_the_first_failing_step_and_keeps_json_documents(
            self, sandbox_server: ServerSandbox, tmp_path: Path) -> None:
        """A failing step ends the demo with its exit code; with json each step's own document is kept."""
        steps = [("readiness", "--env", "{target}"), ("config", "validate", "--config", str(tmp_path / "none.yaml")),
                 ("status",)]
        results = run_demo(sandbox_server.served, steps, json_output=True, log=io.StringIO(),
                           state_dir=tmp_path / "state")
        assert [(r.argv[0], r.exit_code) for r in results] == [("readiness", 0), ("config", 2)]
        assert isinstance(results[0].output, dict)
        assert results[1].output["valid"] is False


@pytest.mark.e2e
class TestSandboxServerFixture:
    def test_readiness_is_green_then_red_when_a_dr_health_check_fails(self, sandbox_server: ServerSandbox) -> None:
        """drctl readiness --env qa exits 0 on the seeded sandbox, 1 once a qa health check is unhealthy."""
        ready = sandbox_server.run_drctl("readiness", "--env", "qa", "-o", "json")
        assert ready.returncode == 0, ready.stderr
        hc_id = sandbox_server.topology.dns[0].health_checks["qa"]
        sandbox_server.control.set_health(hc_id, False)
        not_ready = sandbox_server.run_drctl("readiness", "--env", "qa", "-o", "json")
        assert not_ready.returncode == 1
        assert hc_id in not_ready.stdout

    def test_each_test_gets_a_freshly_seeded_server(self, sandbox_server: ServerSandbox) -> None:
        """Health set unhealthy by another test is healthy again: readiness of qa passes."""
        result = sandbox_server.run_drctl("readiness", "--env", "qa")
        assert result.returncode == 0, result.stdout + result.stderr

    def test_in_process_clients_reach_the_server_inside_aws_env(self, sandbox_server: ServerSandbox) -> None:
        """sandbox_server.clients() within aws_env() sees the seeded replica in prod's account."""
        with sandbox_server.aws_env():
            rds = sandbox_server.clients().client("rds", "prod", "eu-west-1")
            replica = rds.describe_db_instances(DBInstanceIdentifier="orders-db-euw1")["DBInstances"][0]
        assert replica["ReadReplicaSourceDBInstanceIdentifier"].endswith(":db:orders-db")

    def test_boto3_client_checks_state_independently_of_drctl(self, sandbox_server: ServerSandbox) -> None:
        """boto3_client('route53', 'prod') sees the seeded zones of prod's account, qa's sees none."""
        zones = sandbox_server.boto3_client("route53", "prod", "us-east-1").list_hosted_zones()["HostedZones"]
        assert {z["Id"].rsplit("/", 1)[-1] for z in zones} == {r.zone_id for r in sandbox_server.topology.dns}
        assert sandbox_server.boto3_client("route53", "qa", "us-east-1").list_hosted_zones()["HostedZones"] == []


class TestOutageCommandUsage:
    def test_outage_without_a_sandbox_endpoint_exits_2_saying_what_to_set(self) -> None:
        """No $AWS_ENDPOINT_URL and no --endpoint: exit 2 naming both, no traceback."""
        result = _drctl("sandbox", "outage", "eu-central-1")
        assert result.returncode == 2
        assert "AWS_ENDPOINT_URL" in result.stderr
        assert "--endpoint" in result.stderr
        assert "Traceback" not in result.stderr


@pytest.mark.e2e
class TestOutageCommand:
    def test_outage_fails_calls_after_the_hang_and_fails_the_regions_health_checks(
            self, sandbox_server: ServerSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
        """`drctl sandbox outage eu-central-1`: a call there hangs, then its connection drops; prod's health
        checks (eu-central-1) fail while qa's stay healthy; `--end` restores both."""
        import time

        from botocore.exceptions import ConnectionClosedError

        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # one attempt: botocore would retry the dropped connection
        rds = sandbox_server.boto3_client("rds", "prod")  # eu-central-1; assumed before the region goes down
        route53 = sandbox_server.boto3_client("route53", "prod", "us-east-1")
        checks = sandbox_server.topology.dns[0].health_checks

        def healthy(side: str) -> bool:
            status = route53.get_health_check_status(HealthCheckId=checks[side])["HealthCheckObservations"]
            return all(o["StatusReport"]["Status"].startswith("Success") for o in status)

        down = sandbox_server.run_drctl("sandbox", "outage", "eu-central-1", "--hang-seconds", "0.5")
        assert down.returncode == 0, down.stderr
        assert down.stdout.startswith("eu-central-1: down since ")
        started = time.monotonic()
        with pytest.raises(ConnectionClosedError):
            rds.describe_db_instances(DBInstanceIdentifier="orders-db")
        assert time.monotonic() - started >= 0.5
        assert sandbox_server.control.stats().rejected["RegionOutage"]["DescribeDBInstances"] == 1
        assert (healthy("prod"), healthy("qa")) == (False, True)

        end = sandbox_server.run_drctl("sandbox", "outage", "eu-central-1", "--end", "-o", "json")
        assert end.returncode == 0, end.stderr
        assert json.loads(end.stdout) == {"region": "eu-central-1", "down": False, "outages": {}}
        assert rds.describe_db_instances(DBInstanceIdentifier="orders-db")["DBInstances"][0]["DBInstanceStatus"] \
            == "available"
        assert healthy("prod")
