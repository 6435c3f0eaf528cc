"""Route53 reads: health-check status by Route53's 18% rule, and which side a record serves (both strategies)."""

from __future__ import annotations

from test_checks_support import Seeded, module, world

from dr.aws.route53 import health_check_status, read_health_check, read_record, record_side

OK, BAD = "Success: HTTP Status Code 200, OK", "Failure: Connection timed out"


def upsert(world: Seeded, name: str, value: str) -> None:
    rec = next(r for r in world.topology.dns if r.fqdn == name)
    route53 = world.clients.route53("prod")
    route53.change_resource_record_sets(HostedZoneId=rec.zone_id, ChangeBatch={"Changes": [{
        "Action": "UPSERT",
        "ResourceRecordSet": {"Name": name, "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": value}]}}]})
    prod_target = rec.targets["prod"]
    world.on_teardown(lambda: route53.change_resource_record_sets(HostedZoneId=rec.zone_id, ChangeBatch={"Changes": [{
        "Action": "UPSERT",
        "ResourceRecordSet": {"Name": name, "Type": "CNAME", "TTL": 60,
                              "ResourceRecords": [{"Value": prod_target}]}}]}))


__all__ = ["module", "world"]  # fixtures shared from test_checks_support


class TestHealthCheckStatus:
    def test_more_than_18_percent_healthy_checkers_is_healthy(self, world: Seeded) -> None:
        """3 of 16 checkers (18.75%) reporting success is healthy, as Route53 decides."""
        hc = world.health_id("hc-api-qa")
        world.set_reports(hc, [OK] * 3 + [BAD] * 13)
        assert health_check_status(world.clients, "prod", hc) is True

    def test_18_percent_or_less_is_unhealthy_with_the_failure(self, world: Seeded) -> None:
        """2 of 16 (12.5%) is unhealthy; the reason quotes a failing checker."""
        hc = world.health_id("hc-api-qa")
        world.set_reports(hc, [OK] * 2 + [BAD] * 14)
        status = read_health_check(world.clients, "prod", hc)
        assert status.healthy is False
        assert status.reason == f"health check {hc} unhealthy: 2 of 16 checkers report success ({BAD})"

    def test_no_observation_is_unhealthy(self, world: Seeded) -> None:
        """A check without any observation is not taken as healthy."""
        hc = world.health_id("hc-api-qa")
        world.set_reports(hc, [])
        status = read_health_check(world.clients, "prod", hc)
        assert status.healthy is False
        assert "no checker observations" in status.reason


class TestHealthCheckConfiguration:
    """Route53 decides from the check's configuration too (HealthCheckConfig): Inverted, Disabled, CALCULATED."""

    def test_an_inverted_check_whose_checkers_succeed_is_unhealthy(self, world: Seeded) -> None:
        """Every checker reports success, but the check is inverted: Route53 considers it unhealthy."""
        hc = world.health_id("hc-api-qa")
        route53 = world.clients.route53("prod")
        route53.update_health_check(HealthCheckId=hc, Inverted=True)
        world.on_teardown(lambda: route53.update_health_check(HealthCheckId=hc, Inverted=False))
        world.set_reports(hc, [OK] * 16)
        status = read_health_check(world.clients, "prod", hc)
        assert status.healthy is False
        assert status.reason == f"health check {hc} unhealthy: 16 of 16 checkers report success, and the check is " \
                                "inverted"

    def test_a_disabled_check_is_healthy_whatever_its_checkers_say(self, world: Seeded) -> None:
        """Disabled: Route53 considers the check healthy even when every checker reports failure."""
        hc = world.health_id("hc-api-qa")
        route53 = world.clients.route53("prod")
        route53.update_health_check(HealthCheckId=hc, Disabled=True)
        world.on_teardown(lambda: route53.update_health_check(HealthCheckId=hc, Disabled=False))
        world.set_reports(hc, [BAD] * 16)
        assert health_check_status(world.clients, "prod", hc) is True

    def test_a_calculated_check_counts_its_healthy_children(self, world: Seeded) -> None:
        """A calculated check is healthy when at least HealthThreshold children are; one failing child of two
        fails a threshold of 2 and passes a threshold of 1."""
        child = world.health_id("hc-api-qa")
        other = next(hc for rec in world.topology.dns for hc in rec.health_checks.values() if hc != child)
        route53 = world.clients.route53("prod")
        verdicts = []
        for threshold in (1, 2):
            created = route53.create_health_check(CallerReference=f"calc-{threshold}", HealthCheckConfig={
                "Type": "CALCULATED", "ChildHealthChecks": [child, other], "HealthThreshold": threshold})
            calc = created["HealthCheck"]["Id"]
            world.on_teardown(lambda calc=calc: route53.delete_health_check(HealthCheckId=calc))
            world.set_reports(child, [BAD] * 16)
            verdicts.append(health_check_status(world.clients, "prod", calc))
        assert verdicts == [True, False]


class TestRecordSide:
    def test_upsert_record_serves_the_side_of_its_value(self, world: Seeded) -> None:
        """The seeded CNAME points at prod's target; after an UPSERT to qa's target it serves qa."""
        api = next(r for r in world.topology.dns if r.name == "api.example.com.")
        assert record_side(world.clients, world.topology, api) == "prod"
        upsert(world, "api.example.com.", "API.eu-west-1.example.com.")
        answer = read_record(world.clients, world.topology, api)
        assert answer.side == "qa"
        assert answer.value == "API.eu-west-1.example.com."

    def test_upsert_record_pointing_elsewhere_serves_no_side(self, world: Seeded) -> None:
        """A value that is no side's target gives None, with the value in the detail."""
        api = next(r for r in world.topology.dns if r.name == "api.example.com.")
        upsert(world, "api.example.com.", "maintenance.example.com")
        answer = read_record(world.clients, world.topology, api)
        assert answer.side is None
        assert answer.detail == "CNAME -> maintenance.example.com"

    def test_missing_record_serves_no_side(self, world: Seeded) -> None:
        """A record that does not exist in the zone gives None and says so."""
        api = next(r for r in world.topology.dns if r.name == "api.example.com.")
        answer = read_record(world.clients, world.topology, api, name="drill-api.example.com.")
        assert answer.side is None
        assert answer.detail.startswith("no CNAME record drill-api.example.com.")

    def test_failover_record_serves_primary_while_healthy(self, world: Seeded) -> None:
        """Failover routing answers PRIMARY (prod) while its health check is healthy."""
        www = next(r for r in world.topology.dns if r.name == "www.example.com.")
        answer = read_record(world.clients, world.topology, www)
        assert (answer.side, answer.detail.split(" ->")[0]) == ("prod", "PRIMARY healthy")

    def test_failover_record_serves_secondary_when_primary_unhealthy(self, world: Seeded) -> None:
        """PRIMARY unhealthy and SECONDARY healthy: Route53 answers SECONDARY (qa)."""
        www = next(r for r in world.topology.dns if r.name == "www.example.com.")
        world.make_unhealthy(world.health_id("hc-www-prod"))
        assert record_side(world.clients, world.topology, www) == "qa"

    def test_failover_record_serves_primary_when_both_unhealthy(self, world: Seeded) -> None:
        """Both unhealthy: Route53 answers PRIMARY anyway."""
        www = next(r for r in world.topology.dns if r.name == "www.example.com.")
        world.make_unhealthy(world.health_id("hc-www-prod"))
        world.make_unhealthy(world.health_id("hc-www-qa"))
        answer = read_record(world.clients, world.topology, www)
        assert answer.side == "prod"
        assert answer.detail.startswith("PRIMARY and SECONDARY unhealthy")
