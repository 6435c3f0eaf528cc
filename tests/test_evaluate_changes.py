"""Plan evaluation against the sandbox after changes that cannot be undone (a promotion, a deletion): each fails with
its reason. Changes that can be undone are tested on the shared sandbox of test_evaluate.py."""

from __future__ import annotations

from test_evaluate import DR_REGION, outcome

from dr.testing import InProcessSandbox


class TestResourcesChanges:
    def test_a_missing_replica_fails_saying_so(self, sandbox: InProcessSandbox) -> None:
        """A deleted replica is named, with `not found` and how to re-create it."""
        rds = sandbox.clients.client("rds", "prod", DR_REGION)
        rds.promote_read_replica(DBInstanceIdentifier="customers-db-euw1")
        rds.delete_db_instance(DBInstanceIdentifier="customers-db-euw1", SkipFinalSnapshot=True)
        found = outcome(sandbox, "resources")
        assert not found.ok
        assert "customers-db-euw1 (prod/eu-west-1): replica of customers not found" in found.reason

    def test_a_promoted_replica_fails_as_not_replicating(self, sandbox: InProcessSandbox) -> None:
        """A replica that was promoted (writable) no longer has the replica role the topology gives it."""
        sandbox.clients.client("rds", "prod", DR_REGION).promote_read_replica(DBInstanceIdentifier="orders-db-euw1")
        found = outcome(sandbox, "resources")
        assert not found.ok
        assert "orders-db-euw1" in found.reason
        assert "replicates from nothing (writable)" in found.reason


class TestPermissionsAndDrift:
    def test_a_role_that_does_not_exist_fails_with_how_to_create_it(self, sandbox: InProcessSandbox) -> None:
        """The per-test sandbox seeds no roles: each env's check fails naming the role and `drctl iam policy`."""
        found = outcome(sandbox, "permissions")
        assert not found.ok
        assert "role arn:aws:iam::111111111111:role/drctl does not exist" in found.reason
        assert "`drctl iam policy --env prod`" in found.reason

    def test_a_deleted_replica_is_drift_naming_its_path(self, sandbox: InProcessSandbox) -> None:
        """`drctl config diff`'s finding, in plan evaluation: the missing copy, failing."""
        rds = sandbox.clients.client("rds", "prod", DR_REGION)
        rds.promote_read_replica(DBInstanceIdentifier="customers-db-euw1")
        rds.delete_db_instance(DBInstanceIdentifier="customers-db-euw1", SkipFinalSnapshot=True)
        found = outcome(sandbox, "drift")
        assert not found.ok
        assert "customers-db-euw1" in found.reason
