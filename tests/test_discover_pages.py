"""The sandbox pages the listings discovery reads as AWS does: RDS clusters and global clusters by MaxRecords and
Marker, Route53 record sets across a failover pair, health checks by MaxItems and Marker."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def moto() -> Iterator[None]:
    """Plain moto with the sandbox's extensions installed."""
    from moto import mock_aws

    from dr.sandbox import install

    install()
    with mock_aws():
        yield


def every_page(client: Any, operation: str, key: str, size: int, **kwargs: Any) -> list[list[dict[str, Any]]]:
    pages = client.get_paginator(operation).paginate(**kwargs, PaginationConfig={"PageSize": size})
    return [page[key] for page in pages]


@pytest.mark.usefixtures("moto")
class TestRdsClusterPages:
    def test_clusters_and_global_clusters_come_in_pages_of_max_records(self) -> None:
        """25 clusters and 25 global clusters with MaxRecords 20: two pages each, every one once."""
        rds = boto3.client("rds", region_name="eu-west-1")
        for i in range(25):
            rds.create_db_cluster(DBClusterIdentifier=f"c{i:02d}", Engine="aurora-mysql", MasterUsername="admin",
                                  MasterUserPassword="sandbox-password-1")
            rds.create_global_cluster(GlobalClusterIdentifier=f"g{i:02d}", Engine="aurora-postgresql")
        clusters = every_page(rds, "describe_db_clusters", "DBClusters", 20)
        globals_ = every_page(rds, "describe_global_clusters", "GlobalClusters", 20)
        assert [len(p) for p in clusters] == [len(p) for p in globals_] == [20, 5]
        assert sorted(c["DBClusterIdentifier"] for p in clusters for c in p) == [f"c{i:02d}" for i in range(25)]
        assert len({g["GlobalClusterIdentifier"] for p in globals_ for g in p}) == 25

    def test_max_records_below_twenty_is_refused(self) -> None:
        """MaxRecords 5 is InvalidParameterValue, as AWS answers (20 to 100)."""
        rds = boto3.client("rds", region_name="eu-west-1")
        with pytest.raises(ClientError, match="InvalidParameterValue"):
            rds.describe_db_clusters(MaxRecords=5)


@pytest.mark.usefixtures("moto")
class TestRoute53Pages:
    def test_a_page_ending_inside_a_failover_pair_resumes_at_its_second_set(self) -> None:
        """One set per page: NextRecordIdentifier names the SECONDARY, and each set is listed once."""
        r53 = boto3.client("route53", region_name="us-east-1")
        zone = r53.create_hosted_zone(Name="example.com.", CallerReference="z")["HostedZone"]["Id"]
        sets = [{"Name": "www.example.com.", "Type": "CNAME", "TTL": 60, "SetIdentifier": side, "Failover": role,
                 "ResourceRecords": [{"Value": f"www.{side}.example.com"}]}
                for side, role in (("prod", "PRIMARY"), ("qa", "SECONDARY"))]
        r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={
            "Changes": [{"Action": "CREATE", "ResourceRecordSet": s} for s in sets]})
        first = r53.list_resource_record_sets(HostedZoneId=zone, StartRecordName="www.example.com.",
                                              StartRecordType="CNAME", MaxItems="1")
        assert (first["NextRecordName"], first["NextRecordIdentifier"]) == ("www.example.com.", "qa")
        pages = every_page(r53, "list_resource_record_sets", "ResourceRecordSets", 1, HostedZoneId=zone)
        listed = [(s["Name"], s["Type"], s.get("SetIdentifier")) for p in pages for s in p]
        assert len(listed) == len(set(listed)) == 4  # NS, SOA, and the two failover sets

    def test_health_checks_come_in_pages_of_max_items(self) -> None:
        """Five checks, MaxItems 2: pages of 2, 2, 1 resumed by NextMarker, every check once."""
        r53 = boto3.client("route53", region_name="us-east-1")
        ids = {r53.create_health_check(CallerReference=f"hc{i}", HealthCheckConfig={
            "Type": "HTTPS", "FullyQualifiedDomainName": f"h{i}.example.com", "Port": 443})["HealthCheck"]["Id"]
            for i in range(5)}
        pages = every_page(r53, "list_health_checks", "HealthChecks", 2)
        assert [len(p) for p in pages] == [2, 2, 1]
        assert {h["Id"] for p in pages for h in p} == ids
