"""The failback machine's re-protect checks that match the local steps: binary logging of an Aurora MySQL writer read
before a replica cluster is created (runbooks/steps/requirements.py), and `replicating` judging the newest lag
datapoint's age through the caller's `fresh-lag` check (dr/checks/lag.py `rpo_verdict`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dr.sandbox.control import LocalControl
from dr.sfn.deploy import caller, role_policy
from dr.sfn.generate import Definition
from dr.sfn.remote.calls import allowlist
from dr.sfn.run import definition_for
from dr.testing.sandbox import in_process_sandbox
from runbooks.steps.requirements import WRITER_NOT_IN_SYNC
from tests.failover_support import step
from tests.test_sfn_failback import SMALL, _called, _drctl, _set_lags, quiet_env

INVENTORY = SMALL.model_copy(update={"databases": [d for d in SMALL.databases if d.name == "inventory"]})
"""One Aurora MySQL cluster with a cross-Region replica cluster (CI budget: the sandbox test's estate)."""


@pytest.fixture(scope="module")
def small() -> Definition:
    """The failback machine of an RDS instance, an Aurora MySQL cluster and an Aurora global database."""
    return definition_for(SMALL, "failback", "qa", "prod")


def _create(defn: Definition, map_name: str = "create") -> dict[str, Any]:
    """The iteration states of a re-protect create Map (the `reprotect` phase is a Parallel of its Maps)."""
    prefix = "dr-" if map_name.startswith("dr-") else ""
    branches = defn.asl["States"][f"{prefix}reprotect"]["Branches"]
    found = next(b["States"][map_name] for b in branches if map_name in b["States"])
    return dict(found["ItemProcessor"]["States"])


def _items(defn: Definition, half: str) -> dict[str, dict[str, Any]]:
    return {i["db"]: i for i in defn.asl["States"]["plan"]["Result"]["protect"][half]["items"]}


class TestBinaryLogging:
    def test_only_a_cross_region_aurora_cluster_item_asks_for_the_check(self, small: Definition) -> None:
        """`binlog` is set for the Aurora cluster (cross-Region replica cluster), not for the RDS instance nor the
        Aurora global member (which rejoins its global cluster)."""
        items = _items(small, "back")
        assert items["inventory"]["binlog"] is True
        assert "binlog" not in items["orders"]
        assert all("binlog" not in i for name, i in items.items() if i["kind"] == "global")

    def test_an_absent_cluster_copy_reads_the_writers_parameter_group_before_create(self, small: Definition) -> None:
        """Absent replica cluster: past the KMS refusal comes `binlog?` (Aurora MySQL writers with `binlog` only),
        whose read is DescribeDBClusterParameters of the writer's group filtered on binlog_format, made through
        the caller in the writer's region; an instance copy goes straight to its create."""
        states = _create(small)
        assert states["create/c:absent"]["Default"] == "create/c:binlog?"
        assert states["create/i:absent"]["Default"] == "create/i:shape?"
        rule = states["create/c:binlog?"]["Choices"][0]
        assert rule["Next"] == "create/c:bl-read"
        assert {"Variable": "$.w.db.Engine", "StringEquals": "aurora-mysql"} in rule["And"]
        assert states["create/c:binlog?"]["Default"] == "create/c:shape?"
        payload = states["create/c:bl-read"]["Parameters"]["Payload"]
        assert (payload["service"], payload["action"], payload["region"]) == (
            "rds", "DescribeDBClusterParameters", "eu-west-1")
        assert payload["parameters"] == {"DBClusterParameterGroupName.$": "$.w.db.DBClusterParameterGroup",
                                         "Filters": [{"Name": "parameter-name", "Values": ["binlog_format"]}]}

    def test_binlog_off_unset_or_a_missing_default_group_fails_with_the_local_message(self, small: Definition) -> None:
        """OFF (any case) or NONE goes to `no-binlog`, a DR.PreconditionFailed with the local step's words; an
        unset or empty value, and a default group that cannot be read, count as OFF; ROW goes on to the writer's
        parameter group status (TestWriterInSync), then the create."""
        states = _create(small)
        off = states["create/c:bl-off?"]
        assert off["Choices"][0] == {"Variable": "$.blv.v", "StringEquals": "", "Next": "create/c:bl-unset"}
        spelled = {r["StringEquals"] for r in off["Choices"][1]["Or"]}
        assert {"OFF", "off", "NONE", "none"} <= spelled
        assert not {"ROW", "MIXED", "STATEMENT"} & spelled
        assert (off["Choices"][1]["Next"], off["Default"]) == ("create/c:no-binlog", "create/c:bl-writer?")
        assert states["create/c:bl-has?"]["Choices"][0]["Next"] == "create/c:bl-unset"
        assert states["create/c:bl-unset"]["Parameters"] == {"v": "OFF"}
        missing = states["create/c:bl-read"]["Catch"][0]
        assert missing["ErrorEquals"] == ["Rds.DBParameterGroupNotFoundException"]
        assert states["create/c:bl-missing?"]["Choices"][0]["StringMatches"] == "default.*"
        fail = states["create/c:no-binlog"]
        assert fail["Error"] == "DR.PreconditionFailed"
        assert "binary logging is off on {} (binlog_format={} in DB cluster parameter group {})" in fail["CausePath"]
        assert "binlog_format=ROW (or MIXED)" in fail["CausePath"]

    def test_a_copy_that_already_replicates_is_not_checked(self, small: Definition) -> None:
        """The is-done logic comes first: a copy that replicates from the writer goes to `done` or `wait`, never
        to the binlog read (only the `absent` path leads there)."""
        states = _create(small)
        into = [name for name, s in states.items()
                if s.get("Default") == "create/c:binlog?" or s.get("Next") == "create/c:binlog?"
                or any(r.get("Next") == "create/c:binlog?" for r in s.get("Choices", []))]
        assert into == ["create/c:absent"]
        assert {r["Next"] for r in states["create/c:mine?"]["Choices"]} == {"create/c:done", "create/c:wait"}

    def test_the_read_is_granted_to_the_caller_and_the_role(self, small: Definition) -> None:
        """The caller may make DescribeDBClusterParameters (its allowlist) on the writer's declared cluster parameter
        group; the `dr-` half reads the home writer's group through the machine's role."""
        assert "rds:DescribeDBClusterParameters" in allowlist(small.asl)
        found = caller(small)
        assert found is not None
        statement = next(s for s in found.policy["Statement"] if "rds:DescribeDBClusterParameters" in s["Action"])
        assert "arn:aws:rds:eu-west-1:111111111111:cluster-pg:aurora-mysql8-binlog" in statement["Resource"]
        home = _create(small, "dr-create")["dr-create/c:bl-read"]
        assert home["Resource"] == "arn:aws:states:::aws-sdk:rds:describeDBClusterParameters"
        role = next(s for s in role_policy(small)["Statement"] if "rds:DescribeDBClusterParameters" in s["Action"])
        assert "arn:aws:rds:eu-central-1:111111111111:cluster-pg:aurora-mysql8-binlog" in role["Resource"]


class TestReplicating:
    def test_the_newest_datapoint_is_judged_by_the_callers_fresh_lag_check(self, small: Definition) -> None:
        """The lag read passes its Timestamps and Values, the item's threshold and the local step's five-minute age
        bound to the caller's `fresh-lag` check; only its verdict leads to `ok`, else the poll goes on."""
        states = small.asl["States"]["replicating"]["ItemProcessor"]["States"]
        read = states["replicating/read"]
        assert read["ResultSelector"] == {"t.$": "$.MetricDataResults[0].Timestamps",
                                          "v.$": "$.MetricDataResults[0].Values"}
        payload = states["replicating/judge"]["Parameters"]["Payload"]
        assert payload == {"check": "fresh-lag", "timestamps.$": "$.lag.t", "values.$": "$.lag.v",
                           "threshold.$": "$.item.threshold", "to_seconds.$": "$.item.metric.to_seconds",
                           "max_age_seconds": 300.0}
        assert states["replicating/fresh?"]["Choices"] == [{"Variable": "$.verdict.ok", "BooleanEquals": True,
                                                            "Next": "replicating/ok"}]
        assert states["replicating/fresh?"]["Default"] == "replicating/wait"
        assert "$.verdict.detail" in states["replicating/late"]["CausePath"]

    def test_the_threshold_is_the_rpo_in_the_metrics_unit(self, small: Definition) -> None:
        """The local step's bound: lag within the RPO (no margin for an unknown age any more)."""
        rpo = float(SMALL.objectives.rpo)
        for item in _items(small, "back").values():
            assert item["threshold"] * item["metric"]["to_seconds"] == pytest.approx(rpo)


WRITER_INPUT = {"item": {"db": "inventory", "id": "inventory-cluster", "binlog": True,
                          "writer": {"id": "inventory-cluster-euw1", "region": "eu-west-1"}},
                "run": {"run_id": "fb-1"}}


def _writer_sync_outcome(states: dict[str, Any], members: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """Run the writer-sync states (from `bl-writer?`, `shape?` a Succeed) in the sandbox's interpreter on a writer
    cluster with these members, as machine `name`: the execution's description."""
    import boto3

    from tests.test_sandbox_ext_sfn_redrive import settle

    chain = {n: s for n, s in states.items() if n.startswith(("create/c:bl-", "create/c:not-in-sync"))}
    machine = {"StartAt": "create/c:bl-writer?", "States": {**chain, "create/c:shape?": {"Type": "Succeed"}}}
    sfn = boto3.client("stepfunctions", region_name="eu-west-1")
    arn = sfn.create_state_machine(name=name, definition=json.dumps(machine),
                                   roleArn="arn:aws:iam::123456789012:role/sfn")["stateMachineArn"]
    writer = {"db": {"DBClusterParameterGroup": "aurora-mysql8-binlog", "DBClusterMembers": members}}
    run = sfn.start_execution(stateMachineArn=arn, name="run-1", input=json.dumps({**WRITER_INPUT, "w": writer}))
    settle()
    return dict(sfn.describe_execution(executionArn=run["executionArn"]))


def _member(name: str, writer: bool, status: str) -> dict[str, Any]:
    return {"DBInstanceIdentifier": name, "IsClusterWriter": writer, "DBClusterParameterGroupStatus": status}


class TestWriterInSync:
    def test_binlog_on_goes_through_the_writers_status_before_create(self, small: Definition) -> None:
        """ROW goes to `bl-writer?`, which reads the writer member of the description already read (`$.w.db`, no
        call); not in-sync fails with DR.PreconditionFailed in the local check's words."""
        states = _create(small)
        assert states["create/c:bl-off?"]["Default"] == "create/c:bl-writer?"
        assert not any(s["Type"] == "Task" for n, s in states.items()
                       if n.startswith(("create/c:bl-writer", "create/c:bl-status", "create/c:bl-sync")))
        assert "[?(@.IsClusterWriter==true)]" in states["create/c:bl-writer"]["Parameters"]["s.$"]
        assert states["create/c:bl-sync?"]["Choices"][0]["Not"] == {"Variable": "$.blw.s", "StringEquals": "in-sync"}
        fail = states["create/c:not-in-sync"]
        assert fail["Error"] == "DR.PreconditionFailed"
        assert WRITER_NOT_IN_SYNC in fail["CausePath"]

    def test_the_interpreter_refuses_a_writer_pending_reboot_with_the_local_words(
            self, small: Definition, sandbox_control: LocalControl) -> None:
        """In the sandbox's interpreter: the writer pending-reboot fails with the local message (group, cluster,
        writer, status, reboot command, resume); a reader pending-reboot, or no writer member, goes on."""
        states = _create(small)
        refused = _writer_sync_outcome(states, [_member("inv-2", False, "in-sync"),
                                                _member("inv-1", True, "pending-reboot")], "refused")
        assert refused["status"] == "FAILED", refused
        assert refused["cause"] == "inventory: cannot create inventory-cluster: " + WRITER_NOT_IN_SYNC.format(
            "aurora-mysql8-binlog", "inventory-cluster-euw1", "inv-1", "pending-reboot", "inv-1", "eu-west-1", "fb-1")
        reader_waits = [_member("inv-1", True, "in-sync"), _member("inv-2", False, "pending-reboot")]
        assert _writer_sync_outcome(states, reader_waits, "reader-waits")["status"] == "SUCCEEDED"
        assert _writer_sync_outcome(states, [], "headless")["status"] == "SUCCEEDED"


def test_stepfunctions_reprotect_is_refused_when_the_writer_has_no_binary_logging(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """binlog_format OFF in the Aurora MySQL writer's cluster parameter group: the execution fails with exit 3 and the
    local step's words, and creates no replica cluster (AWS would refuse it: "doesn't have binlogs enabled")."""
    quiet_env(monkeypatch, tmp_path)
    with in_process_sandbox(INVENTORY, tmp_path / "sfn") as sandbox:
        config = ["-c", str(sandbox.config_path), "-o", "json"]
        assert _drctl("deploy", "--engine", "stepfunctions", "--runbook", "failback", *config).exit_code == 0
        moved = _drctl("failover", "--to", "qa", "--unplanned", "--accept-data-loss", "--simulate-outage",
                       "eu-central-1", "--yes", "--run-id", "fo-1", *config)
        assert moved.exit_code == 0, moved.output
        db = INVENTORY.databases[0]
        sandbox.clients.client("rds", db.replica.env, "eu-west-1").modify_db_cluster_parameter_group(
            DBClusterParameterGroupName="aurora-mysql8-binlog",
            Parameters=[{"ParameterName": "binlog_format", "ParameterValue": "OFF", "ApplyMethod": "pending-reboot"}])
        _set_lags(sandbox)
        refused = _drctl("failback", "--to", "prod", "--phase", "reprotect", "--engine", "stepfunctions", "--yes",
                         "--run-id", "fb-1", *config)
        defn = definition_for(sandbox.topology, "failback", "qa", "prod", sandbox.clients)
        sfn = sandbox.clients.client("stepfunctions", "prod", defn.region)
        calls = _called(sfn, f"arn:aws:states:{defn.region}:{defn.account}:execution:drctl-failback-qa-to-prod:fb-1")
        home = sandbox.clients.client("rds", db.primary.env, "eu-central-1").describe_db_clusters()["DBClusters"]
    assert refused.exit_code == 3, refused.output
    detail = step(json.loads(refused.stdout), "reprotect:inventory")["detail"]
    assert "binary logging is off on inventory-cluster-euw1 (binlog_format=OFF" in detail
    assert "rds:DescribeDBClusterParameters" in calls
    assert "rds:CreateDBCluster" not in calls
    assert "inventory-cluster" not in {c["DBClusterIdentifier"] for c in home}
