"""`drctl export arc-plan`: the topology's failover as an ARC Region switch CreatePlan, checked against botocore."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from dr.arc.plan import build
from dr.arc.validate import model_problems
from dr.aws.factory import ClientFactory
from dr.cli.main import app
from dr.clock import SYSTEM_CLOCK
from dr.config import load
from dr.engine.step import RunContext


def _plan(path: Path) -> Any:
    topology = load(path)
    ctx = RunContext(topology=topology, clients=ClientFactory(topology), clock=SYSTEM_CLOCK, run_id="t",
                     runbook="failover", source="prod", target="qa")
    return build(ctx)


def _blocks(document: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for step in document["workflows"][0]["steps"]:
        for inner in step["executionBlockConfiguration"]["parallelConfig"]["steps"]:
            out[inner["name"]] = inner["executionBlockType"]
    return out


class TestArcPlan:
    def test_example_plan_fits_botocores_createplan_model(self, example_path: Path) -> None:
        """Databases, ECS pairs and failover records become Region switch blocks; the document passes the
        arc-region-switch model (types, required members, enums, lengths, patterns)."""
        plan = _plan(example_path)
        assert model_problems("arc-region-switch", "CreatePlan", plan.document) == []
        blocks = _blocks(plan.document)
        assert blocks["db-orders"] == "RdsPromoteReadReplica"
        assert blocks["db-payments"] == "AuroraGlobalDatabase"
        assert blocks["dns-www.example.com"] == "Route53HealthCheck"
        assert blocks["ecs-ecs-1-service-a"] == "ECSServiceScaling"
        assert plan.document["workflows"][0]["workflowTargetRegion"] == "eu-west-1"

    def test_what_a_plan_cannot_express_is_listed(self, example_path: Path) -> None:
        """The Aurora replica cluster, UPSERT records, ASGs and EKS are named as not covered, not faked."""
        text = "\n".join(_plan(example_path).not_covered)
        for name in ("promote:inventory", "api.example.com.", "payments.internal.example.com.", "Auto Scaling",
                     "EKS"):
            assert name in text

    def test_the_model_check_catches_a_wrong_document(self, example_path: Path) -> None:
        """A bad enum and a missing required member are reported with their path."""
        document = _plan(example_path).document
        document["recoveryApproach"] = "sideways"
        del document["regions"]
        problems = "\n".join(model_problems("arc-region-switch", "CreatePlan", document))
        assert "regions" in problems
        assert "sideways" in problems

    def test_command_prints_the_document_and_the_gaps(self, example_path: Path) -> None:
        """`drctl export arc-plan --to qa`: exit 0, the JSON document on stdout, the gaps on stderr."""
        result = CliRunner().invoke(app, ["export", "arc-plan", "--to", "qa", "-c", str(example_path)])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["name"] == "drctl-prod-to-qa"
        assert "not in the plan: promote:inventory" in result.stderr
