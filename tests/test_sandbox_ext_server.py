"""The sandbox server: extensions work over HTTP, `HttpControl` drives them, the middleware counts and throttles."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from dr.sandbox.control import HttpControl, SandboxControlError
from dr.sandbox.server import SandboxServer, start_server

ACCOUNT = "123456789012"
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with start_server() as running:
        yield running


@pytest.fixture
def control(server: SandboxServer) -> Iterator[HttpControl]:
    server.control.reset()
    yield server.control
    server.control.reset()


def _client(server: SandboxServer, service: str, region: str = "us-east-1", **kwargs: Any) -> Any:
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=server.endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        **kwargs,
    )


def _replica(server: SandboxServer, name: str) -> None:
    primary = _client(server, "rds", "eu-central-1").create_db_instance(
        DBInstanceIdentifier=f"{name}-db",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="admin",
        MasterUserPassword="password1",
    )["DBInstance"]
    _client(server, "rds", "eu-west-1").create_db_instance_read_replica(
        DBInstanceIdentifier=f"{name}-replica",
        SourceDBInstanceIdentifier=primary["DBInstanceArn"],
        SourceRegion="eu-central-1",
    )


class TestExtensionsOverHttp:
    def test_promotion_over_http_is_recorded_with_its_done_time(
        self, server: SandboxServer, control: HttpControl
    ) -> None:
        """A promotion through the server unlinks the replica and shows up in promotion_events()."""
        _replica(server, "promo")
        control.set_promotion_seconds(600)
        answer = _client(server, "rds", "eu-west-1").promote_read_replica(DBInstanceIdentifier="promo-replica")
        assert answer["DBInstance"]["DBInstanceStatus"] == "modifying"
        [event] = control.promotion_events()
        assert (event.identifier, event.region, event.account_id) == ("promo-replica", "eu-west-1", ACCOUNT)
        assert event.done_at - event.requested_at == pytest.approx(timedelta(seconds=600), abs=timedelta(seconds=1))

    def test_backing_up_set_over_http_refuses_promotion(self, server: SandboxServer, control: HttpControl) -> None:
        """set_db_status reaches the server's backends: a backing-up replica is not promoted."""
        _replica(server, "busy")
        control.set_db_status(ACCOUNT, "eu-west-1", "busy-replica", "backing-up")
        with pytest.raises(ClientError) as err:
            _client(server, "rds", "eu-west-1").promote_read_replica(DBInstanceIdentifier="busy-replica")
        assert err.value.response["Error"]["Code"] == "InvalidDBInstanceState"

    def test_replication_state_set_over_http_is_reported(self, server: SandboxServer, control: HttpControl) -> None:
        """set_replication_state through the server shows in the replica's StatusInfos."""
        _replica(server, "state")
        control.set_replication_state(ACCOUNT, "eu-west-1", "state-replica", "replication degraded")
        [found] = _client(server, "rds", "eu-west-1").describe_db_instances(DBInstanceIdentifier="state-replica")[
            "DBInstances"
        ]
        assert found["StatusInfos"][0]["Status"] == "replication degraded"

    def test_health_set_over_http_moves_the_dns_answer(self, server: SandboxServer, control: HttpControl) -> None:
        """An unhealthy primary (set through HttpControl) makes TestDNSAnswer return the secondary."""
        r53 = _client(server, "route53")
        zone = r53.create_hosted_zone(Name="http.example.com", CallerReference="http")["HostedZone"]["Id"]
        checks = {}
        for role, target in (("PRIMARY", "a.http.example.com"), ("SECONDARY", "b.http.example.com")):
            checks[role] = r53.create_health_check(
                CallerReference=role,
                HealthCheckConfig={"Type": "HTTPS", "FullyQualifiedDomainName": target, "Port": 443},
            )["HealthCheck"]["Id"]
            record = {
                "Name": "api.http.example.com",
                "Type": "CNAME",
                "TTL": 60,
                "SetIdentifier": role,
                "Failover": role,
                "HealthCheckId": checks[role],
                "ResourceRecords": [{"Value": target}],
            }
            r53.change_resource_record_sets(
                HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": record}]}
            )
        control.set_health(checks["PRIMARY"], False)
        answer = r53.test_dns_answer(HostedZoneId=zone, RecordName="api.http.example.com", RecordType="CNAME")
        assert answer["RecordData"] == ["b.http.example.com"]

    def test_lag_set_over_http_is_read_through_cloudwatch(self, server: SandboxServer, control: HttpControl) -> None:
        """A lag registered through HttpControl comes back from GetMetricData against the server."""
        from datetime import UTC, datetime

        _replica(server, "lag")
        control.set_replica_lag(ACCOUNT, "eu-west-1", "rds-instance", "lag-replica", 9.0)
        now = datetime.now(UTC)
        result = _client(server, "cloudwatch", "eu-west-1").get_metric_data(
            MetricDataQueries=[
                {
                    "Id": "lag",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": "AWS/RDS",
                            "MetricName": "ReplicaLag",
                            "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": "lag-replica"}],
                        },
                        "Period": 60,
                        "Stat": "Maximum",
                    },
                }
            ],
            StartTime=now - timedelta(minutes=5),
            EndTime=now + timedelta(minutes=1),
        )["MetricDataResults"][0]
        assert set(result["Values"]) == {9.0}

    def test_the_seeds_nonexistent_region_is_accepted(self, server: SandboxServer, control: HttpControl) -> None:
        """eu-east-1 (which AWS does not have) works for regional services in the server."""
        assert _client(server, "rds", "eu-east-1").describe_db_instances()["DBInstances"] == []


class TestDataOverHttp:
    def test_the_load_and_the_data_report_work_through_the_server(
        self, server: SandboxServer, control: HttpControl
    ) -> None:
        """start_writes / data_report over HTTP: the primary took the first tick's write, the replica none."""
        _replica(server, "data")
        control.start_writes(60)  # one tick now, the next a minute away
        report = control.data_report()
        control.stop_writes()
        copies = {c["identifier"]: c for c in report["copies"]}
        assert copies["data-db"]["acknowledged_writes"] == 1
        assert (copies["data-replica"]["role"], copies["data-replica"]["acknowledged_writes"]) == ("replica", 0)
        assert copies["data-db"]["family"] == copies["data-replica"]["family"]
        assert report["load"]["interval_seconds"] == 60

    def test_an_outage_set_over_http_is_listed_and_ended(self, control: HttpControl) -> None:
        """set_outage / outages over HTTP; the hang time is validated by the server."""
        control.set_outage("ap-south-1", True)
        assert list(control.outages()) == ["ap-south-1"]
        control.set_outage("ap-south-1", False)
        assert control.outages() == {}
        with pytest.raises(SandboxControlError, match="outage hang seconds must be >= 0"):
            control.set_outage_hang_seconds(-1)


class TestHttpControl:
    def test_local_http_and_dispatch_serve_every_method_of_the_protocol(self) -> None:
        """LocalControl, HttpControl and the server's dispatch are kept in sync with SandboxControl."""
        from dr.sandbox.control import _SETTERS, LocalControl
        from dr.sandbox.control_protocol import SandboxControl

        names = {name for name in vars(SandboxControl) if not name.startswith("_")}
        assert names <= set(dir(LocalControl))
        assert names <= set(dir(HttpControl))
        assert names == _SETTERS | {"stats", "promotion_events", "outages", "data_report"}

    def test_an_unknown_health_check_is_reported_by_the_server(self, control: HttpControl) -> None:
        """The server's refusal comes back as SandboxControlError with its message."""
        with pytest.raises(SandboxControlError, match="no Route53 health check"):
            control.set_health("missing", True)

    def test_an_unknown_control_method_is_an_error(self, control: HttpControl) -> None:
        """A method the server does not know is refused, not ignored."""
        with pytest.raises(SandboxControlError, match="unknown sandbox control method"):
            control._call("set_everything")

    def test_an_unreachable_server_is_reported_with_its_address(self) -> None:
        """A dead endpoint gives SandboxControlError naming the endpoint, quickly."""
        with pytest.raises(SandboxControlError, match=r"127\.0\.0\.1:9"):
            HttpControl("http://127.0.0.1:9", timeout=2).stats()


class TestCallCounting:
    def test_calls_are_counted_by_service_and_operation(self, server: SandboxServer, control: HttpControl) -> None:
        """Query, rest-xml and rpc-v2-cbor calls are all named; Route53 changes are counted per zone."""
        r53 = _client(server, "route53")
        zone = r53.create_hosted_zone(Name="count.example.com", CallerReference="count")["HostedZone"]["Id"]
        change = {
            "Action": "UPSERT",
            "ResourceRecordSet": {
                "Name": "x.count.example.com",
                "Type": "A",
                "TTL": 60,
                "ResourceRecords": [{"Value": "192.0.2.1"}],
            },
        }
        for _ in range(2):
            r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [change]})
        _client(server, "rds", "eu-west-1").describe_db_instances()
        _client(server, "cloudwatch", "eu-west-1").list_metrics()
        stats = control.stats()
        assert stats.calls["route53"] == {"CreateHostedZone": 1, "ChangeResourceRecordSets": 2}
        assert stats.calls["rds"] == {"DescribeDBInstances": 1}
        assert stats.calls["cloudwatch"] == {"ListMetrics": 1}
        assert stats.route53_changes_by_zone == {zone.split("/")[-1]: 2}

    def test_reset_empties_the_counters(self, server: SandboxServer, control: HttpControl) -> None:
        """After reset() the stats start from zero."""
        _client(server, "rds", "eu-west-1").describe_db_instances()
        control.reset()
        assert control.stats().total() == 0


def assert_refused(err: ClientError, code: str) -> None:
    """An injected rejection as botocore reads it: HTTP 400 with the AWS error code."""
    assert err.response["Error"]["Code"] == code
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400


class TestRdsThrottling:
    """RDS's API bucket per account and region, as the RDS User Guide documents it (12/s, burst 300 on AWS)."""

    def test_calls_beyond_the_burst_are_throttled_per_region(self, server: SandboxServer, control: HttpControl) -> None:
        control.set_rds_throttle(rate=0.001, burst=2)
        west = _client(server, "rds", "eu-west-1", config=NO_RETRIES)
        for _ in range(2):
            west.describe_db_instances()
        with pytest.raises(ClientError) as err:
            west.describe_db_clusters()
        assert_refused(err.value, "ThrottlingException")
        _client(server, "rds", "eu-central-1", config=NO_RETRIES).describe_db_instances()  # its own bucket
        _client(server, "route53", config=NO_RETRIES).list_hosted_zones()  # not RDS's bucket
        assert control.stats().rejected == {"ThrottlingException": {"DescribeDBClusters": 1}}

    def test_botocore_retries_the_rejection_as_throttling(self) -> None:
        """The code is one botocore's retry modes back off on (standard and adaptive)."""
        from botocore.retries.standard import ThrottledRetryableChecker

        assert "ThrottlingException" in ThrottledRetryableChecker._THROTTLED_ERROR_CODES

    def test_setting_the_throttle_again_starts_with_full_buckets(
            self, server: SandboxServer, control: HttpControl) -> None:
        """The benchmark sets it right before a run, so the run starts with the API at rest."""
        rds = _client(server, "rds", "eu-west-1", config=NO_RETRIES)
        control.set_rds_throttle(rate=0.001, burst=1)
        rds.describe_db_instances()
        with pytest.raises(ClientError):
            rds.describe_db_instances()
        control.set_rds_throttle(rate=0.001, burst=1)
        rds.describe_db_instances()
        assert control.stats().rejected == {"ThrottlingException": {"DescribeDBInstances": 1}}

    def test_off_again_after_setting_none(self, server: SandboxServer, control: HttpControl) -> None:
        control.set_rds_throttle(rate=0.001, burst=1)
        control.set_rds_throttle(None)
        rds = _client(server, "rds", "eu-west-1", config=NO_RETRIES)
        for _ in range(3):
            rds.describe_db_instances()
        assert control.stats().rejected == {}

    def test_a_bucket_without_tokens_is_refused(self, control: HttpControl) -> None:
        with pytest.raises(SandboxControlError, match="rate > 0"):
            control.set_rds_throttle(rate=0, burst=10)


class TestRoute53Throttling:
    def test_the_bucket_rejects_calls_beyond_the_burst_with_throttling(
        self, server: SandboxServer, control: HttpControl
    ) -> None:
        """With burst 3 and a negligible refill, the 4th Route53 call is a 400 Throttling, and counted."""
        control.set_route53_throttle(rate=0.001, burst=3)
        r53 = _client(server, "route53", config=NO_RETRIES)
        for _ in range(3):
            r53.list_hosted_zones()
        with pytest.raises(ClientError) as err:
            r53.list_hosted_zones()
        assert_refused(err.value, "Throttling")
        assert control.stats().rejected == {"Throttling": {"ListHostedZones": 1}}

    def test_other_services_are_not_throttled(self, server: SandboxServer, control: HttpControl) -> None:
        """The Route53 bucket does not apply to RDS."""
        control.set_route53_throttle(rate=0.001, burst=1)
        rds = _client(server, "rds", "eu-west-1", config=NO_RETRIES)
        for _ in range(3):
            rds.describe_db_instances()
        assert control.stats().rejected == {}

    def test_throttling_is_off_again_after_setting_none(self, server: SandboxServer, control: HttpControl) -> None:
        """set_route53_throttle(None) lets every call through."""
        control.set_route53_throttle(rate=0.001, burst=1)
        control.set_route53_throttle(None)
        r53 = _client(server, "route53", config=NO_RETRIES)
        for _ in range(3):
            r53.list_hosted_zones()
        assert control.stats().rejected == {}



class TestCallbackEndpoint:
    def test_a_stopped_server_hands_the_callbacks_back_to_the_one_still_serving(self, server: SandboxServer) -> None:
        """Step Functions Tasks and the caller Lambda call back the newest live server: once a second server in the
        same process stops, they go to the first again, not to the stopped one's port."""
        from dr.sandbox.extensions import sfn_tasks

        with start_server() as second:
            assert sfn_tasks.served_endpoint() == second.endpoint
        assert sfn_tasks.served_endpoint() == server.endpoint
