"""Health-check status at scale: one batched CloudWatch read per account, Route53 itself only as fallback."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dr.aws.factory import ClientFactory
from dr.aws.faults import Faults
from dr.aws.route53 import HealthStatus, read_health_checks
from dr.clock import SYSTEM_CLOCK, FakeClock
from dr.testing.sandbox import InProcessSandbox


def ids_of(box: InProcessSandbox) -> list[str]:
    """The endpoint health checks (an arc-routing-control record's RECOVERY_CONTROL checks follow their routing
    controls: the standby side's is unhealthy by design)."""
    return sorted({hc for record in box.topology.dns if record.arc is None for hc in record.health_checks.values()})


def counting(box: InProcessSandbox) -> tuple[ClientFactory, Faults]:
    faults = Faults()
    return ClientFactory(box.topology, run_id="test", faults=faults), faults


class TestBatchedHealthRead:
    def test_fresh_statuses_come_from_one_cloudwatch_call(self, sandbox: InProcessSandbox) -> None:
        """Six checks, one unhealthy: one GetMetricData, no GetHealthCheckStatus, the right verdicts."""
        ids = ids_of(sandbox)
        sandbox.control.set_health(ids[0], False)
        clients, faults = counting(sandbox)
        statuses = read_health_checks(clients, "prod", ids, SYSTEM_CLOCK)
        assert {hc: s.healthy for hc, s in statuses.items()} == {hc: hc != ids[0] for hc in ids}
        assert faults.count("cloudwatch", "GetMetricData") == 1
        assert faults.count("route53", "GetHealthCheckStatus") == 0
        assert "CloudWatch HealthCheckStatus 0" in statuses[ids[0]].reason

    def test_stale_datapoints_fall_back_to_route53(self, sandbox: InProcessSandbox) -> None:
        """Datapoints older than the trusted age are not a verdict: each check is asked of Route53."""
        ids = ids_of(sandbox)
        sandbox.control.set_health(ids[0], False)
        clients, faults = counting(sandbox)
        later = FakeClock(SYSTEM_CLOCK.now() + timedelta(minutes=5))
        statuses = read_health_checks(clients, "prod", ids, later)
        assert faults.count("route53", "GetHealthCheckStatus") == len(ids)
        assert statuses[ids[0]].healthy is False
        assert statuses[ids[0]].via == "checkers"

    def test_cloudwatch_failure_falls_back_to_route53(self, sandbox: InProcessSandbox) -> None:
        """CloudWatch throttled or down: Route53 answers one check at a time, verdicts unchanged."""
        ids = ids_of(sandbox)
        clients, faults = counting(sandbox)
        faults.throttle["GetMetricData"] = 100
        statuses = read_health_checks(clients, "prod", ids, SYSTEM_CLOCK)
        assert all(s.healthy for s in statuses.values())
        assert faults.count("route53", "GetHealthCheckStatus") == len(ids)

    def test_an_unreadable_check_is_unhealthy_with_its_reason(self, sandbox: InProcessSandbox) -> None:
        """A check that neither CloudWatch nor Route53 knows vouches for nothing, and says why."""
        clients, _ = counting(sandbox)
        status = read_health_checks(clients, "prod", ["no-such-check"], SYSTEM_CLOCK)["no-such-check"]
        assert status.healthy is False
        assert status.via == "error"
        assert "could not read health check no-such-check" in status.reason

    @pytest.mark.parametrize("ids", [[], ["a", "a"]], ids=["none", "duplicates"])
    def test_duplicates_and_empty_input(self, sandbox: InProcessSandbox, ids: list[str]) -> None:
        """Each id once; nothing asked for, nothing read."""
        clients, faults = counting(sandbox)
        assert set(read_health_checks(clients, "prod", ids, SYSTEM_CLOCK)) == set(ids)
        assert faults.count("cloudwatch") <= (1 if ids else 0)


def create_check(box: InProcessSandbox, name: str, **config: object) -> str:
    """A health check in prod's account; an HTTPS endpoint check unless `config` says otherwise."""
    body = {"Type": "HTTPS", "FullyQualifiedDomainName": f"{name}.example.com", "Port": 443, **config}
    created = box.clients.route53("prod").create_health_check(CallerReference=name, HealthCheckConfig=body)
    return str(created["HealthCheck"]["Id"])


def stale_read(box: InProcessSandbox, ids: list[str]) -> tuple[dict[str, HealthStatus], Faults]:
    """Read `ids` five minutes after CloudWatch's newest datapoints: every check takes Route53's fallback."""
    clients, faults = counting(box)
    later = FakeClock(SYSTEM_CLOCK.now() + timedelta(minutes=5))
    return read_health_checks(clients, "prod", ids, later), faults


class TestFallbackAppliesTheConfiguration:
    """GetHealthCheckStatus reports what the checkers see; the fallback decides as Route53 does (HealthCheckConfig)."""

    def test_an_inverted_check_is_the_opposite_of_its_endpoint(self, sandbox: InProcessSandbox) -> None:
        """Inverted: a healthy endpoint makes the check unhealthy, an unhealthy one healthy."""
        up, down = create_check(sandbox, "inv-up", Inverted=True), create_check(sandbox, "inv-down", Inverted=True)
        sandbox.control.set_health(down, False)
        statuses, faults = stale_read(sandbox, [up, down])
        assert faults.count("route53", "GetHealthCheckStatus") == 2
        assert (statuses[up].healthy, statuses[down].healthy) == (False, True)
        assert statuses[up].reason == f"health check {up} unhealthy: 6 of 6 checkers report success, and the " \
                                      "check is inverted"

    def test_a_disabled_check_is_healthy_unless_also_inverted(self, sandbox: InProcessSandbox) -> None:
        """Disabled: healthy whatever the endpoint; disabled + inverted: unhealthy; checkers are not asked."""
        disabled = create_check(sandbox, "off", Disabled=True)
        both = create_check(sandbox, "off-inv", Disabled=True, Inverted=True)
        sandbox.control.set_health(disabled, False)
        statuses, faults = stale_read(sandbox, [disabled, both])
        assert (statuses[disabled].healthy, statuses[both].healthy) == (True, False)
        assert statuses[disabled].via == "disabled"
        assert "considers a disabled check healthy, and it is inverted" in statuses[both].reason
        assert faults.count("route53", "GetHealthCheckStatus") == 0

    def test_a_calculated_check_is_decided_from_its_children(self, sandbox: InProcessSandbox) -> None:
        """No GetHealthCheckStatus for a calculated check (AWS refuses it): at least HealthThreshold healthy
        children make it healthy, each child decided by its own configuration."""
        a, b = create_check(sandbox, "child-a"), create_check(sandbox, "child-b", Inverted=True)
        both = create_check(sandbox, "calc-2", Type="CALCULATED", ChildHealthChecks=[a, b], HealthThreshold=2)
        one = create_check(sandbox, "calc-1", Type="CALCULATED", ChildHealthChecks=[a, b], HealthThreshold=1)
        statuses, faults = stale_read(sandbox, [both, one])
        assert set(statuses) == {both, one}, "children are read, not reported"
        assert (statuses[both].healthy, statuses[one].healthy) == (False, True)
        assert statuses[both].via == "calculated"
        assert statuses[both].reason.startswith(f"health check {both} unhealthy: 1 of 2 child checks healthy, 2 needed")
        assert faults.count("route53", "GetHealthCheckStatus") == 2, "each child read once for both"
        sandbox.control.set_health(b, False)
        statuses, _ = stale_read(sandbox, [both])
        assert statuses[both].healthy is True

    def test_many_configurations_come_from_one_listing(self, sandbox: InProcessSandbox) -> None:
        """The fallback of several checks reads their configurations with ListHealthChecks, not one call each."""
        ids = ids_of(sandbox)
        statuses, faults = stale_read(sandbox, ids)
        assert all(s.healthy for s in statuses.values())
        assert (faults.count("route53", "ListHealthChecks"), faults.count("route53", "GetHealthCheck")) == (1, 0)


class TestCallers:
    def test_readiness_reads_health_without_per_check_route53_calls(self, sandbox: InProcessSandbox) -> None:
        """Readiness of qa: its health checks in one batch, an unhealthy one reported with its reason."""
        from dr.checks.readiness import readiness

        qa_checks = sorted({r.health_checks["qa"] for r in sandbox.topology.dns if r.arc is None})
        sandbox.control.set_health(qa_checks[0], False)
        clients, faults = counting(sandbox)
        results = [r for r in readiness(sandbox.topology, clients, SYSTEM_CLOCK, "qa") if r.check == "health-check"]
        assert {r.resource: r.ok for r in results} == {hc: hc != qa_checks[0] for hc in qa_checks}
        assert faults.count("route53", "GetHealthCheckStatus") == 0
        failing = next(r for r in results if not r.ok)
        assert "unhealthy" in failing.reason

    def test_an_exporter_refresh_reads_each_series_group_once(self, sandbox: InProcessSandbox) -> None:
        """Lag (one account+region) and health (one account, us-east-1): two GetMetricData calls per refresh,
        however many sources (health, readiness of each side) need them; no per-check Route53 reads."""
        from dr.metrics.exporter import Exporter

        clients, faults = counting(sandbox)
        exporter = Exporter(sandbox.topology, clients=clients)
        assert exporter.refresh_once()
        assert faults.count("cloudwatch", "GetMetricData") == 2
        assert faults.count("route53", "GetHealthCheckStatus") == 0
        zones = {record.zone_id for record in sandbox.topology.dns}
        # readiness of each side also reads the zone of an arc-routing-control record (its record set uses that
        # side's RECOVERY_CONTROL check: dr/checks/arc.py)
        arc_sides = sum(len(r.targets) for r in sandbox.topology.dns if r.arc is not None)
        assert faults.count("route53", "ListResourceRecordSets") == len(zones) + arc_sides, \
            "one listing per zone, not record"

    def test_shared_reads_last_one_refresh_only(self, sandbox: InProcessSandbox) -> None:
        """Each refresh reads health again (two refreshes: two health reads), never reusing a stale answer."""
        from dr.metrics.exporter import Exporter

        clients, faults = counting(sandbox)
        exporter = Exporter(sandbox.topology, clients=clients)
        assert exporter.refresh_once()
        assert exporter.refresh_once()
        health_reads = [c for c in faults.calls if c[:2] == ("cloudwatch", "GetMetricData") and c[2] == "us-east-1"]
        assert len(health_reads) == 2
