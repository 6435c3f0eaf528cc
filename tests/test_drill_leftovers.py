"""Deleting an Aurora clone as AWS requires: its instances first, a wait until they are gone, then the cluster."""

from __future__ import annotations

from typing import Any

import pytest

from dr.clock import FakeClock
from dr.drill.clones import delete_cluster_and_members


class FakeRds:
    """An RDS client whose cluster member keeps existing (status `deleting`) for `lingers` more reads."""

    def __init__(self, lingers: int) -> None:
        self.lingers = lingers
        self.calls: list[str] = []
        self.member_deleted = False

    def describe_db_clusters(self, DBClusterIdentifier: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        return {"DBClusters": [{"DBClusterIdentifier": DBClusterIdentifier, "Status": "available",
                                "DBClusterMembers": [{"DBInstanceIdentifier": "c-w"}]}]}

    def describe_db_instances(self, DBInstanceIdentifier: str) -> dict[str, Any]:  # noqa: N803
        if self.member_deleted and self.lingers <= 0:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "DBInstanceNotFound", "Message": "gone"}}, "DescribeDBInstances")
        if self.member_deleted:
            self.lingers -= 1
        status = "deleting" if self.member_deleted else "available"
        return {"DBInstances": [{"DBInstanceIdentifier": DBInstanceIdentifier, "DBInstanceStatus": status}]}

    def delete_db_instance(self, **kwargs: Any) -> None:
        self.calls.append(f"delete-instance {kwargs['DBInstanceIdentifier']}")
        self.member_deleted = True

    def delete_db_cluster(self, **kwargs: Any) -> None:
        if self.lingers > 0:
            raise AssertionError("AWS refuses to delete a cluster whose instances still exist")
        self.calls.append(f"delete-cluster {kwargs['DBClusterIdentifier']}")


class TestDeleteAuroraClone:
    def test_the_cluster_is_deleted_only_after_its_instances_are_gone(self) -> None:
        """Members are deleted, the sweep waits (on the injected clock) while they linger, then deletes the cluster."""
        rds, clock = FakeRds(lingers=2), FakeClock()
        assert delete_cluster_and_members(rds, "c", clock.sleep, wait_seconds=600, poll=10) is True
        assert rds.calls[-1] == "delete-cluster c"
        assert "delete-instance c-w" in rds.calls
        assert clock.monotonic() >= 10

    def test_instances_that_never_go_away_raise_with_a_hint(self) -> None:
        """Past the wait, a TimeoutError names the cluster and `drctl drill cleanup`."""
        rds, clock = FakeRds(lingers=10_000), FakeClock()
        with pytest.raises(TimeoutError, match="drctl drill cleanup"):
            delete_cluster_and_members(rds, "c", clock.sleep, wait_seconds=60, poll=10)
        assert "delete-cluster c" not in rds.calls
