"""What the sandbox-extension tests share: a reset LocalControl on the test's clock, one cached RDS client per
region, and the orders primary with its cross-region replica."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3

from dr.clock import FakeClock
from dr.sandbox.control import LocalControl


@functools.cache
def rds(region: str) -> Any:
    """One client per region per test (`local_control` clears the cache): creating clients is slow."""
    return boto3.client("rds", region_name=region)


@contextmanager
def local_control(clock: FakeClock) -> Iterator[LocalControl]:
    """The sandbox's control on `clock`, every knob reset before and after (use inside moto's mock)."""
    control = LocalControl(clock)
    control.reset()
    rds.cache_clear()
    try:
        yield control
    finally:
        rds.cache_clear()
        control.reset()


def orders_primary_and_replica() -> str:
    """orders-db in eu-central-1 and its read replica orders-db-euw1 in eu-west-1; returns the primary's ARN."""
    primary = rds("eu-central-1").create_db_instance(
        DBInstanceIdentifier="orders-db",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="admin",
        MasterUserPassword="password1",
    )["DBInstance"]
    rds("eu-west-1").create_db_instance_read_replica(
        DBInstanceIdentifier="orders-db-euw1",
        SourceDBInstanceIdentifier=primary["DBInstanceArn"],
        SourceRegion="eu-central-1",
    )
    return str(primary["DBInstanceArn"])
