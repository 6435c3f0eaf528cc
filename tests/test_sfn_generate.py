"""The generated state machines: from the runbooks' steps, valid (structure, an independent ASL schema, botocore's
request model), within Step Functions' quotas at seed scale, with a role limited to what they call."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from dr.config import load
from dr.config.model import Topology
from dr.sfn import asl
from dr.sfn.deploy import actions_of, problems, role_policy
from dr.sfn.generate import Definition
from dr.sfn.quotas import MAX_DEFINITION_BYTES, MAX_HISTORY_EVENTS, MAX_INLINE_MAP_CONCURRENCY, _chain, check
from dr.sfn.run import definition_for
from dr.sfn.validate import structural_problems

EXAMPLE = Path(__file__).resolve().parent.parent / "dr" / "examples" / "dr.yaml"


def without_arc(topology: Topology) -> Topology:
    """The topology without its arc-routing-control records (the Step Functions engine cannot move them)."""
    return topology.model_copy(update={"dns": [r for r in topology.dns if r.arc is None]})


@pytest.fixture(scope="module")
def example() -> Topology:
    return without_arc(load(EXAMPLE))


@pytest.fixture(scope="module")
def seed_scale() -> Topology:
    from benchmarks.estate import EstateSize, build

    return build(EstateSize())


@pytest.fixture(scope="module")
def failover(example: Topology) -> Definition:
    return definition_for(example, "failover", "prod", "qa")


def _schema_errors(doc: dict[str, Any]) -> list[str]:
    """cfn-lint's JSON schema of the States Language (what its rule E3601 checks), independent of drctl."""
    from importlib.resources import files

    import jsonschema

    schema = json.loads((files("cfnlint") / "data/schemas/other/step_functions/statemachine.json").read_text())
    return [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(doc)]


def _states(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        here = [node] if "Type" in node and isinstance(node.get("Type"), str) else []
        return here + [s for v in node.values() for s in _states(v)]
    if isinstance(node, list):
        return [s for v in node for s in _states(v)]
    return []


class TestArcRecords:
    def test_an_arc_routing_control_record_is_moved_through_the_caller_on_the_cluster_endpoints(self) -> None:
        """ARC's data plane is the cluster's own endpoints: one UpdateRoutingControlStates (target On, source Off)
        then a GetRoutingControlState read per control, both invoking the caller with the topology's endpoints;
        the caller's role may call exactly those on the controls; nothing blocks."""
        topology = load(EXAMPLE)
        defn = definition_for(topology, "failover", "prod", "qa")
        record = next(r for r in topology.dns if r.arc is not None)
        assert record.arc is not None
        assert defn.blocking == []
        name = next(s for s in defn.steps if s.startswith("dns:arc-"))
        states = _states(defn.asl["States"]["switch"])
        update = next(s for s in states if s.get("Parameters", {}).get("Payload", {}).get("action")
                      == "UpdateRoutingControlStates")
        payload = update["Parameters"]["Payload"]
        assert payload["endpoints"] == [{"region": e.region, "url": e.url} for e in record.arc.endpoints]
        assert {(e["RoutingControlArn"], e["RoutingControlState"])
                for e in payload["parameters"]["UpdateRoutingControlStateEntries"]} == {
            (record.arc.routing_controls["qa"], "On"), (record.arc.routing_controls["prod"], "Off")}
        assert defn.asl["States"]["plan"]["Result"]["arc"][0]
        assert any(name in s for s in json.dumps(defn.asl).split('"') if s.endswith("/done"))
        from dr.sfn.deploy import caller

        found = caller(defn)
        assert found is not None
        arc = [s for s in found.policy["Statement"] if s["Action"][0].startswith("route53-recovery-cluster:")]
        assert {a for s in arc for a in s["Action"]} == {"route53-recovery-cluster:UpdateRoutingControlStates",
                                                          "route53-recovery-cluster:GetRoutingControlState"}
        assert all(r in record.arc.routing_controls.values() for s in arc for r in s["Resource"])
        assert problems(defn) == []


class TestGeneration:
    def test_failover_covers_every_step_of_the_move(self, failover: Definition) -> None:
        """Prechecks, gate, the planned fence and catch-up (every database but the global one), every promotion,
        confirm, each zone and backups come from the runbook; the rest are named gaps, none blocking."""
        assert failover.steps[:2] == ["prechecks", "rpo-gate"]
        assert {f"{k}:{n}" for k in ("fence", "catch-up") for n in ("orders", "customers", "inventory")} \
            <= set(failover.steps)
        assert "fence:payments" not in failover.steps
        assert {f"promote:{n}" for n in ("orders", "customers", "inventory", "payments")} <= set(failover.steps)
        assert {"confirm", "dns:Z0EXAMPLEPUBLIC", "dns:Z0EXAMPLEINTERNAL", "backups:inventory"} <= set(failover.steps)
        assert failover.blocking == []
        assert {f"fence-old-writer:{n}" for n in ("orders", "customers", "inventory")} <= set(failover.steps)
        assert "fence-old-writer:payments" not in failover.steps
        skipped = {g.step for g in failover.gaps}
        assert not {s for s in skipped if s.startswith("fence")}
        assert (failover.account, failover.region) == ("111111111111", "eu-west-1")

    def test_failback_generates_its_reprotect_steps_and_no_gap_blocks_them(self, example: Topology) -> None:
        """Failback's re-protect halves are states (tests/test_sfn_failback.py); what blocks is the switch's only."""
        failback = definition_for(example, "failback", "qa", "prod")
        assert {"fence-stale:orders", "reprotect:payments", "dr-replicating:orders"} <= set(failback.steps)
        assert not {g.step for g in failback.blocking} & set(failback.reprotect_steps)

    def test_retry_and_budget_come_from_the_step(self, failover: Definition) -> None:
        """A promotion's Task retries throttling with the step's attempts; its loop counts to its budget."""
        from runbooks.steps.promote_rds import PromoteReplica

        promote = [s for s in _states(failover.asl["States"]["promote"])
                   if s.get("Resource") == asl.sdk_resource("rds", "PromoteReadReplica")]
        assert promote
        assert promote[0]["Retry"][0]["MaxAttempts"] == PromoteReplica.max_attempts - 1
        assert "Rds.ThrottlingException" in promote[0]["Retry"][0]["ErrorEquals"]

    def test_definition_text_is_deterministic(self, example: Topology, failover: Definition) -> None:
        """The same topology gives the same text (what deploy compares and the tags hash)."""
        assert definition_for(example, "failover", "prod", "qa").text() == failover.text()


class TestLeftBehind:
    def test_unplanned_executions_fence_each_former_writer_bounded_and_caught(self, failover: Definition) -> None:
        """Beside DNS and confirm, skipped on a planned execution: a Map over the plain databases whose every Task
        is bounded by the step's budget over its attempts (TimeoutSeconds), retried once more when the region does
        not answer, and caught (no answer: skipped; anything else: failed), the Map caught as a whole too; each
        item carries the local step's name and NOT-fenced text."""
        from runbooks.steps.fence import FenceLeftBehind

        branch = next(b for b in failover.asl["States"]["switch"]["Branches"] if b["StartAt"] == "fence-old-writer?")
        gate = branch["States"]["fence-old-writer?"]
        assert gate["Choices"] == [{"Variable": "$.planned", "BooleanEquals": True, "Next": "fence-old-writer!planned"}]
        fence = branch["States"][gate["Default"]]
        assert (fence["Type"], fence["ItemsPath"]) == ("Map", "$.plan.plain")
        assert fence["Catch"][-1]["ErrorEquals"] == ["States.ALL"]
        states = fence["ItemProcessor"]["States"]
        tasks = [t for t in states.values() if t["Type"] == "Task"]
        assert len(tasks) == 10  # per kind: read, tag, rename, the renamed copy, the old id gone
        bound = math.ceil(FenceLeftBehind.budget / FenceLeftBehind.max_attempts)
        for task in tasks:
            assert task["TimeoutSeconds"] == bound == 30
            assert task["Retry"][0]["MaxAttempts"] == FenceLeftBehind.max_attempts - 1
            assert {"States.Timeout", "Rds.SdkClientException"} <= set(task["Retry"][0]["ErrorEquals"])
            assert task["Catch"][-2:] == [
                {"ErrorEquals": ["States.Timeout", "Rds.SdkClientException"], "ResultPath": "$.error",
                 "Next": "fence-old-writer/unanswered"},
                {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "fence-old-writer/failed"}]
            assert task["Parameters"]["Payload"]["region.$"] == "$.item.source.region"
        assert states["fence-old-writer/unanswered"]["Parameters"]["status"] == "skipped"
        assert states["fence-old-writer/failed"]["Parameters"]["status"] == "failed"
        assert not [s for s in states.values() if s["Type"] == "Fail"]  # the budget's expiry is an outcome too
        orders = next(i for i in failover.asl["States"]["plan"]["Result"]["plain"] if i["db"] == "orders")
        assert orders["left_behind"] == {"step": "fence-old-writer:orders", "unfenced": (
            "orders-db in eu-central-1 is NOT fenced: it takes writes again when its region returns (split brain); "
            "run `drctl fence --env prod` as soon as the region answers")}

    def test_the_caller_may_make_the_fences_calls_on_the_former_writers_only(self, failover: Definition) -> None:
        """Each call of the branch is in the caller's allowlist; its role may tag and rename exactly the former
        writers and their fenced names (what FenceLeftBehind declares)."""
        from dr.sfn.deploy import caller
        from dr.sfn.remote.calls import remote_calls

        branch = next(b for b in failover.asl["States"]["switch"]["Branches"] if b["StartAt"] == "fence-old-writer?")
        found = caller(failover)
        assert found is not None
        calls = {c.allowed for c in remote_calls({"States": branch["States"]})}
        assert calls == {"rds:DescribeDBInstances", "rds:DescribeDBClusters", "rds:AddTagsToResource",
                         "rds:ModifyDBInstance", "rds:ModifyDBCluster"}
        assert calls <= set(found.allowed)
        rename = next(s for s in found.policy["Statement"] if s["Action"] == ["rds:ModifyDBInstance"])
        prod = "arn:aws:rds:eu-central-1:111111111111:db"
        assert {f"{prod}:orders-db", f"{prod}:orders-db-fenced-*", f"{prod}:customers-db"} <= set(rename["Resource"])
        assert not any(r.endswith(":db:*") or r == "*" for r in rename["Resource"])


class TestValidity:
    def test_example_passes_structure_request_model_and_quotas(self, failover: Definition) -> None:
        """No structural problem, botocore's CreateStateMachine model accepts it, quotas hold."""
        assert problems(failover) == []

    def test_an_independent_asl_schema_accepts_it_and_catches_a_broken_one(self, failover: Definition) -> None:
        """cfn-lint's Step Functions schema finds nothing in the generated definition, and flags an unknown state
        type in a broken copy; drctl's own check flags the copy's dangling Next."""
        broken = json.loads(failover.text())
        broken["States"]["plan"]["Next"] = "nowhere"
        broken["States"]["prechecks"]["Type"] = "Mapp"
        assert _schema_errors(failover.asl) == []
        assert any("Mapp" in m for m in _schema_errors(broken))
        assert any("nowhere" in p for p in structural_problems(broken))

    def test_seed_scale_stays_within_step_functions_quotas(self, seed_scale: Topology) -> None:
        """60 databases and 200 records: definition <= 1 MB, inline Maps <= 40 at once (chunks run side by side),
        worst-case history <= 25,000 events (the costlier of a planned and an unplanned execution: together they
        would not fit), and every database and zone is in it."""
        defn = definition_for(seed_scale, "failover", "prod", "qa")
        report = check(defn.asl, defn.text())
        assert "fence-old-writer:app000" in defn.steps
        both = 2 + _chain(defn.asl["States"], "plan", defn.asl["States"]["plan"]["Result"], {})
        assert report.worst_history_events < MAX_HISTORY_EVENTS < both  # planned or unplanned, never both
        assert report.definition_bytes <= MAX_DEFINITION_BYTES
        assert report.max_map_concurrency <= MAX_INLINE_MAP_CONCURRENCY
        assert report.worst_history_events <= MAX_HISTORY_EVENTS
        assert len(defn.databases) == 60
        assert sum(1 for s in defn.steps if s.startswith("dns:")) == len({r.zone_id for r in seed_scale.dns})
        assert problems(defn) == []
        assert _schema_errors(defn.asl) == []


class TestRole:
    def test_role_allows_exactly_the_calls_of_the_definition(self, failover: Definition) -> None:
        """Actions are read from the Tasks (no wildcard action); RDS ones are limited to the plan's copies."""
        policy = role_policy(failover)
        allowed = {a for s in policy["Statement"] for a in s["Action"]}
        assert allowed == actions_of(failover.asl)
        assert {"rds:PromoteReadReplica", "rds:FailoverGlobalCluster", "route53:ChangeResourceRecordSets",
                "cloudwatch:GetMetricData"} <= allowed
        assert not any("*" in a for a in allowed)
        rds = next(s for s in policy["Statement"] if s["Action"][0].startswith("rds:"))
        assert "arn:aws:rds:eu-west-1:111111111111:db:orders-db-euw1" in rds["Resource"]


class TestCrossAccount:
    def test_a_zone_in_another_account_is_changed_through_task_credentials(self, example: Topology) -> None:
        """Zones held by qa's account (the machine lives in prod's): their Tasks carry `Credentials` with qa's
        role, and the execution role may assume exactly that role."""
        dns = [r.model_copy(update={"env": "qa"}) for r in example.dns]
        moved = example.model_copy(update={"dns": dns})
        defn = definition_for(moved, "failover", "prod", "qa")
        qa_role = example.environments["qa"].role_arn
        route53 = [s for s in _states(defn.asl["States"]["switch"]) if "aws-sdk:route53:" in str(s.get("Resource"))]
        assert route53
        assert all(s["Credentials"] == {"RoleArn": qa_role} for s in route53)
        sts = next(s for s in role_policy(defn)["Statement"] if s["Action"] == ["sts:AssumeRole"])
        assert sts["Resource"] == [qa_role]
        assert problems(defn) == []


def _paths(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [v for k, v in node.items() if isinstance(v, str) and v.startswith("$")
                 and (k.endswith(".$") or k in ("ItemsPath", "Variable", "InputPath", "ResultPath"))]
        return found + [p for v in node.values() for p in _paths(v)]
    if isinstance(node, list):
        return [p for v in node for p in _paths(v)]
    return []


class TestPaths:
    def test_every_path_parses_whatever_the_zone_ids(self, example: Topology) -> None:
        """Zone ids that begin with a digit (Route53 draws them) never end up in a JSONPath: every path of the
        definition parses."""
        from jsonpath_ng.ext import parse  # type: ignore[attr-defined]

        dns = [r.model_copy(update={"zone_id": "6H7ZP7EGWFDTVJPT13WYWZ"}) for r in example.dns]
        defn = definition_for(example.model_copy(update={"dns": dns}), "failover", "prod", "qa")
        paths = _paths(defn.asl)
        assert any("routed" in p for p in paths)
        for path in paths:
            parse(path[1:] if path.startswith("$$") else path)  # $$: the context object, same syntax
