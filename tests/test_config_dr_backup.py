"""The topology's DR-backup settings (`dr_backup`, `dr_backups`) and `objectives.max_dns_ttl`: defaults and refusals."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from dr.config.validate import validate

EXAMPLE = Path(__file__).resolve().parent.parent / "dr" / "examples" / "dr.yaml"


@pytest.fixture
def doc() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(EXAMPLE.read_text()))


def errors(raw: dict[str, Any]) -> list[str]:
    return [f"{f.path}: {f.message}" for f in validate(raw)[1] if f.severity == "error"]


class TestDrBackup:
    def test_the_default_applies_to_databases_without_their_own(self, doc: dict[str, Any]) -> None:
        """dr_backups is the default; a database's dr_backup wins; max_age defaults to 26 h."""
        doc["dr_backups"] = {"source": "aws-backup", "vault": "dr-vault"}
        doc["databases"][0]["dr_backup"] = {"source": "rds-replication", "max_age": "2h"}
        topology, findings = validate(doc)
        assert topology is not None, findings
        orders, customers = topology.databases[0], topology.databases[1]
        assert (str(topology.dr_backup_of(orders).source), topology.dr_backup_of(orders).max_age) == (  # type: ignore[union-attr]
            "rds-replication", 7200.0)
        assert topology.dr_backup_of(customers) == topology.dr_backups
        assert topology.dr_backup_of(customers).max_age == 26 * 3600.0  # type: ignore[union-attr]

    def test_aws_backup_needs_a_vault(self, doc: dict[str, Any]) -> None:
        """source aws-backup without vault is refused, saying what the vault is."""
        doc["dr_backups"] = {"source": "aws-backup"}
        assert any("needs `vault`" in e for e in errors(doc))

    def test_rds_replication_refuses_a_vault(self, doc: dict[str, Any]) -> None:
        """A vault with rds-replication is refused (it has none)."""
        doc["databases"][0]["dr_backup"] = {"source": "rds-replication", "vault": "v"}
        assert any("`vault` is for source aws-backup" in e for e in errors(doc))

    def test_rds_replication_is_refused_for_aurora(self, doc: dict[str, Any]) -> None:
        """A default of rds-replication reaches the Aurora databases: refused at dr_backups with the fix."""
        doc["dr_backups"] = {"source": "rds-replication"}
        found = [e for e in errors(doc) if "cannot use rds-replication" in e]
        assert [e.split(":")[0] for e in found] == ["dr_backups", "dr_backups"]
        assert "database inventory (aurora-cluster)" in found[0]

    def test_an_unknown_source_is_refused(self, doc: dict[str, Any]) -> None:
        """Only rds-replication and aws-backup exist."""
        doc["dr_backups"] = {"source": "snapshots"}
        assert errors(doc)


class TestMaxDnsTtl:
    def test_default_is_five_minutes(self, doc: dict[str, Any]) -> None:
        """Without a setting, max_dns_ttl is 300 s."""
        topology, _ = validate(doc)
        assert topology is not None
        assert topology.objectives.max_dns_ttl == 300.0

    def test_a_maximum_not_below_the_rto_is_refused(self, doc: dict[str, Any]) -> None:
        """max_dns_ttl must be less than the RTO: the RTO has to include it."""
        doc["objectives"]["max_dns_ttl"] = "15m"
        assert any("must be less than the rto" in e for e in errors(doc))

    def test_a_short_rto_without_a_maximum_stays_valid(self, doc: dict[str, Any]) -> None:
        """The default maximum is not held to the RTO: a tight drill target (rto 1 s) is a valid topology."""
        doc["objectives"]["rto"] = "1s"
        topology, _ = validate(doc)
        assert topology is not None
