"""Health-check status at scale: one batched CloudWatch read per account, Route53 itself only as fallback."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dr.aws.factory import ClientFactory
from dr.aws.faults import Faults
from dr.aws.route53 import read_health_checks
from dr.clock import SYSTEM_CLOCK, FakeClock
from dr.testing.sandbox import InProcessSandbox


def ids_of(box: InProcessSandbox) -> list[str]:
    return sorted({hc for record in box.topology.dns for hc in record.health_checks.values()})


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


class TestCallers:
    def test_readiness_reads_health_without_per_check_route53_calls(self, sandbox: InProcessSandbox) -> None:
        """Readiness of qa: its health checks in one batch, an unhealthy one reported with its reason."""
        from dr.checks.readiness import readiness

        qa_checks = sorted({r.health_checks["qa"] for r in sandbox.topology.dns})
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
        assert faults.count("route53", "ListResourceRecordSets") == len(zones), "one listing per zone, not record"

    def test_shared_reads_last_one_refresh_only(self, sandbox: InProcessSandbox) -> None:
        """Each refresh reads health again (two refreshes: two health reads), never reusing a stale answer."""
        from dr.metrics.exporter import Exporter

        clients, faults = counting(sandbox)
        exporter = Exporter(sandbox.topology, clients=clients)
        assert exporter.refresh_once()
        assert exporter.refresh_once()
        health_reads = [c for c in faults.calls if c[:2] == ("cloudwatch", "GetMetricData") and c[2] == "us-east-1"]
        assert len(health_reads) == 2
