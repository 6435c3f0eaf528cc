"""Database checks from what AWS reported (no AWS needed): replication state, source naming, ARNs."""

from __future__ import annotations

import yaml

from dr.aws.rds import DbView, Role, member_arn, same_resource
from dr.checks.lag import LagSample
from dr.checks.rds import database_checks, member_in
from dr.config.model import Engine, Topology

TOPOLOGY = Topology.model_validate(yaml.safe_load("""
version: 1
environments:
  prod: {account_id: "111111111111", region: eu-central-1}
  qa: {account_id: "222222222222", region: eu-west-1, dr_for: prod}
  cn: {account_id: "333333333333", region: cn-north-1}
databases:
  - {name: orders, engine: rds-instance, primary: {env: prod, id: orders-db},
     replica: {env: prod, region: eu-west-1, id: orders-db-euw1}}
  - {name: local, engine: rds-instance, primary: {env: qa, id: local-db}, replica: {env: qa, id: local-db-r}}
  - {name: china, engine: aurora-cluster, primary: {env: cn, id: c1}, replica: {env: cn, id: c2}}
"""))
ORDERS = TOPOLOGY.databases[0]
FRESH = LagSample("orders", "eu-central-1", "eu-west-1", 3.0, 40.0)


def replica_view(**changes: object) -> DbView:
    base = {"id": "orders-db-euw1", "engine": Engine.RDS_INSTANCE, "env": "prod", "region": "eu-west-1",
            "exists": True, "status": "available", "role": Role.REPLICA,
            "arn": "arn:aws:rds:eu-west-1:111111111111:db:orders-db-euw1",
            "source_arn": "arn:aws:rds:eu-central-1:111111111111:db:orders-db"}
    return DbView(**{**base, **changes})  # type: ignore[arg-type]


def results_for(view: DbView, lag: LagSample | None = FRESH) -> dict[str, tuple[bool, str]]:
    member = member_in(TOPOLOGY, ORDERS, "qa")
    assert member is not None
    return {str(r.check): (r.ok, r.reason) for r in database_checks(TOPOLOGY, "qa", member, view, lag)}


class TestReplicationState:
    def test_replication_error_reported_by_aws_fails_running(self) -> None:
        """StatusInfos read replication 'error' fails replication-running with AWS's message."""
        found = results_for(replica_view(replication_state="error", replication_message="Duplicate entry"))
        assert found["replication-running"] == (False, "read replication is error: Duplicate entry")

    def test_replicating_state_passes(self) -> None:
        """StatusInfos 'replicating' and a fresh lag pass every database check."""
        found = results_for(replica_view(replication_state="replicating"))
        assert all(ok for ok, _ in found.values()), found
        assert found["replication-running"] == (True, "orders-db-euw1: replicating")

    def test_lag_not_read_fails_lag_check(self) -> None:
        """A replica whose lag was not read at all fails lag-within-rpo rather than passing silently."""
        assert results_for(replica_view(), lag=None)["lag-within-rpo"] == (False, "lag was not read")


class TestSourcesAndArns:
    def test_same_region_source_named_by_plain_id_matches(self) -> None:
        """A same-region replica names its source by id; that matches the source's ARN."""
        assert same_resource("local-db", "arn:aws:rds:eu-west-1:222222222222:db:local-db")
        assert not same_resource("local-db", "arn:aws:rds:eu-west-1:222222222222:db:other-local-db")

    def test_member_arn_uses_the_region_partition_and_kind(self) -> None:
        """China regions are in the aws-cn partition; clusters are `cluster:` resources."""
        china = TOPOLOGY.databases[2]
        assert member_arn(TOPOLOGY, china, china.primary) == "arn:aws-cn:rds:cn-north-1:333333333333:cluster:c1"

    def test_same_region_pair_gives_the_dr_side_the_replica(self) -> None:
        """When both members share the region, the DR environment (dr_for) checks the replica."""
        member = member_in(TOPOLOGY, TOPOLOGY.databases[1], "qa")
        assert member is not None
        assert member.loc.id == "local-db-r"

    def test_database_outside_the_environment_region_is_skipped(self) -> None:
        """A database with no member in ENV's region has no checks there."""
        assert member_in(TOPOLOGY, TOPOLOGY.databases[2], "qa") is None
