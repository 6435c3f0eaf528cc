"""Failover-routing answers read in the data plane: DRCTL_DNS_VERIFY, the sandbox's DNS responder, the query
client, per-zone fallback to TestDNSAnswer, and a failover verified without TestDNSAnswer."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dr.aws.dns_answers import (
    DnsUnavailable,
    DnsVerify,
    ZoneServers,
    query,
    verify_mode,
)
from dr.errors import UsageError
from dr.testing import InProcessSandbox
from tests.failover_support import Harness, harness


def responder(sandbox: InProcessSandbox) -> tuple[tuple[str, int], ...]:
    host, port = sandbox.dns_address.rsplit(":", 1)
    return ((host, int(port)),)


def record(sandbox: InProcessSandbox, fqdn: str) -> Any:
    return next(r for r in sandbox.topology.dns if r.fqdn == fqdn)


def dead_port() -> int:
    """A loopback UDP port nobody listens on (bound, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TestVerifyMode:
    @pytest.mark.parametrize(("value", "expected"), [
        (None, DnsVerify()), ("auto", DnsVerify()), ("test-dns-answer", DnsVerify(control_plane=True)),
        ("127.0.0.1:5353", DnsVerify(servers=(("127.0.0.1", 5353),))),
        ("10.0.0.2:53, [::1]:5353", DnsVerify(servers=(("10.0.0.2", 53), ("::1", 5353)))),
    ])
    def test_values(self, value: str | None, expected: DnsVerify) -> None:
        assert verify_mode({} if value is None else {"DRCTL_DNS_VERIFY": value}) == expected

    @pytest.mark.parametrize("value", ["dig", "127.0.0.1", "127.0.0.1:0", "host:99999", ":53"])
    def test_anything_else_is_a_usage_error_naming_the_variable_and_the_forms(self, value: str) -> None:
        with pytest.raises(UsageError) as err:
            verify_mode({"DRCTL_DNS_VERIFY": value})
        assert "DRCTL_DNS_VERIFY" in str(err.value)
        assert "HOST:PORT" in str(err.value)
        assert err.value.exit_code == 2


    def test_a_bad_value_stops_a_failover_with_exit_2_before_anything_changes(
            self, sandbox: InProcessSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
        """`drctl failover` with DRCTL_DNS_VERIFY=dig: exit 2 naming the variable, nothing promoted."""
        from typer.testing import CliRunner

        from dr.cli.main import app

        monkeypatch.setenv("DRCTL_DNS_VERIFY", "dig")
        result = CliRunner().invoke(app, ["failover", "--to", "qa", "--yes", "-c", str(sandbox.config_path)])
        assert result.exit_code == 2
        assert "DRCTL_DNS_VERIFY='dig'" in result.output
        west = sandbox.clients.client("rds", "prod", "eu-west-1")
        replica = west.describe_db_instances(DBInstanceIdentifier="orders-db-euw1")["DBInstances"][0]
        assert replica.get("ReadReplicaSourceDBInstanceIdentifier")


class TestSandboxResponder:
    def test_a_plain_record_answers_its_value(self, sandbox: InProcessSandbox) -> None:
        api = record(sandbox, "api.example.com.")
        assert query(responder(sandbox), api.fqdn, api.type) == {api.targets["prod"].rstrip(".").lower()}

    def test_a_failover_record_answers_the_primary_then_the_secondary_when_its_check_fails(
            self, sandbox: InProcessSandbox) -> None:
        """The same rules as TestDNSAnswer: PRIMARY while healthy, SECONDARY once its check is unhealthy."""
        www = record(sandbox, "www.example.com.")
        assert query(responder(sandbox), www.fqdn, www.type) == {www.targets["prod"].rstrip(".").lower()}
        sandbox.control.set_health(www.health_checks["prod"], False)
        assert query(responder(sandbox), www.fqdn, www.type) == {www.targets["qa"].rstrip(".").lower()}

    def test_an_inverted_primary_check_answers_the_secondary(self, sandbox: InProcessSandbox) -> None:
        www = record(sandbox, "www.example.com.")
        sandbox.clients.route53("prod").update_health_check(HealthCheckId=www.health_checks["prod"], Inverted=True)
        assert query(responder(sandbox), www.fqdn, www.type) == {www.targets["qa"].rstrip(".").lower()}

    def test_a_missing_name_in_a_zone_answers_nothing(self, sandbox: InProcessSandbox) -> None:
        api = record(sandbox, "api.example.com.")
        assert query(responder(sandbox), "no-such-name.example.com.", api.type) == set()

    def test_a_name_in_no_sandbox_zone_is_refused(self, sandbox: InProcessSandbox) -> None:
        """Not authoritative: REFUSED, which the client treats as this server not answering."""
        with pytest.raises(DnsUnavailable, match="REFUSED"):
            query(responder(sandbox), "www.not-a-sandbox-zone.test.", "A")


class TestQuery:
    def test_no_server_answering_is_unavailable_with_each_servers_reason(self) -> None:
        port = dead_port()
        with pytest.raises(DnsUnavailable, match=f"127.0.0.1:{port}"):
            query((("127.0.0.1", port),), "www.example.com.", "CNAME", timeout=0.2)


class TestZoneServers:
    def test_control_plane_mode_never_looks_a_zone_up(self) -> None:
        calls: list[str] = []
        servers = ZoneServers(DnsVerify(control_plane=True))
        with pytest.raises(DnsUnavailable, match="test-dns-answer"):
            servers.servers("Z1", lambda: calls.append("get") or {})
        assert calls == []

    def test_a_private_zone_falls_back_and_is_looked_up_once(self) -> None:
        calls: list[str] = []

        def get_zone() -> dict[str, Any]:
            calls.append("get")
            return {"HostedZone": {"Config": {"PrivateZone": True}}}

        servers = ZoneServers(DnsVerify())
        for _ in range(3):
            with pytest.raises(DnsUnavailable, match="private zone"):
                servers.servers("Z1", get_zone)
        assert calls == ["get"]

    def test_a_failing_get_hosted_zone_falls_back_with_its_reason(self) -> None:
        def get_zone() -> dict[str, Any]:
            raise RuntimeError("AccessDenied: route53:GetHostedZone")

        with pytest.raises(DnsUnavailable, match="GetHostedZone Z1"):
            ZoneServers(DnsVerify()).servers("Z1", get_zone)

    def test_a_zone_marked_unreachable_stays_on_the_control_plane(self) -> None:
        servers = ZoneServers(DnsVerify(servers=(("127.0.0.1", 5353),)))
        assert servers.servers("Z1", dict) == (("127.0.0.1", 5353),)
        servers.unreachable("Z1", "no name server answered")
        with pytest.raises(DnsUnavailable, match="no name server answered"):
            servers.servers("Z1", dict)
        assert servers.servers("Z2", dict) == (("127.0.0.1", 5353),)


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    with harness(tmp_path) as built:
        yield built


def failover_records(h: Harness) -> list[Any]:
    """Records whose answer is read in the data plane: failover routing, and ARC's (failover pairs too)."""
    return [r for r in h.topology.dns if str(r.strategy) in ("failover-routing", "arc-routing-control")]


class TestFailoverVerification:
    def test_a_planned_failover_verifies_failover_records_in_the_data_plane(self, h: Harness) -> None:
        """With the sandbox's responder: no TestDNSAnswer at all, and the records answer qa afterwards."""
        assert failover_records(h)
        outcome = h.run("failover", "qa")
        assert outcome.exit_code == 0, outcome.report
        assert h.faults.count("route53", "TestDNSAnswer") == 0
        for r in failover_records(h):
            assert query(responder(h.sbx), r.fqdn, r.type) == {r.targets["qa"].rstrip(".").lower()}

    def test_control_plane_mode_verifies_with_test_dns_answer(self, h: Harness,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("DRCTL_DNS_VERIFY", "test-dns-answer")
        outcome = h.run("failover", "qa")
        assert outcome.exit_code == 0, outcome.report
        assert h.faults.count("route53", "TestDNSAnswer") >= len(failover_records(h))

    def test_name_servers_that_do_not_answer_fall_back_and_are_not_asked_again(
            self, h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
        """A dead DNS server: the failover still succeeds through TestDNSAnswer; once a zone's servers failed,
        later polls of its records go to the control plane at once (no poll waits on DNS twice)."""
        import runbooks.steps.dns_failover_routing as routing

        asked: list[str] = []

        def counted(servers: Any, fqdn: str, rtype: str, timeout: float = 0.2) -> set[str]:
            asked.append(fqdn)
            return query(servers, fqdn, rtype, timeout=0.2)

        monkeypatch.setattr(routing, "query", counted)
        monkeypatch.setenv("DRCTL_DNS_VERIFY", f"127.0.0.1:{dead_port()}")
        outcome = h.run("failover", "qa")
        assert outcome.exit_code == 0, outcome.report
        assert h.faults.count("route53", "TestDNSAnswer") >= len(failover_records(h))
        assert 1 <= len(asked) <= len(failover_records(h))
