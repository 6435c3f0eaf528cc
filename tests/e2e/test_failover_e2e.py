"""drctl failover and failback as subprocesses against the sandbox server; AWS state checked independently."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dr.testing.sandbox import ServerSandbox

pytestmark = pytest.mark.e2e


def independent(sbx: ServerSandbox, service: str, region: str, env: str = "prod", endpoint: str | None = None) -> Any:
    """A plain boto3 client (not drctl's factory) in env's account, through the sandbox endpoint (or `endpoint`)."""
    import boto3

    role = sbx.topology.environments[env].role_arn
    sts = boto3.client("sts", region_name=region, endpoint_url=sbx.endpoint, aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    creds = sts.assume_role(RoleArn=role, RoleSessionName="e2e-check")["Credentials"]
    return boto3.client(service, region_name=region, endpoint_url=endpoint or sbx.endpoint,
                        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds["SessionToken"])


def fast(sbx: ServerSandbox) -> None:
    """Promotions and Route53 changes in 0.2 s; a lag datapoint every 5 s (a planned move's catch-up waits for
    datapoints after its fence: one a minute would make it wait minutes)."""
    sbx.control.set_promotion_seconds(0.2)
    sbx.control.set_change_pending_seconds(0.2)
    sbx.control.set_metric_period_seconds(5.0)


def source_of(sbx: ServerSandbox, rds: Any, db_id: str) -> str:
    return str(rds.describe_db_instances(DBInstanceIdentifier=db_id)["DBInstances"][0]
               .get("ReadReplicaSourceDBInstanceIdentifier") or "")


def api_value(sbx: ServerSandbox) -> str:
    api = next(r for r in sbx.topology.dns if r.fqdn == "api.example.com.")
    route53 = independent(sbx, "route53", "us-east-1")
    sets = route53.list_resource_record_sets(HostedZoneId=api.zone_id)["ResourceRecordSets"]
    return next(s["ResourceRecords"][0]["Value"] for s in sets if s["Name"] == api.fqdn)


def arc_states(sbx: ServerSandbox) -> dict[str, str]:
    """The arc-routing-control record's routing control states, read on its cluster's last endpoint."""
    shop = next(r for r in sbx.topology.dns if r.arc is not None)
    assert shop.arc is not None
    endpoint = shop.arc.endpoints[-1]
    cluster = independent(sbx, "route53-recovery-cluster", endpoint.region, endpoint=endpoint.url)
    return {side: cluster.get_routing_control_state(RoutingControlArn=arn)["RoutingControlState"]
            for side, arn in shop.arc.routing_controls.items()}


class TestFailoverEndToEnd:
    def test_failover_under_simulated_outage_then_failback(self, sandbox_server: ServerSandbox) -> None:
        """failover --simulate-outage eu-central-1 moves everything to qa (the ARC record by its routing controls);
        re-run once the region answers, it fences the old primaries it could not reach (then a third run is
        already-done); failback returns it."""
        sbx = sandbox_server
        fast(sbx)
        asked = sbx.control.stats().calls.get("route53", {}).get("TestDNSAnswer", 0)
        done = sbx.run_drctl("failover", "--to", "qa", "--yes", "--simulate-outage", "eu-central-1", "-o", "json")
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert report["status"] == "succeeded"
        # failover-routing verified through the sandbox's DNS responder (DRCTL_DNS_VERIFY), not the API
        assert sbx.control.stats().calls.get("route53", {}).get("TestDNSAnswer", 0) == asked
        assert report["rto"]["met"] is True
        west = independent(sbx, "rds", "eu-west-1")
        assert source_of(sbx, west, "orders-db-euw1") == ""
        assert api_value(sbx) == "api.eu-west-1.example.com"
        assert arc_states(sbx) == {"prod": "Off", "qa": "On"}  # the ARC record, on the server's cluster endpoints

        assert any("drctl fence --env prod" in a for a in report["advice"])
        again = sbx.run_drctl("failover", "--to", "qa", "--yes", "-o", "json")
        assert again.returncode == 0, again.stderr
        rerun = json.loads(again.stdout)
        assert rerun["status"] == "succeeded"
        fences = {s["name"]: s["status"] for s in rerun["steps"] if s["name"].startswith("fence-old-writer:")}
        assert set(fences.values()) == {"succeeded"}, rerun["steps"]
        third = sbx.run_drctl("failover", "--to", "qa", "--yes", "-o", "json")
        assert third.returncode == 0, third.stderr
        assert json.loads(third.stdout)["status"] == "already-done"

        account = sbx.topology.environments["prod"].account_id
        for db in sbx.topology.databases:
            sbx.control.set_replica_lag(account, "eu-central-1", db.engine.value, db.primary.id, 5.0)
            sbx.control.set_replica_lag(account, "eu-west-1", db.engine.value, db.replica.id, 5.0)
        back = sbx.run_drctl("failback", "--to", "prod", "--yes", "-o", "json", timeout=180)
        assert back.returncode == 0, back.stdout + back.stderr
        central = independent(sbx, "rds", "eu-central-1")
        assert source_of(sbx, central, "orders-db") == ""
        fenced = [d for d in central.describe_db_instances()["DBInstances"]
                  if d["DBInstanceIdentifier"].startswith("orders-db-fenced-")]
        assert [d["DBInstanceStatus"] for d in fenced] in (["stopped"], ["stopping"])
        assert "orders-db" in source_of(sbx, west, "orders-db-euw1")
        home = central.describe_db_clusters(DBClusterIdentifier="inventory-cluster")["DBClusters"][0]
        assert not home.get("ReplicationSourceIdentifier")
        replica = west.describe_db_clusters(DBClusterIdentifier="inventory-cluster-euw1")["DBClusters"][0]
        assert "inventory-cluster" in replica["ReplicationSourceIdentifier"]
        assert api_value(sbx) == "api.eu-central-1.example.com"
        assert arc_states(sbx) == {"prod": "On", "qa": "Off"}

    def test_failed_promotion_is_reported_and_drctl_resume_completes_it(self, sandbox_server: ServerSandbox) -> None:
        """A replica in backing-up: exit 1, the report names it; `drctl resume` finishes once the backup ends."""
        sbx = sandbox_server
        fast(sbx)
        account = sbx.topology.environments["prod"].account_id
        sbx.control.set_db_status(account, "eu-west-1", "orders-db-euw1", "backing-up")
        # unplanned: promotion failures and resume are the point here, not the planned move's catch-up wait
        first = sbx.run_drctl("failover", "--to", "qa", "--yes", "--unplanned", "--run-id", "e2e-partial", "-o",
                              "json")
        assert first.returncode == 1, first.stdout + first.stderr
        report = json.loads(first.stdout)
        orders = next(s for s in report["steps"] if s["name"] == "promote:orders")
        assert orders["status"] == "failed"
        assert "backing-up" in orders["detail"]
        west = independent(sbx, "rds", "eu-west-1")
        assert source_of(sbx, west, "customers-db-euw1") == ""
        sbx.control.set_db_status(account, "eu-west-1", "orders-db-euw1", "available")
        resumed = sbx.run_drctl("resume", "e2e-partial", "--yes", "-o", "json")
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert json.loads(resumed.stdout)["status"] == "succeeded"
        assert source_of(sbx, west, "orders-db-euw1") == ""
        assert api_value(sbx) == "api.eu-west-1.example.com"
