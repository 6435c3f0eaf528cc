"""`drctl plan failover|failback` and `drctl failover --dry-run`: the ordered steps, nothing changed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from dr.cli.main import app
from tests.failover_support import Harness, harness


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    with harness(tmp_path) as built:
        yield built


def plan(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(app, ["plan", *args, "-o", "json"])
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(result.stdout)
    return document


class TestPlan:
    def test_failover_plan_lists_phases_in_order_with_budgets_and_calls(self, example_path: Path, aws: None) -> None:
        """The failover plan: prechecks, RPO gate, fence and catch-up (planned moves), promotions, then DNS beside
        confirm, the Aurora clusters' backup settings and the fence of what an unplanned move leaves behind; each
        with calls."""
        document = plan("failover", "--to", "qa", "-c", str(example_path))
        phases = document["phases"]
        assert isinstance(phases, list)
        assert [p["name"] for p in phases] == ["prechecks", "rpo-gate", "fence", "catch-up", "promote", "switch"]
        assert {s["name"] for s in phases[2]["steps"]} == {"fence:orders", "fence:customers", "fence:inventory"}
        assert {s["name"] for s in phases[3]["steps"]} == {"catch-up:orders", "catch-up:customers",
                                                           "catch-up:inventory"}
        switch = [s["name"] for s in phases[5]["steps"]]
        assert switch[0] == "confirm"
        assert {n.split(":")[0] for n in switch[1:]} == {"dns", "backups", "fence-old-writer"}
        promote = phases[4]["steps"]
        assert {s["name"] for s in promote} == {"promote:orders", "promote:customers", "promote:inventory",
                                                "promote:payments"}
        assert all(s["budget_seconds"] > 0 and s["calls"] for s in promote)
        assert document["over_rto"] is (document["budget_seconds"] > document["rto_seconds"])

    def test_each_promotion_has_its_databases_budget(self, example_path: Path, tmp_path: Path, aws: None) -> None:
        """A database's promotion_budget and the engines' promotion_budgets are the promote steps' budgets."""
        doc = yaml.safe_load(example_path.read_text())
        doc["databases"][0]["promotion_budget"] = "12m"
        doc["promotion_budgets"] = {"aurora-global": "5m"}
        path = tmp_path / "dr.yaml"
        path.write_text(yaml.safe_dump(doc))
        phases = plan("failover", "--to", "qa", "-c", str(path))["phases"]
        assert isinstance(phases, list)
        budgets = {s["name"]: s["budget_seconds"] for s in phases[4]["steps"]}
        assert budgets == {"promote:orders": 720.0, "promote:customers": 600.0, "promote:inventory": 480.0,
                           "promote:payments": 300.0}

    def test_failback_plan_reprotects_then_switches(self, example_path: Path, aws: None) -> None:
        """The failback plan fences and re-creates before the switch, and restores DR protection after it."""
        names = [p["name"] for p in plan("failback", "--to", "prod", "-c", str(example_path))["phases"]]
        assert names.index("fence-stale") < names.index("reprotect") < names.index("fence") < names.index("promote")
        assert names[-1] == "dr-replicating"

    def test_failback_switch_phase_alone_starts_at_prechecks(self, example_path: Path, aws: None) -> None:
        """--phase switch skips re-protection."""
        names = [p["name"] for p in plan("failback", "--to", "prod", "--phase", "switch", "-c",
                                         str(example_path))["phases"]]
        assert names[0] == "prechecks"
        assert "fence-stale" not in names

    def test_unknown_target_is_a_usage_error(self, example_path: Path) -> None:
        """An environment the topology lacks exits 2."""
        result = CliRunner().invoke(app, ["plan", "failover", "--to", "nowhere", "-c", str(example_path)])
        assert result.exit_code == 2


class TestDryRun:
    def test_dry_run_plans_every_mutation_and_changes_nothing(self, h: Harness) -> None:
        """--dry-run: read-only checks run, mutating steps end `planned`, no mutating AWS call is made."""
        outcome = h.run("failover", "qa", dry_run=True)
        assert outcome.exit_code == 0, outcome.report
        statuses = {s["name"]: s["status"] for s in outcome.report["steps"]}
        assert statuses["promote:orders"] == "planned"
        assert statuses["prechecks"] == "succeeded"
        assert h.mutating_calls() == []
