"""Route53 in the sandbox: changes propagate over time, health checks have a settable status, and
TestDNSAnswer answers as Route53's failover routing would."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from dr.clock import FakeClock
from dr.sandbox.control import LocalControl, SandboxControlError


def _health_check(r53: Any, name: str, **config: Any) -> str:
    body = {"Type": "HTTPS", "FullyQualifiedDomainName": f"{name}.example.com", "Port": 443, **config}
    return str(r53.create_health_check(CallerReference=name, HealthCheckConfig=body)["HealthCheck"]["Id"])


def _calculated(r53: Any, name: str, children: list[str], threshold: int, **config: Any) -> str:
    body = {"Type": "CALCULATED", "ChildHealthChecks": children, "HealthThreshold": threshold, **config}
    return str(r53.create_health_check(CallerReference=name, HealthCheckConfig=body)["HealthCheck"]["Id"])


def _metric(clock: FakeClock, checks: Sequence[str]) -> list[float]:
    """The newest AWS/Route53 HealthCheckStatus of each check, in us-east-1."""
    now = clock.now()
    queries = [{"Id": f"q{i}", "MetricStat": {"Metric": {
        "Namespace": "AWS/Route53", "MetricName": "HealthCheckStatus",
        "Dimensions": [{"Name": "HealthCheckId", "Value": check}]}, "Period": 60, "Stat": "Minimum"}}
        for i, check in enumerate(checks)]
    results = boto3.client("cloudwatch", region_name="us-east-1").get_metric_data(
        MetricDataQueries=queries, StartTime=now - timedelta(minutes=3), EndTime=now + timedelta(minutes=1),
        ScanBy="TimestampDescending")["MetricDataResults"]
    return [float(r["Values"][0]) for r in results]


def _upsert(r53: Any, zone: str, name: str, value: str, **extra: Any) -> dict[str, Any]:
    record = {"Name": name, "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": value}], **extra}
    change = {"Action": "UPSERT", "ResourceRecordSet": record}
    return r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [change]})["ChangeInfo"]  # type: ignore[no-any-return]


def _status(r53: Any, check: str) -> str:
    observations = r53.get_health_check_status(HealthCheckId=check)["HealthCheckObservations"]
    statuses = {o["StatusReport"]["Status"].split(":")[0] for o in observations}
    assert len(statuses) == 1
    return str(statuses.pop())


class TestChangePropagation:
    def test_a_change_is_pending_until_the_pending_time_passes(
        self, r53: Any, example_zone: str, sandbox_control: LocalControl, control_clock: FakeClock
    ) -> None:
        """ChangeResourceRecordSets answers PENDING; GetChange stays PENDING for the set time, then INSYNC."""
        sandbox_control.set_change_pending_seconds(30)
        info = _upsert(r53, example_zone, "api.example.com", "a.example.com")
        assert info["Status"] == "PENDING"
        control_clock.advance(29)
        assert r53.get_change(Id=info["Id"])["ChangeInfo"]["Status"] == "PENDING"
        control_clock.advance(1)
        assert r53.get_change(Id=info["Id"])["ChangeInfo"]["Status"] == "INSYNC"

    def test_every_change_gets_its_own_id(self, r53: Any, example_zone: str, sandbox_control: LocalControl) -> None:
        """Two changes have two ids (moto alone answers one constant id)."""
        first = _upsert(r53, example_zone, "a.example.com", "x.example.com")["Id"]
        second = _upsert(r53, example_zone, "b.example.com", "y.example.com")["Id"]
        assert first != second

    def test_without_a_pending_time_the_change_is_insync_at_the_first_poll(self, r53: Any, example_zone: str) -> None:
        """The response says PENDING (as AWS always does) and the first GetChange says INSYNC."""
        info = _upsert(r53, example_zone, "api.example.com", "a.example.com")
        assert info["Status"] == "PENDING"
        assert r53.get_change(Id=info["Id"])["ChangeInfo"]["Status"] == "INSYNC"

    def test_the_change_is_applied_to_the_zone_at_once(
        self, r53: Any, example_zone: str, sandbox_control: LocalControl
    ) -> None:
        """PENDING is about propagation: ListResourceRecordSets already shows the new value."""
        sandbox_control.set_change_pending_seconds(300)
        _upsert(r53, example_zone, "api.example.com", "b.example.com")
        records = r53.list_resource_record_sets(HostedZoneId=example_zone)["ResourceRecordSets"]
        assert [r["ResourceRecords"] for r in records if r["Name"] == "api.example.com."] == [
            [{"Value": "b.example.com"}]
        ]


class TestHealthCheckStatus:
    def test_checks_are_healthy_until_set_unhealthy(self, r53: Any, sandbox_control: LocalControl) -> None:
        """A new check reports Success; after set_health(False) every observation reports Failure."""
        check = _health_check(r53, "a")
        assert _status(r53, check) == "Success"
        sandbox_control.set_health(check, False)
        assert _status(r53, check) == "Failure"
        sandbox_control.set_health(check, True)
        assert _status(r53, check) == "Success"

    def test_observations_report_the_endpoint_whatever_inverted_or_disabled_say(self, r53: Any) -> None:
        """GetHealthCheckStatus reports what the checkers see of the endpoint: an inverted or disabled check with a
        healthy endpoint reports Success (Route53's verdict on the check is CloudWatch's, below)."""
        inverted = _health_check(r53, "a", Inverted=True)
        disabled = _health_check(r53, "b", Disabled=True, Inverted=True)
        assert (_status(r53, inverted), _status(r53, disabled)) == ("Success", "Success")

    def test_a_calculated_check_is_refused(self, r53: Any) -> None:
        """AWS: GetHealthCheckStatus cannot report a calculated health check (InvalidInput)."""
        child = _health_check(r53, "a")
        calculated = _calculated(r53, "calc", [child], 1)
        with pytest.raises(ClientError) as err:
            r53.get_health_check_status(HealthCheckId=calculated)
        assert err.value.response["Error"]["Code"] == "InvalidInput"

    def test_setting_an_unknown_check_is_an_error(self, sandbox_control: LocalControl) -> None:
        """A typo in a health-check id is reported, not silently stored."""
        with pytest.raises(SandboxControlError, match="no Route53 health check"):
            sandbox_control.set_health("00000000-0000-0000-0000-000000000000", False)

    def test_status_of_an_unknown_check_is_no_such_health_check(self, r53: Any) -> None:
        """GetHealthCheckStatus for a missing id is NoSuchHealthCheck."""
        with pytest.raises(ClientError) as err:
            r53.get_health_check_status(HealthCheckId="nope")
        assert err.value.response["Error"]["Code"] == "NoSuchHealthCheck"


class TestHealthCheckMetric:
    def test_cloudwatch_carries_each_checks_status_in_us_east_1(
        self, r53: Any, sandbox_control: LocalControl, control_clock: FakeClock
    ) -> None:
        """AWS/Route53 HealthCheckStatus is 1 for a healthy and 0 for an unhealthy check, at the sandbox's now."""
        healthy, unhealthy = _health_check(r53, "a"), _health_check(r53, "b")
        sandbox_control.set_health(unhealthy, False)
        assert _metric(control_clock, [healthy, unhealthy]) == [1.0, 0.0]

    def test_the_metric_applies_inverted_and_disabled(
        self, r53: Any, sandbox_control: LocalControl, control_clock: FakeClock
    ) -> None:
        """Inverted flips; a disabled check is healthy whatever its endpoint; disabled + inverted is unhealthy."""
        inverted, disabled = _health_check(r53, "a", Inverted=True), _health_check(r53, "b", Disabled=True)
        both = _health_check(r53, "c", Disabled=True)
        r53.update_health_check(HealthCheckId=both, Inverted=True)
        sandbox_control.set_health(disabled, False)
        assert _metric(control_clock, [inverted, disabled, both]) == [0.0, 1.0, 0.0]
        sandbox_control.set_health(inverted, False)
        assert _metric(control_clock, [inverted]) == [1.0]

    def test_a_calculated_check_counts_its_healthy_children(
        self, r53: Any, sandbox_control: LocalControl, control_clock: FakeClock
    ) -> None:
        """Healthy while at least HealthThreshold children are (children's own Inverted/Disabled applied)."""
        a, b = _health_check(r53, "a"), _health_check(r53, "b")
        calculated = _calculated(r53, "calc", [a, b], 2)
        inverted = _calculated(r53, "calc-inverted", [a, b], 2, Inverted=True)
        assert _metric(control_clock, [calculated, inverted]) == [1.0, 0.0]
        sandbox_control.set_health(b, False)
        assert _metric(control_clock, [calculated, inverted]) == [0.0, 1.0]
        r53.update_health_check(HealthCheckId=b, Disabled=True)
        assert _metric(control_clock, [calculated]) == [1.0]


class TestDnsAnswer:
    @pytest.fixture
    def checks(self, r53: Any, example_zone: str) -> dict[str, str]:
        primary, secondary = _health_check(r53, "primary"), _health_check(r53, "secondary")
        for role, check, target in (("PRIMARY", primary, "euc1"), ("SECONDARY", secondary, "euw1")):
            _upsert(
                r53,
                example_zone,
                "api.example.com",
                f"{target}.example.com",
                SetIdentifier=role.lower(),
                Failover=role,
                HealthCheckId=check,
            )
        return {"primary": primary, "secondary": secondary}

    def _answer(self, r53: Any, zone: str, name: str = "api.example.com") -> dict[str, Any]:
        return r53.test_dns_answer(HostedZoneId=zone, RecordName=name, RecordType="CNAME")  # type: ignore[no-any-return]

    def test_failover_answers_primary_while_it_is_healthy(
        self, r53: Any, example_zone: str, checks: dict[str, str]
    ) -> None:
        """Both healthy: the PRIMARY record's value is the answer."""
        assert self._answer(r53, example_zone)["RecordData"] == ["euc1.example.com"]

    def test_failover_answers_secondary_when_primary_is_unhealthy(
        self, r53: Any, example_zone: str, checks: dict[str, str], sandbox_control: LocalControl
    ) -> None:
        """An unhealthy PRIMARY makes Route53 answer the SECONDARY: the data-plane failover drctl verifies."""
        sandbox_control.set_health(checks["primary"], False)
        answer = self._answer(r53, example_zone)
        assert (answer["RecordData"], answer["ResponseCode"]) == (["euw1.example.com"], "NOERROR")

    def test_failover_answers_primary_when_both_are_unhealthy(
        self, r53: Any, example_zone: str, checks: dict[str, str], sandbox_control: LocalControl
    ) -> None:
        """With both sides unhealthy Route53 answers the PRIMARY."""
        sandbox_control.set_health(checks["primary"], False)
        sandbox_control.set_health(checks["secondary"], False)
        assert self._answer(r53, example_zone)["RecordData"] == ["euc1.example.com"]

    def test_a_simple_record_answers_its_value(self, r53: Any, example_zone: str) -> None:
        """A plain record answers its current value, including after an UPSERT."""
        _upsert(r53, example_zone, "web.example.com", "one.example.com")
        _upsert(r53, example_zone, "web.example.com", "two.example.com")
        assert self._answer(r53, example_zone, "web.example.com")["RecordData"] == ["two.example.com"]

    def test_a_missing_name_is_nxdomain(self, r53: Any, example_zone: str) -> None:
        """A name with no records answers NXDOMAIN and no data."""
        answer = self._answer(r53, example_zone, "missing.example.com")
        assert (answer["RecordData"], answer["ResponseCode"]) == ([], "NXDOMAIN")
