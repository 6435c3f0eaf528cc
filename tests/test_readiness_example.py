"""The shipped example topology, seeded into moto, is ready in qa through `drctl readiness`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_checks_support import seeded
from typer.testing import CliRunner

from dr.cli.main import app
from dr.config import load
from dr.sandbox.topology_file import write_topology


@pytest.mark.usefixtures("aws")
class TestExampleTopology:
    def test_example_is_ready_in_qa_for_every_engine(self, example_path: Path, tmp_path: Path) -> None:
        """rds-instance, aurora-cluster and aurora-global replicas all pass, and so does the rest: exit 0."""
        world = seeded(topology=load(example_path))
        config = write_topology(world.topology, tmp_path / "dr.yaml")
        result = CliRunner().invoke(app, ["readiness", "--env", "qa", "-c", str(config), "-o", "json"])
        doc = json.loads(result.output)
        assert result.exit_code == 0, [c for c in doc["checks"] if not c["ok"]]
        sources = {c["resource"] for c in doc["checks"] if c["check"] == "replica-source"}
        assert sources == {"orders-db-euw1", "customers-db-euw1", "inventory-cluster-euw1", "payments-cluster-euw1"}
        assert {c["check"] for c in doc["checks"]} >= {"lag-within-rpo", "health-check", "eks-cluster",
                                                     "ecs-service", "autoscaling-group"}
