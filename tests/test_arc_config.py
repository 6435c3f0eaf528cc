"""`arc-routing-control` in the topology (validation), in `drctl plan` (control-plane calls per strategy) and in
readiness (cluster, endpoints, routing controls, their health checks and records)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from dr.checks.arc import arc_readiness, check_endpoints
from dr.checks.model import CheckKind
from dr.cli.main import app
from dr.config.validate import validate
from dr.testing.sandbox import InProcessSandbox


def example(example_path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(example_path.read_text())
    return document


def arc_index(doc: dict[str, Any]) -> int:
    return next(i for i, r in enumerate(doc["dns"]) if r.get("strategy") == "arc-routing-control")


def findings(doc: dict[str, Any]) -> dict[str, str]:
    return {f.path: f"{f.severity}: {f.message}" for f in validate(doc)[1]}


class TestValidation:
    def test_the_example_arc_record_is_valid(self, example_path: Path) -> None:
        """The example's arc-routing-control record validates without findings."""
        model, found = validate(example(example_path))
        assert model is not None
        assert found == []

    def test_a_missing_routing_control_or_health_check_is_an_error_naming_the_side(self, example_path: Path) -> None:
        """No routing control (or health check) for qa: an error at that path naming qa."""
        doc = example(example_path)
        i = arc_index(doc)
        del doc["dns"][i]["arc"]["routing_controls"]["qa"]
        del doc["dns"][i]["health_checks"]["qa"]
        found = findings(doc)
        assert found[f"dns[{i}].arc.routing_controls"].startswith("error: no routing control for qa")
        assert found[f"dns[{i}].health_checks"].startswith("error: no health check for qa")

    def test_a_cluster_in_another_account_and_an_arc_section_without_the_strategy_are_errors(
            self, example_path: Path) -> None:
        """The cluster must be in the record env's account; `arc` on an upsert record is refused."""
        doc = example(example_path)
        i = arc_index(doc)
        doc["dns"][i]["arc"]["cluster_arn"] = "arn:aws:route53-recovery-control::222222222222:cluster/x"
        doc["dns"][0]["arc"] = copy.deepcopy(doc["dns"][i]["arc"])
        found = findings(doc)
        assert "is in account 222222222222" in found[f"dns[{i}].arc.cluster_arn"]
        assert found["dns[0].arc"].startswith("error: arc is only read for strategy arc-routing-control")

    def test_no_endpoints_is_a_warning_about_the_control_plane(self, example_path: Path) -> None:
        """Without arc.endpoints: a warning that a move would call DescribeCluster (control plane)."""
        doc = example(example_path)
        i = arc_index(doc)
        del doc["dns"][i]["arc"]["endpoints"]
        model, _ = validate(doc)
        assert model is not None
        assert findings(doc)[f"dns[{i}].arc.endpoints"].startswith("warning: no cluster endpoints listed")


def plan(path: Path) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["plan", "failover", "--to", "qa", "-c", str(path), "-o", "json"])
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


class TestPlan:
    def test_the_plan_counts_zero_control_plane_calls_for_arc_and_marks_each_call(
            self, example_path: Path, aws: None) -> None:
        """arc-routing-control: 0 control-plane calls on the critical path; upsert and failover-routing more; the
        ARC step's calls are data plane, the zone step's ChangeResourceRecordSets control plane."""
        document = plan(example_path)
        counts = {k: v["count"] for k, v in document["control_plane_calls"].items()}
        assert counts["arc-routing-control"] == 0
        assert counts["upsert"] > 0
        assert counts["failover-routing"] > 0
        steps = {s["name"]: s for p in document["phases"] for s in p["steps"]}
        arc = next(s for n, s in steps.items() if n.startswith("dns:arc-"))
        marks = dict(zip(arc["calls"], arc["planes"], strict=True))
        update = next(m for c, m in marks.items() if "UpdateRoutingControlStates" in c)
        assert update["plane"] == "data"
        zone = next(s for n, s in steps.items() if n.startswith("dns:") and not n.startswith("dns:arc-"))
        change = next(m for c, m in zip(zone["calls"], zone["planes"], strict=True) if "ChangeResourceRecordSets" in c)
        assert (change["plane"], change["scope"]) == ("control", "global")

    def test_without_endpoints_the_plan_counts_the_describe_cluster(self, example_path: Path, tmp_path: Path,
                                                                     aws: None) -> None:
        """No arc.endpoints: DescribeCluster is one control-plane call on arc-routing-control's critical path,
        and the text plan says so."""
        doc = example(example_path)
        del doc["dns"][arc_index(doc)]["arc"]["endpoints"]
        path = tmp_path / "dr.yaml"
        path.write_text(yaml.safe_dump(doc))
        entry = plan(path)["control_plane_calls"]["arc-routing-control"]
        assert entry["count"] == 1
        assert "DescribeCluster" in entry["calls"][0]
        text = CliRunner().invoke(app, ["plan", "failover", "--to", "qa", "-c", str(path)]).stdout
        assert "   arc-routing-control: 1" in text


class TestReadiness:
    def test_the_seeded_arc_record_is_ready(self, sandbox: InProcessSandbox) -> None:
        """Seeded: cluster and endpoints as the topology lists them, qa's control, health check and record set; with
        two endpoints' Regions down it stays ready and names them."""
        results = arc_readiness(sandbox.topology, sandbox.clients, "qa")
        kinds = {r.check for r in results}
        assert kinds == {CheckKind.ARC_CLUSTER, CheckKind.ARC_ENDPOINTS, CheckKind.ARC_ROUTING_CONTROL}
        assert all(r.ok for r in results), [r.reason for r in results if not r.ok]
        endpoints = next(r for r in results if r.check is CheckKind.ARC_ENDPOINTS)
        assert endpoints.reason.startswith("5 of 5 answer")
        rec = next(r for r in sandbox.topology.dns if r.arc is not None)
        assert rec.arc is not None
        sandbox.control.set_outage_hang_seconds(0)
        for region in ("us-east-1", "us-west-2"):  # two endpoints' Regions down: still ready, the silent ones named
            sandbox.control.set_outage(region)
        partly = check_endpoints(sandbox.clients, rec.env, "qa", rec.arc, [])
        assert partly.ok
        assert partly.reason.startswith("3 of 5 answer")
        assert "not: us-east-1" in partly.reason

    def test_a_health_check_that_is_not_recovery_control_fails_readiness(self, sandbox: InProcessSandbox) -> None:
        """qa's side naming an HTTPS health check: arc-routing-control fails, saying what to create."""
        topology = sandbox.topology
        api = next(r for r in topology.dns if r.fqdn == "api.example.com.")
        records = [r.model_copy(update={"health_checks": {**r.health_checks, "qa": api.health_checks["qa"]}})
                   if r.arc is not None else r for r in topology.dns]
        results = arc_readiness(topology.model_copy(update={"dns": records}), sandbox.clients, "qa")
        side = next(r for r in results if r.check is CheckKind.ARC_ROUTING_CONTROL)
        assert not side.ok
        assert "not RECOVERY_CONTROL" in side.reason
