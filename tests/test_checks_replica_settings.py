"""`replica-settings` readiness: what the topology declares for each copy exists in its account and region, and
an encrypted copy has a KMS key declared for its region."""

from __future__ import annotations

from typing import Any

from dr.checks.model import CheckKind, CheckResult
from dr.checks.readiness import readiness
from dr.clock import SYSTEM_CLOCK
from dr.config.model import Topology
from dr.testing import InProcessSandbox


def _settings_results(sandbox: InProcessSandbox, env: str, topology: Topology | None = None) -> dict[str, CheckResult]:
    results = readiness(topology or sandbox.topology, sandbox.clients, SYSTEM_CLOCK, env)
    return {r.resource: r for r in results if r.check is CheckKind.REPLICA_SETTINGS}


def _with_region_settings(topology: Topology, region: str, **changes: Any) -> Topology:
    prod = topology.environments["prod"]
    block = prod.replica_settings[region].model_copy(update=changes)
    envs = {**topology.environments,
            "prod": prod.model_copy(update={"replica_settings": {**prod.replica_settings, region: block}})}
    return topology.model_copy(update={"environments": envs})


class TestReplicaSettingsReadiness:
    def test_the_seeded_example_has_every_declared_resource(self, sandbox: InProcessSandbox) -> None:
        """Every database member of qa and of prod passes: keys, groups and subnet groups exist where declared."""
        for env in ("qa", "prod"):
            results = _settings_results(sandbox, env)
            assert len(results) == 4
            assert all(r.ok for r in results.values()), results
        assert "declared resources exist in prod/eu-west-1" in _settings_results(sandbox, "qa")["orders-db-euw1"].reason

    def test_a_missing_option_group_fails_naming_it_and_where(self, sandbox: InProcessSandbox) -> None:
        """An option group deleted in eu-west-1: the instance members there fail; Aurora members do not use it."""
        sandbox.clients.client("rds", "prod", "eu-west-1").delete_option_group(OptionGroupName="postgres16-dr")
        results = _settings_results(sandbox, "qa")
        assert not results["orders-db-euw1"].ok
        assert results["orders-db-euw1"].reason == "option group postgres16-dr not found in prod/eu-west-1"
        assert results["inventory-cluster-euw1"].ok

    def test_an_unknown_security_group_and_kms_alias_fail(self, sandbox: InProcessSandbox) -> None:
        """A security group id and a KMS alias that do not exist in the region are both reported."""
        topology = _with_region_settings(sandbox.topology, "eu-west-1", kms_key_id="alias/nope",
                                         vpc_security_group_ids=["sg-0123456789abcdef0"])
        reason = _settings_results(sandbox, "qa", topology)["customers-db-euw1"].reason
        assert "KMS key alias/nope not found in prod/eu-west-1" in reason
        assert "security group sg-0123456789abcdef0 not found in prod/eu-west-1" in reason

    def test_an_encrypted_copy_without_a_declared_key_fails_saying_what_to_add(
            self, sandbox: InProcessSandbox) -> None:
        """The seeded copies are encrypted: with no kms_key_id for eu-west-1, each non-global member fails."""
        topology = _with_region_settings(sandbox.topology, "eu-west-1", kms_key_id=None)
        results = _settings_results(sandbox, "qa", topology)
        assert not results["orders-db-euw1"].ok
        assert "orders-db-euw1 is encrypted but no kms_key_id is declared for eu-west-1" in results[
            "orders-db-euw1"].reason
        assert "environments.prod.replica_settings.eu-west-1" in results["orders-db-euw1"].reason
        assert results["payments-cluster-euw1"].ok  # a global secondary is never re-created by drctl
