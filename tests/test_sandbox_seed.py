"""Seeding the sandbox recreates any valid topology in the right accounts and regions, in steady state."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dr.config import check_file
from dr.config.model import Topology
from dr.sandbox.seed import SeedError, serving_sides, zone_name
from dr.testing import InProcessSandbox, in_process_sandbox

PROD, QA = "111111111111", "222222222222"

GLOBAL_ONLY = """
version: 1
objectives: {rto: 10m, rpo: 1m}
environments:
  main:    {account_id: "444444444444", region: us-east-1}
  standby: {account_id: "555555555555", region: us-west-2, role_arn: "arn:aws:iam::555555555555:role/dr",
            dr_for: main}
  dev:     {account_id: "777777777777", region: us-east-2}
databases:
  - name: ledger
    engine: aurora-global
    global_cluster_id: ledger-global
    primary: {env: main, id: ledger-use1}
    replica: {env: main, region: us-west-2, id: ledger-usw2}
  - name: scratch
    engine: rds-instance
    primary: {env: dev, id: scratch}
    replica: {env: dev, region: us-west-1, id: scratch-ro}
"""

MULTI = """
version: 1
environments:
  eu:    {account_id: "600000000001", region: eu-central-1, role_arn: "arn:aws:iam::600000000001:role/dr"}
  eu-dr: {account_id: "600000000002", region: eu-west-1, role_arn: "arn:aws:iam::600000000002:role/dr", dr_for: eu}
  us:    {account_id: "600000000003", region: us-east-1, role_arn: "arn:aws:iam::600000000003:role/dr"}
  us-dr: {account_id: "600000000004", region: us-west-2, role_arn: "arn:aws:iam::600000000004:role/dr", dr_for: us}
databases:
  - name: carts
    engine: rds-instance
    primary: {env: eu, id: carts}
    replica: {env: eu, region: eu-west-1, id: carts-r}
  - name: catalog
    engine: aurora-cluster
    primary: {env: us, id: catalog}
    replica: {env: us, region: us-west-2, id: catalog-r}
dns:
  - zone_id: ZONE-EU
    env: eu
    name: shop.eu.example.net.
    strategy: upsert
    targets: {eu: shop.eu-central-1.example.net, eu-dr: shop.eu-west-1.example.net,
              us: shop.us-east-1.example.net, us-dr: shop.us-west-2.example.net}
    health_checks: {eu: hc-eu, eu-dr: hc-eu-dr}
  - zone_id: ZONE-US
    env: us
    name: www.shop.example.org.
    strategy: failover-routing
    targets: {eu: www.eu-central-1.example.org, eu-dr: www.eu-west-1.example.org,
              us: www.us-east-1.example.org, us-dr: www.us-west-2.example.org}
    health_checks: {eu: hc-www-eu, us: hc-www-us, us-dr: hc-www-us-dr}
    drill_name: drill.shop.example.org.
  - zone_id: ZONE-US
    env: us
    name: api.shop.example.org.
    type: A
    ttl: 20
    targets: {eu: 192.0.2.1, eu-dr: 192.0.2.2, us: 198.51.100.1, us-dr: 198.51.100.2}
    health_checks: {us: hc-api-us}
state: {env: us-dr, s3_bucket: shop-drctl-runs, dynamodb_table: shop-drctl-lock}
readiness:
  eu-dr:
    ecs_services: [{cluster: shop, service: web, min_running: 3}, {cluster: shop, service: worker, min_running: 1}]
    autoscaling_groups: [{name: edge, min_in_service: 3}]
  us-dr:
    eks_clusters: [apps]
    autoscaling_groups: [{name: edge, min_in_service: 1}]
"""

SHARED_ACCOUNT = """
version: 1
environments:
  prod:     {account_id: "800000000001", region: eu-central-1, role_arn: "arn:aws:iam::800000000001:role/dr"}
  prod-app: {account_id: "800000000001", region: eu-central-1}
  dr:       {account_id: "800000000002", region: eu-west-1, role_arn: "arn:aws:iam::800000000002:role/dr",
             dr_for: prod}
readiness:
  prod:
    ecs_services: [{cluster: ecs-1, service: api, min_running: 2}]
    autoscaling_groups: [{name: web, min_in_service: 2}]
  prod-app:
    eks_clusters: [apps]
    ecs_services: [{cluster: ecs-1, service: api, min_running: 2}, {cluster: ecs-1, service: jobs, min_running: 1}]
    autoscaling_groups: [{name: web, min_in_service: 2}, {name: batch, min_in_service: 1}]
  dr:
    autoscaling_groups: [{name: web, min_in_service: 2}]
"""

CHAIN = """
version: 1
objectives: {rto: 1h30m, rpo: 90s}
environments:
  a: {account_id: "900000000001", region: ap-south-1}
  b: {account_id: "900000000002", region: sa-east-1, dr_for: a}
  c: {account_id: "900000000003", region: ca-central-1, dr_for: b}
databases:
  - {name: x, engine: aurora-cluster, primary: {env: a, id: x}, replica: {env: a, region: sa-east-1, id: x-r}}
  - name: y
    engine: aurora-global
    global_cluster_id: yg
    primary: {env: b, id: y}
    replica: {env: b, region: ca-central-1, id: y-r}
dns:
  - zone_id: ZA
    env: b
    name: Example.COM
    type: AAAA
    strategy: failover-routing
    targets: {a: "2001:db8::1", b: "2001:db8::2", c: "2001:db8::3"}
    health_checks: {a: h1, b: h2, c: h3}
  - {zone_id: ZA, env: b, name: www.example.com, targets: {a: a.example.com, b: b.example.com, c: c.example.com}}
readiness:
  c:
    ecs_services: [{cluster: e, service: s, min_running: 0}]
state: {dynamodb_table: locks}
"""


@pytest.fixture(scope="class")
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessSandbox]:
    """One seeded sandbox per test class (its TOPOLOGY text, else the example): these tests only read."""
    workdir = tmp_path_factory.mktemp("seeded")
    text = getattr(request.cls, "TOPOLOGY", None)
    with in_process_sandbox(_write(workdir, text) if text else None, workdir) as box:
        yield box


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "topology.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _rds(box: InProcessSandbox, env: str, region: str) -> Any:
    return box.clients.client("rds", env, region)


def _instance(box: InProcessSandbox, env: str, region: str, ident: str) -> dict[str, Any]:
    return _rds(box, env, region).describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]  # type: ignore[no-any-return]


def _cluster(box: InProcessSandbox, env: str, region: str, ident: str) -> dict[str, Any]:
    return _rds(box, env, region).describe_db_clusters(DBClusterIdentifier=ident)["DBClusters"][0]  # type: ignore[no-any-return]


def _record_sets(box: InProcessSandbox, env: str, zone_id: str) -> list[dict[str, Any]]:
    route53 = box.clients.route53(env)
    return route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]  # type: ignore[no-any-return]


def _latest_lag(box: InProcessSandbox, env: str, region: str, metric: str, *, dim: str, ident: str) -> float:
    now = datetime.now(UTC)
    stats = box.clients.client("cloudwatch", env, region).get_metric_statistics(
        Namespace="AWS/RDS", MetricName=metric, Dimensions=[{"Name": dim, "Value": ident}],
        StartTime=now - timedelta(minutes=10), EndTime=now + timedelta(minutes=1), Period=60, Statistics=["Maximum"])
    points = sorted(stats["Datapoints"], key=lambda p: p["Timestamp"])
    assert points, f"no {metric} datapoints for {ident}"
    return float(points[-1]["Maximum"])


class TestZoneName:
    def test_zone_is_the_common_suffix_of_its_records(self) -> None:
        """Records api.example.com. and www.example.com. live in zone example.com."""
        assert zone_name(["api.example.com.", "www.example.com"]) == "example.com."

    def test_single_record_zone_is_its_parent_domain(self) -> None:
        """A lone record gets its parent domain as zone, so a CNAME is never at the apex."""
        assert zone_name(["payments.internal.example.com."]) == "internal.example.com."

    def test_records_of_unrelated_domains_cannot_share_a_zone(self) -> None:
        """One hosted zone holds one domain: records under two TLDs are refused with the names."""
        with pytest.raises(SeedError, match=r"example\.org"):
            zone_name(["a.example.com.", "b.example.org."])


class TestServingSides:
    def test_record_served_by_its_env_pair_in_a_multi_pair_topology(self, tmp_path: Path) -> None:
        """With two DR pairs, a record of env `us` serves `us` with `us-dr` as its DR side."""
        model, findings = check_file(_write(tmp_path, MULTI))
        assert model is not None, findings
        assert serving_sides(model, model.dns[1]) == ("us", "us-dr")
        assert serving_sides(model, model.dns[0]) == ("eu", "eu-dr")


class TestSeedExample:
    def test_rds_replicas_link_to_the_primary_arn_in_the_primary_account(self, seeded: InProcessSandbox) -> None:
        """orders-db-euw1 (prod account, eu-west-1) replicates from orders-db's ARN in eu-central-1."""
        primary = _instance(seeded, "prod", "eu-central-1", "orders-db")
        replica = _instance(seeded, "prod", "eu-west-1", "orders-db-euw1")
        assert primary["DBInstanceArn"] == f"arn:aws:rds:eu-central-1:{PROD}:db:orders-db"
        assert replica["ReadReplicaSourceDBInstanceIdentifier"] == primary["DBInstanceArn"]
        assert replica["DBInstanceArn"] in primary["ReadReplicaDBInstanceIdentifiers"]
        assert primary["Engine"] in {"postgres", "mysql"}
        assert primary["EngineVersion"]

    def test_accounts_are_isolated(self, seeded: InProcessSandbox) -> None:
        """The DR account qa holds no databases: replicas stay in the primary's account."""
        for region in ("eu-central-1", "eu-west-1"):
            assert _rds(seeded, "qa", region).describe_db_instances()["DBInstances"] == []
        assert seeded.topology.environments["qa"].account_id == QA

    def test_aurora_cluster_replica_replicates_from_the_primary_cluster(self, seeded: InProcessSandbox) -> None:
        """inventory-cluster-euw1 has ReplicationSourceIdentifier = inventory-cluster's ARN."""
        primary = _cluster(seeded, "prod", "eu-central-1", "inventory-cluster")
        replica = _cluster(seeded, "prod", "eu-west-1", "inventory-cluster-euw1")
        assert replica["ReplicationSourceIdentifier"] == primary["DBClusterArn"]
        assert replica["DBClusterArn"] in primary["ReadReplicaIdentifiers"]

    def test_aurora_global_has_writer_in_primary_region_and_secondary_in_dr_region(
            self, seeded: InProcessSandbox) -> None:
        """payments-global: payments-cluster writes, payments-cluster-euw1 (eu-west-1) reads."""
        glob = _rds(seeded, "prod", "eu-central-1").describe_global_clusters(
            GlobalClusterIdentifier="payments-global")["GlobalClusters"][0]
        members = {m["DBClusterArn"]: m["IsWriter"] for m in glob["GlobalClusterMembers"]}
        assert members == {f"arn:aws:rds:eu-central-1:{PROD}:cluster:payments-cluster": True,
                           f"arn:aws:rds:eu-west-1:{PROD}:cluster:payments-cluster-euw1": False}

    def test_replica_lag_is_published_fresh_and_small(self, seeded: InProcessSandbox) -> None:
        """Each replica reports a lag of 2 s in its engine's metric, in its own account and region."""
        assert _latest_lag(seeded, "prod", "eu-west-1", "ReplicaLag", dim="DBInstanceIdentifier",
                           ident="orders-db-euw1") == pytest.approx(2.0)
        assert _latest_lag(seeded, "prod", "eu-west-1", "AuroraGlobalDBReplicationLag",
                           dim="DBClusterIdentifier", ident="payments-cluster-euw1") == pytest.approx(2000.0)

    def test_zones_and_health_checks_get_real_ids(self, seeded: InProcessSandbox) -> None:
        """Placeholders are replaced: two zones and eight health checks (two RECOVERY_CONTROL) exist in prod's
        account under the new ids."""
        route53 = seeded.clients.route53("prod")
        zones = {z["Id"].rsplit("/", 1)[-1]: z["Name"] for z in route53.list_hosted_zones()["HostedZones"]}
        assert {r.zone_id for r in seeded.topology.dns} == set(zones)
        assert sorted(zones.values()) == ["example.com.", "internal.example.com."]
        checks = {c["Id"] for c in route53.list_health_checks()["HealthChecks"]}
        used = {hc for r in seeded.topology.dns for hc in r.health_checks.values()}
        assert used == checks
        assert len(checks) == 8
        assert seeded.clients.route53("qa").list_hosted_zones()["HostedZones"] == []

    def test_records_are_in_steady_state_and_drill_records_absent(self, seeded: InProcessSandbox) -> None:
        """api points at prod; www and shop (arc-routing-control) have PRIMARY prod / SECONDARY qa with their checks;
        no drill-* record."""
        api, www, _, shop = seeded.topology.dns
        sets = _record_sets(seeded, "prod", api.zone_id)
        values = {(s["Name"], s.get("Failover")): (s["ResourceRecords"][0]["Value"], s.get("HealthCheckId"))
                  for s in sets if s["Type"] == "CNAME"}
        assert values == {
            ("api.example.com.", None): ("api.eu-central-1.example.com", None),
            ("www.example.com.", "PRIMARY"): ("www.eu-central-1.example.com", www.health_checks["prod"]),
            ("www.example.com.", "SECONDARY"): ("www.eu-west-1.example.com", www.health_checks["qa"]),
            ("shop.example.com.", "PRIMARY"): ("shop.eu-central-1.example.com", shop.health_checks["prod"]),
            ("shop.example.com.", "SECONDARY"): ("shop.eu-west-1.example.com", shop.health_checks["qa"]),
        }

    def test_readiness_resources_at_capacity_in_the_env_account(self, seeded: InProcessSandbox) -> None:
        """qa: EKS clusters ACTIVE, ECS services running 2, ASG web with 2 healthy InService instances."""
        eks = seeded.clients.client("eks", "qa")
        assert {eks.describe_cluster(name=n)["cluster"]["status"] for n in ("cluster-1", "cluster-2")} == {"ACTIVE"}
        services = seeded.clients.client("ecs", "qa").describe_services(
            cluster="ecs-1", services=["service-a", "service-b"])["services"]
        assert [s["runningCount"] for s in services] == [2, 2]
        group = seeded.clients.client("autoscaling", "qa").describe_auto_scaling_groups(
            AutoScalingGroupNames=["web"])["AutoScalingGroups"][0]
        healthy = [i for i in group["Instances"]
                   if (i["LifecycleState"], i["HealthStatus"]) == ("InService", "Healthy")]
        assert len(healthy) == 2
        assert group["AutoScalingGroupARN"].split(":")[4] == QA

    def test_written_config_validates_and_matches_the_seeded_topology(self, seeded: InProcessSandbox) -> None:
        """The YAML written for the sandbox round-trips through the validator to the same model."""
        model, findings = check_file(seeded.config_path)
        assert [f for f in findings if f.severity == "error"] == []
        assert model == seeded.topology
        assert seeded.topology.objectives == seeded.source.objectives


class TestSeedAuroraGlobalOnly:
    TOPOLOGY = GLOBAL_ONLY

    def test_global_cluster_spans_both_regions_in_the_primary_account(self, seeded: InProcessSandbox) -> None:
        """ledger-global: writer ledger-use1 in us-east-1, secondary ledger-usw2 in us-west-2, account 444..."""
        glob = _rds(seeded, "main", "us-east-1").describe_global_clusters(
            GlobalClusterIdentifier="ledger-global")["GlobalClusters"][0]
        writers = [m["DBClusterArn"] for m in glob["GlobalClusterMembers"] if m["IsWriter"]]
        assert writers == ["arn:aws:rds:us-east-1:444444444444:cluster:ledger-use1"]
        secondary = _cluster(seeded, "main", "us-west-2", "ledger-usw2")
        assert secondary["DBClusterArn"] == "arn:aws:rds:us-west-2:444444444444:cluster:ledger-usw2"
        assert _rds(seeded, "standby", "us-west-2").describe_db_clusters()["DBClusters"] == []

    def test_environment_without_role_gets_a_sandbox_role_in_its_own_account(self, seeded: InProcessSandbox) -> None:
        """main and dev have no role_arn: their resources still land in their accounts, reached by a sandbox role."""
        assert seeded.topology.environments["main"].role_arn == "arn:aws:iam::444444444444:role/drctl-sandbox"
        assert seeded.source.environments["main"].role_arn is None
        scratch = _instance(seeded, "dev", "us-west-1", "scratch-ro")
        assert scratch["DBInstanceArn"] == "arn:aws:rds:us-west-1:777777777777:db:scratch-ro"
        assert scratch["ReadReplicaSourceDBInstanceIdentifier"] == "arn:aws:rds:us-east-2:777777777777:db:scratch"

    def test_topology_without_dns_or_readiness_writes_a_valid_config(self, seeded: InProcessSandbox) -> None:
        """Nothing but a database: the written config still validates, with the objectives kept."""
        model, _ = check_file(seeded.config_path)
        assert model is not None
        assert (model.objectives.rto, model.objectives.rpo) == (600.0, 60.0)


class TestSeedMultiPairMultiZone:
    TOPOLOGY = MULTI

    def test_each_pair_replicates_in_its_own_account(self, seeded: InProcessSandbox) -> None:
        """carts-r (eu account, eu-west-1) and catalog-r (us account, us-west-2) link to their primaries."""
        carts = _instance(seeded, "eu", "eu-west-1", "carts-r")
        assert carts["ReadReplicaSourceDBInstanceIdentifier"] == "arn:aws:rds:eu-central-1:600000000001:db:carts"
        catalog = _cluster(seeded, "us", "us-west-2", "catalog-r")
        assert catalog["ReplicationSourceIdentifier"] == "arn:aws:rds:us-east-1:600000000003:cluster:catalog"

    def test_each_zone_lives_in_its_record_env_account(self, seeded: InProcessSandbox) -> None:
        """ZONE-EU is created in eu's account, ZONE-US in us's, each under its own domain."""
        eu_zone, us_zone, _ = (r.zone_id for r in seeded.topology.dns)
        assert seeded.clients.route53("eu").get_hosted_zone(Id=eu_zone)["HostedZone"]["Name"] == "eu.example.net."
        assert seeded.clients.route53("us").get_hosted_zone(Id=us_zone)["HostedZone"]["Name"] == "shop.example.org."
        assert [z["Id"] for z in seeded.clients.route53("eu").list_hosted_zones()["HostedZones"]] == [
            f"/hostedzone/{eu_zone}"]

    def test_failover_and_a_records_serve_the_record_env(self, seeded: InProcessSandbox) -> None:
        """www: PRIMARY us / SECONDARY us-dr with their checks; api: A 198.51.100.1; no drill record."""
        _, www, _ = seeded.topology.dns
        sets = _record_sets(seeded, "us", www.zone_id)
        found = {(s["Name"], s["Type"], s.get("Failover")): (s["ResourceRecords"][0]["Value"], s.get("HealthCheckId"))
                 for s in sets if s["Type"] in ("A", "CNAME")}
        assert found == {
            ("www.shop.example.org.", "CNAME", "PRIMARY"): ("www.us-east-1.example.org", www.health_checks["us"]),
            ("www.shop.example.org.", "CNAME", "SECONDARY"): ("www.us-west-2.example.org", www.health_checks["us-dr"]),
            ("api.shop.example.org.", "A", None): ("198.51.100.1", None),
        }

    def test_health_checks_are_mapped_in_the_zone_owner_account(self, seeded: InProcessSandbox) -> None:
        """Every health-check placeholder maps to a real check of the zone's account, probing its side."""
        for rec in seeded.topology.dns:
            route53 = seeded.clients.route53(rec.env)
            for side, hc_id in rec.health_checks.items():
                config = route53.get_health_check(HealthCheckId=hc_id)["HealthCheck"]["HealthCheckConfig"]
                assert rec.targets[side] in (config.get("FullyQualifiedDomainName"), config.get("IPAddress"))

    def test_readiness_in_each_dr_env_at_its_min_capacity(self, seeded: InProcessSandbox) -> None:
        """eu-dr: ECS web runs 3, worker 1, ASG edge 3 healthy; us-dr: EKS apps ACTIVE, ASG edge 1."""
        ecs = seeded.clients.client("ecs", "eu-dr")
        running = {s["serviceName"]: s["runningCount"]
                   for s in ecs.describe_services(cluster="shop", services=["web", "worker"])["services"]}
        assert running == {"web": 3, "worker": 1}
        for env, count in (("eu-dr", 3), ("us-dr", 1)):
            group = seeded.clients.client("autoscaling", env).describe_auto_scaling_groups(
                AutoScalingGroupNames=["edge"])["AutoScalingGroups"][0]
            assert sum(i["HealthStatus"] == "Healthy" for i in group["Instances"]) == count
        assert seeded.clients.client("eks", "us-dr").describe_cluster(name="apps")["cluster"]["status"] == "ACTIVE"

    def test_state_bucket_and_lock_table_exist_where_runs_look_for_them(self, seeded: InProcessSandbox) -> None:
        """state.s3_bucket and state.dynamodb_table are created in us-dr's account and region."""
        s3 = seeded.clients.client("s3", "us-dr")
        assert s3.get_bucket_location(Bucket="shop-drctl-runs")["LocationConstraint"] == "us-west-2"
        table = seeded.clients.client("dynamodb", "us-dr").describe_table(TableName="shop-drctl-lock")["Table"]
        assert table["KeySchema"] == [{"AttributeName": "lock_id", "KeyType": "HASH"}]
        assert table["TableArn"].split(":")[3:5] == ["us-west-2", "600000000004"]

    def test_rewritten_topology_keeps_everything_but_the_ids(self, seeded: InProcessSandbox) -> None:
        """Only zone_id and health-check ids differ from the source topology."""
        strip: dict[str, Any] = {"dns": {"__all__": {"zone_id", "health_checks"}}}
        assert seeded.topology.model_dump(exclude=strip) == seeded.source.model_dump(exclude=strip)
        assert isinstance(seeded.topology, Topology)


class TestSeedSharedAccount:
    TOPOLOGY = SHARED_ACCOUNT

    def test_resources_listed_by_two_envs_of_one_account_are_made_once(self, seeded: InProcessSandbox) -> None:
        """prod and prod-app share account and region: ecs-1/api and ASG web exist once, the rest alongside."""
        ecs = seeded.clients.client("ecs", "prod-app")
        services = ecs.list_services(cluster="ecs-1")["serviceArns"]
        assert sorted(a.rsplit("/", 1)[-1] for a in services) == ["api", "jobs"]
        groups = seeded.clients.client("autoscaling", "prod").describe_auto_scaling_groups()["AutoScalingGroups"]
        assert sorted(g["AutoScalingGroupName"] for g in groups) == ["batch", "web"]

    def test_same_name_in_another_account_is_its_own_resource(self, seeded: InProcessSandbox) -> None:
        """dr's ASG web lives in dr's account and region with its 2 instances."""
        group = seeded.clients.client("autoscaling", "dr").describe_auto_scaling_groups(
            AutoScalingGroupNames=["web"])["AutoScalingGroups"][0]
        assert group["AutoScalingGroupARN"].split(":")[3:5] == ["eu-west-1", "800000000002"]
        assert len(group["Instances"]) == 2


class TestSeedChainAndOddNames:
    TOPOLOGY = CHAIN

    def test_mixed_case_names_share_one_lower_case_zone(self, seeded: InProcessSandbox) -> None:
        """Example.COM and www.example.com land in zone example.com., listed in lower case as AWS does."""
        zone = seeded.topology.dns[0].zone_id
        assert seeded.clients.route53("b").get_hosted_zone(Id=zone)["HostedZone"]["Name"] == "example.com."
        names = {s["Name"] for s in _record_sets(seeded, "b", zone) if s["Type"] in ("AAAA", "CNAME")}
        assert names == {"example.com.", "www.example.com."}

    def test_failover_pair_follows_the_record_env_in_a_dr_chain(self, seeded: InProcessSandbox) -> None:
        """In a -> b -> c, a record of env b fails over from b to c (its own DR side)."""
        sets = _record_sets(seeded, "b", seeded.topology.dns[0].zone_id)
        roles = {s.get("Failover"): s["ResourceRecords"][0]["Value"] for s in sets if s["Type"] == "AAAA"}
        assert roles == {"PRIMARY": "2001:db8::2", "SECONDARY": "2001:db8::3"}

    def test_lock_table_defaults_to_the_first_dr_environment(self, seeded: InProcessSandbox) -> None:
        """state without env: the lock table is in b (the first DR environment), in b's region."""
        table = seeded.clients.client("dynamodb", "b").describe_table(TableName="locks")["Table"]
        assert table["TableArn"].split(":")[3:5] == ["sa-east-1", "900000000002"]

    def test_service_with_min_running_zero_still_runs_a_task(self, seeded: InProcessSandbox) -> None:
        """min_running 0 is met with one running task, as a live service would have."""
        service = seeded.clients.client("ecs", "c").describe_services(cluster="e", services=["s"])["services"][0]
        assert service["runningCount"] == 1


class TestMotoSpeedups:
    HOSTS = [None, "moto_api", "rds.eu-west-1.amazonaws.com", "route53.amazonaws.com", "rds",
             "eks.eu-central-1.amazonaws.com", "sts.amazonaws.com", "example.invalid"]

    def test_dispatcher_resolves_hosts_as_moto_does(self) -> None:
        """Every host, known or not, resolves to moto's own answer, and again from memory."""
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        from dr.sandbox._moto_speedups import memo_dispatcher

        moto_app, memo = DomainDispatcherApplication(create_backend_app), memo_dispatcher(create_backend_app)
        expected = [moto_app.get_backend_for_host(h) for h in self.HOSTS]
        assert {"rds", "route53"} <= set(expected)
        assert expected[-1] is None
        assert [memo.get_backend_for_host(h) for h in self.HOSTS] == expected
        assert [memo.get_backend_for_host(h) for h in self.HOSTS] == expected

    def test_dispatcher_lists_moto_modules_once_per_host(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from moto import backends
        from moto.moto_server.werkzeug_app import create_backend_app

        from dr.sandbox._moto_speedups import memo_dispatcher

        listed = 0
        listing = backends.list_of_moto_modules

        def counted() -> object:
            nonlocal listed
            listed += 1
            return listing()

        monkeypatch.setattr(backends, "list_of_moto_modules", counted)
        memo = memo_dispatcher(create_backend_app)
        for _ in range(5):
            assert memo.get_backend_for_host("rds.eu-west-1.amazonaws.com") == "rds"
        assert listed == 1

    @pytest.mark.parametrize("arn", [
        "arn:aws:iam::111111111111:role/eks", "arn:aws-cn:iam::111111111111:role/x",
        "arn:nope:iam::111111111111:role/x", "arn:aws:iam::1111:role/x", "", "arn:aws:iam::111111111111:user/x",
    ])
    def test_eks_role_validation_matches_moto(self, arn: str) -> None:
        """The cached EKS role-ARN check accepts and rejects exactly what moto's own does, with its message."""
        from moto.eks.exceptions import InvalidParameterException
        from moto.eks.utils import validate_role_arn as moto_check

        from dr.sandbox._moto_speedups import validate_role_arn

        outcomes = []
        for check in (moto_check, validate_role_arn):
            try:
                check(arn)
                outcomes.append("ok")
            except InvalidParameterException as err:
                outcomes.append(str(err))
        assert outcomes[0] == outcomes[1]
