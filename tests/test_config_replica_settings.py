"""Replica settings in the topology: formats and AWS facts validated with paths and fixes; a copy's settings are
its own over its environment-and-region defaults."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from dr.config import load
from dr.config.replica import DEFAULT_BACKUP_RETENTION_DAYS, ReplicaSettings
from dr.config.validate import validate
from tests.conftest import EXAMPLE
from tests.test_config_validation import BASE, Mutation, _delete, _set

WEST = "environments.prod.replica_settings.eu-west-1"

BAD: list[tuple[str, Mutation, str, str]] = [
    ("kms-not-a-key", _set(f"{WEST}.kms_key_id", "my-key"), f"{WEST}.kms_key_id", "is not a KMS key"),
    ("kms-other-region", _set(f"{WEST}.kms_key_id", "arn:aws:kms:eu-central-1:111111111111:alias/drctl-rds"),
     f"{WEST}.kms_key_id", "KMS keys are regional"),
    ("sg-malformed", _set(f"{WEST}.vpc_security_group_ids", ["sg-12"]), f"{WEST}.vpc_security_group_ids",
     "sg- and 8 or 17 hex digits"),
    ("sg-empty", _set(f"{WEST}.vpc_security_group_ids", []), f"{WEST}.vpc_security_group_ids", "default security"),
    ("window-format", _set(f"{WEST}.preferred_backup_window", "2am-3am"), f"{WEST}.preferred_backup_window",
     "hh24:mi-hh24:mi"),
    ("window-too-short", _set(f"{WEST}.preferred_backup_window", "02:00-02:10"), f"{WEST}.preferred_backup_window",
     "at least 30 minutes"),
    ("retention-zero", _set(f"{WEST}.backup_retention_period", 0), f"{WEST}.backup_retention_period",
     "greater than or equal to 1"),
    ("retention-too-long", _set(f"{WEST}.backup_retention_period", 36), f"{WEST}.backup_retention_period",
     "less than or equal to 35"),
    ("bad-instance-class", _set(f"{WEST}.instance_class", "r6g.large"), f"{WEST}.instance_class", "db.r6g.large"),
    ("bad-storage-type", _set(f"{WEST}.storage_type", "ssd"), f"{WEST}.storage_type", "gp3"),
    ("throughput-not-gp3", _set(WEST, {"storage_type": "gp2", "storage_throughput": 500}), WEST, "only for gp3"),
    ("unknown-settings-key", _set(f"{WEST}.kms_key", "alias/x"), f"{WEST}.kms_key", "Extra"),
    ("settings-unknown-region", _set("environments.prod.replica_settings.eu-west-9", {}),
     "environments.prod.replica_settings.eu-west-9", "does not exist in AWS"),
    ("option-group-on-aurora", _set("databases.2.replica.settings.option_group", "og"),
     "databases[2].replica.settings.option_group", "does not apply to an Aurora replica cluster"),
    ("cluster-group-on-instance", _set("databases.0.replica.settings", {"cluster_parameter_group": "c"}),
     "databases[0].replica.settings.cluster_parameter_group", "does not apply to an RDS instance"),
]


def _findings(doc: dict[str, Any]) -> list[Any]:
    return validate(doc)[1]


class TestReplicaSettingsValidation:
    @pytest.mark.parametrize(("mutation", "path", "words"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
    def test_bad_settings_are_errors_at_their_path_with_a_fix(self, mutation: Mutation, path: str,
                                                              words: str) -> None:
        """Each bad value: an error finding at the exact path, whose message explains it, with a hint."""
        doc = copy.deepcopy(BASE)
        mutation(doc)
        model, findings = validate(doc)
        assert model is None
        matching = [f for f in findings if f.path == path and f.severity == "error"]
        assert matching, [str(f) for f in findings]
        assert any(words in f.message for f in matching), [f.message for f in matching]
        assert all(f.hint for f in matching)

    def test_a_copy_without_security_groups_or_subnet_group_is_warned_about(self) -> None:
        """No vpc_security_group_ids / db_subnet_group for a region: warnings naming where to declare them."""
        doc = copy.deepcopy(BASE)
        _delete(f"{WEST}.vpc_security_group_ids")(doc)
        _delete(f"{WEST}.db_subnet_group")(doc)
        model, findings = validate(doc)
        assert model is not None
        warnings = [f for f in findings if f.severity == "warning" and f.path == "databases[0].replica"]
        assert any("default security group" in f.message and WEST in f.hint for f in warnings)
        assert any("default subnet group" in f.message for f in warnings)

    def test_the_example_validates_without_findings(self) -> None:
        """The shipped example declares every copy's settings: no error, no warning."""
        assert _findings(copy.deepcopy(BASE)) == []


class TestSettingsFor:
    def test_a_copy_gets_its_regions_defaults_with_its_own_fields_over_them(self) -> None:
        """inventory's replica: the region's key, groups and backups, its own parameter groups."""
        topology = load(EXAMPLE)
        inventory = next(d for d in topology.databases if d.name == "inventory")
        settings = topology.settings_for(inventory.replica)
        assert settings.kms_key_id == "alias/drctl-rds"
        assert settings.vpc_security_group_ids == ["sg-0b2c3d4e5f6071829"]
        assert (settings.parameter_group, settings.cluster_parameter_group) == ("aurora-mysql8-dr",
                                                                                "aurora-mysql8-binlog")
        assert settings.backup_args() == {"BackupRetentionPeriod": 14, "PreferredBackupWindow": "02:00-02:30"}

    def test_nothing_declared_means_aws_defaults_and_a_week_of_backups(self) -> None:
        """No settings anywhere: no argument beyond backups, kept for DEFAULT_BACKUP_RETENTION_DAYS (not 1)."""
        settings = ReplicaSettings()
        assert settings.instance_replica_args() == {}
        assert settings.backup_args() == {"BackupRetentionPeriod": DEFAULT_BACKUP_RETENTION_DAYS}

    def test_a_window_may_wrap_past_midnight(self) -> None:
        """23:45-00:15 is 30 minutes: valid."""
        assert ReplicaSettings(preferred_backup_window="23:45-00:15").preferred_backup_window == "23:45-00:15"
