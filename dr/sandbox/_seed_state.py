"""Seed where runs keep shared state, when the topology names it: the S3 journal bucket, the DynamoDB lock table."""

from __future__ import annotations

from dr.aws.factory import ClientFactory
from dr.config.model import Topology

LOCK_KEY = "lock_id"
"""The lock table's partition key (dr.engine.lock.dynamodb documents the schema)."""


def seed_state(topology: Topology, clients: ClientFactory) -> None:
    """Create `state.s3_bucket` and `state.dynamodb_table` in the state environment's account and region."""
    from dr.engine.backends import state_location

    state = topology.state
    if not (state.s3_bucket or state.dynamodb_table):
        return
    env, region = state_location(topology)
    if state.s3_bucket:
        s3 = clients.client("s3", env, region)
        location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=state.s3_bucket, **location)
        s3.put_bucket_versioning(Bucket=state.s3_bucket, VersioningConfiguration={"Status": "Enabled"})
    if state.dynamodb_table:
        dynamodb = clients.client("dynamodb", env, region)
        dynamodb.create_table(
            TableName=state.dynamodb_table, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": LOCK_KEY, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": LOCK_KEY, "AttributeType": "S"}],
        )
        dynamodb.update_time_to_live(TableName=state.dynamodb_table,
                                     TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})
