"""The Step Functions engine against the sandbox with moto's ASL interpreter: deploy, execute, follow, re-attach,
and AWS left as a local run leaves it."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dr.cli.run_options import RunFlags
from dr.clock import SystemClock
from dr.config import load
from dr.config.model import Topology
from dr.sfn import naming
from dr.sfn.deploy import deploy
from dr.sfn.generate import Definition
from dr.sfn.run import _start, definition_for
from dr.testing.sandbox import InProcessSandbox, in_process_sandbox
from tests.conftest import EXAMPLE
from tests.failover_support import harness

UNPLANNED: dict[str, Any] = {"yes": True, "planned": False, "accept_data_loss": True}


def _without_arc() -> Topology:
    """The example without its arc-routing-control record, which the Step Functions engine refuses to move
    (tests/test_sfn_generate.py::TestArcRecords)."""
    from dr.config import load
    from tests.conftest import EXAMPLE

    topology = load(EXAMPLE)
    return topology.model_copy(update={"dns": [r for r in topology.dns if r.arc is None]})


NO_ARC = _without_arc()
FULL = load(EXAMPLE)


@pytest.fixture
def sandbox_topology() -> Topology:
    """This module's sandboxes are seeded without the ARC record."""
    return NO_ARC


def _deployed(sandbox: InProcessSandbox) -> Definition:
    defn = definition_for(sandbox.topology, "failover", "prod", "qa", sandbox.clients)
    deploy(sandbox.clients, defn, "test-topology")
    return defn


def _state(topology: Topology, clients: Any) -> dict[str, Any]:
    """What a move changes, free of ids a seed draws: each DR copy's link, tags and backups; each record's sets
    (health checks named by their side)."""
    rds = clients.client("rds", "prod", "eu-west-1")
    out: dict[str, Any] = {}
    for db in topology.databases:
        if db.engine.value == "rds-instance":
            found = rds.describe_db_instances(DBInstanceIdentifier=db.replica.id)["DBInstances"][0]
            source = found.get("ReadReplicaSourceDBInstanceIdentifier")
        else:
            found = rds.describe_db_clusters(DBClusterIdentifier=db.replica.id)["DBClusters"][0]
            source = found.get("ReplicationSourceIdentifier")
        if db.global_cluster_id:  # a global member replicates from the global writer
            members = rds.describe_global_clusters(GlobalClusterIdentifier=db.global_cluster_id)[
                "GlobalClusters"][0]["GlobalClusterMembers"]
            writer = next(m["DBClusterArn"] for m in members if m["IsWriter"])
            source = None if writer == found["DBClusterArn"] else writer
        tags = {t["Key"]: t["Value"] for t in found.get("TagList", []) if t["Key"] != "drctl:promoted-by-run"}
        out[db.name] = (source, tags, found.get("BackupRetentionPeriod"), found.get("PreferredBackupWindow"))
    sides = {hc: side for r in topology.dns for side, hc in r.health_checks.items()}
    r53 = clients.route53("prod")
    for record in topology.dns:
        sets = r53.list_resource_record_sets(HostedZoneId=record.zone_id)["ResourceRecordSets"]
        out[record.fqdn] = sorted((s.get("Failover", ""), s["ResourceRecords"][0]["Value"],
                                   sides.get(s.get("HealthCheckId", ""), "")) for s in sets if s["Name"] == record.fqdn)
    return out


def _drctl(*args: str) -> Any:
    """drctl's command line in this process (the in-process sandbox answers its AWS calls)."""
    from typer.testing import CliRunner

    from dr.cli.main import app

    return CliRunner().invoke(app, list(args))


def _failures(report_text: str) -> str:
    """What failed, from a report: the execution's error and each failed step."""
    report = json.loads(report_text)
    failed = [f"{s['name']}: {s['detail']}" for s in report["steps"] if s["status"] == "failed"]
    return json.dumps({"error": report.get("execution_error"), "failed": failed})


def _exit_code(err: BaseException) -> int:
    return int(getattr(err, "exit_code", getattr(err, "code", -1)))


class TestExecution:
    def test_a_killed_follower_is_picked_up_again_and_aws_ends_as_after_a_local_run(
            self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """The follower dies at once (exit 130) but the execution goes on; `runs show RUN_ID` follows it to the
        end: exit 0, the local report's schema, every database promoted and every record on qa, exactly as a
        local unplanned failover of the same topology leaves them; the source region answers, so every former
        writer that is not Aurora global is fenced (tagged, renamed) as the local run fences it."""
        with harness(tmp_path / "local", NO_ARC) as local:
            outcome = local.run("failover", "qa", planned=False, accept_data_loss=True)
            by_local = _state(local.topology, local.sbx.clients)
            left_by_local = _left_behind(local.topology, local.sbx.clients)
        assert outcome.exit_code == 0
        monkeypatch.setattr("dr.sfn.run.POLL_SECONDS", 0.5)
        with in_process_sandbox(NO_ARC, tmp_path / "sfn") as sandbox:
            report = self._killed_then_shown(sandbox, monkeypatch, capsys)
            by_sfn = _state(sandbox.topology, sandbox.clients)
            left_by_sfn = _left_behind(sandbox.topology, sandbox.clients)
            fenced = _sources(sandbox.topology, sandbox.clients)
        assert by_sfn == by_local
        assert left_by_sfn == left_by_local
        assert fenced == {"orders": True, "customers": True, "inventory": True}
        assert all(v[0] is None for k, v in by_sfn.items() if not k.endswith("."))
        assert set(outcome.report) <= set(report)
        assert set(outcome.report["steps"][0]) == set(report["steps"][0])
        steps = {s["name"]: s["status"] for s in report["steps"]}
        assert all(steps[f"promote:{db.name}"] == "succeeded" for db in local.topology.databases)
        assert all(steps[f"dns:{z}"] == "succeeded" for z in {r.zone_id for r in sandbox.topology.dns})
        assert all(steps[f"fence-old-writer:{db}"] == "succeeded" for db in fenced)
        assert report["advice"] == []
        assert report["execution_arn"].endswith(":sfn-run-1")

    @staticmethod
    def _killed_then_shown(sandbox: InProcessSandbox, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
        """Start with a follower that is interrupted at once, then re-attach; the report `runs show` printed."""
        _deployed(sandbox)

        def killed(*args: Any, **kwargs: Any) -> Any:
            raise KeyboardInterrupt

        with monkeypatch.context() as patch:
            patch.setattr("dr.sfn.run.follow", killed)
            with pytest.raises(SystemExit) as died:
                _start("failover", config=str(sandbox.config_path), target="qa",
                       flags=RunFlags(run_id="sfn-run-1", **UNPLANNED))
        assert _exit_code(died.value) == 130
        assert "drctl runs show sfn-run-1" in capsys.readouterr().err
        shown = _drctl("runs", "show", "sfn-run-1", "-c", str(sandbox.config_path), "-o", "json")
        report: dict[str, Any] = json.loads(shown.stdout)
        assert shown.exit_code == 0, _failures(shown.stdout)
        return report

    def test_a_second_execution_does_nothing_twice(self, sandbox: InProcessSandbox,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
        """Through the command line: deploy (the machine and its caller); the RPO gate refuses a lag beyond the RPO
        (exit 3, nothing promoted); with --accept-data-loss the move runs (exit 0); `resume` redrives neither the
        refusal (exit 2: a new run reads the lag anew) nor the finished run (exit 0); a re-run (new execution) reads
        before acting: no tag, promotion or global failover call, AWS unchanged; a second deploy changes
        nothing (dry run: no difference)."""
        monkeypatch.setattr("dr.sfn.run.POLL_SECONDS", 0.5)
        config = str(sandbox.config_path)
        deployed = _drctl("deploy", "--engine", "stepfunctions", "-c", config, "-o", "json")
        assert deployed.exit_code == 0, deployed.output
        assert {m["name"]: (m["action"], m["caller"]) for m in json.loads(deployed.stdout)["state_machines"]} == {
            "drctl-failover-prod-to-qa": ("created", "created"),  # the machine and its cross-region caller
            "drctl-failback-qa-to-prod": ("created", "created")}
        orders = next(d for d in sandbox.topology.databases if d.name == "orders")
        sandbox.control.set_replica_lag("111111111111", "eu-west-1", "rds-instance", orders.replica.id, 900.0, 0.0)
        refused = _drctl("failover", "--to", "qa", "--engine", "stepfunctions", "--unplanned", "--yes",
                         "--run-id", "sfn-gate", "-c", config, "-o", "json")
        assert refused.exit_code == 3, refused.output
        assert json.loads(refused.stdout)["execution_error"]["error"] == "DR.GateRefused"
        assert _state(sandbox.topology, sandbox.clients)["orders"][0] is not None  # still a replica
        first_run = _drctl("failover", "--to", "qa", "--engine", "stepfunctions", "--unplanned", "--yes",
                           "--accept-data-loss", "--run-id", "sfn-a", "-c", config, "-o", "json")
        assert first_run.exit_code == 0, _failures(first_run.stdout)
        assert json.loads(first_run.stdout)["status"] == "succeeded"
        gate_resumed = _drctl("resume", "sfn-gate", "-c", config, "--yes")  # its gate read the start's window
        assert gate_resumed.exit_code == 2
        assert "start a new run" in gate_resumed.output
        resumed = _drctl("resume", "sfn-a", "-c", config, "--yes", "-o", "json")
        assert resumed.exit_code == 0
        assert "nothing to resume" in resumed.stderr
        defn = definition_for(sandbox.topology, "failover", "prod", "qa", sandbox.clients)
        first = _state(sandbox.topology, sandbox.clients)
        again = _start("failover", config=str(sandbox.config_path), target="qa",
                       flags=RunFlags(run_id="sfn-b", **UNPLANNED))
        assert again.exit_code == 0
        assert _state(sandbox.topology, sandbox.clients) == first
        sfn = sandbox.clients.client("stepfunctions", "prod", "eu-west-1")
        events = sfn.get_execution_history(executionArn=again.report["execution_arn"], maxResults=1000)["events"]
        called = {e["taskScheduledEventDetails"]["resource"] for e in events if e["type"] == "TaskScheduled"}
        assert called.isdisjoint({"promoteReadReplica", "promoteReadReplicaDBCluster", "addTagsToResource",
                                  "failoverGlobalCluster"})
        assert "invoke" in called  # the former writers were read again through the caller, and nothing re-fenced
        assert _mutations(sandbox, again.report["execution_arn"]) == set()
        redeployed = deploy(sandbox.clients, defn, "test-topology")
        dry = deploy(sandbox.clients, defn, "test-topology", dry_run=True)
        assert (redeployed.action, dry.action, dry.diff) == ("unchanged", "unchanged", "")
        tags = {t["key"]: t["value"] for t in
                sfn.list_tags_for_resource(resourceArn=naming.machine_arn(defn))["tags"]}
        assert tags[naming.DEFINITION_TAG] == naming.definition_hash(defn)


SMALL = NO_ARC.model_copy(update={"databases": [d for d in NO_ARC.databases if d.name == "orders"],
                                  "dns": [r for r in NO_ARC.dns if r.name == "api.example.com."]})
"""One database and one record: enough for the fence an unplanned move leaves behind (the cluster's chain is the
same, tests/test_sfn_generate.py)."""


class TestLeftBehind:
    def test_a_source_region_in_outage_leaves_its_writers_unfenced_and_the_move_succeeds(
            self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        """Unplanned, eu-central-1 in outage, each of its calls hanging longer than a fence Task may take (the
        budget cut to 2 s: 1 s an attempt): the execution succeeds and DNS is on qa; each `fence-old-writer` step
        is skipped with the local step's split-brain text naming `drctl fence --env prod` (also the report's
        advice); its Tasks ended by their own bound (`States.Timeout`); nothing in the source region changed."""
        from runbooks.steps.fence import FenceLeftBehind

        monkeypatch.setattr("dr.sfn.run.POLL_SECONDS", 2.0)
        monkeypatch.setattr(FenceLeftBehind, "budget", 2.0)
        with in_process_sandbox(SMALL, tmp_path) as sandbox:
            _deployed(sandbox)
            sandbox.control.set_outage_hang_seconds(3.0)
            sandbox.control.set_outage("eu-central-1")
            outcome = _start("failover", config=str(sandbox.config_path), target="qa",
                             flags=RunFlags(run_id="sfn-outage", **UNPLANNED))
            moved = _state(sandbox.topology, sandbox.clients)
            sfn = sandbox.clients.client("stepfunctions", "prod", "eu-west-1")
            events = sfn.get_execution_history(executionArn=outcome.report["execution_arn"], maxResults=1000)
            sandbox.control.set_outage("eu-central-1", down=False)
            fenced = _sources(sandbox.topology, sandbox.clients)
        assert (outcome.exit_code, outcome.report["execution_status"]) == (0, "SUCCEEDED"), _failures(
            json.dumps(outcome.report))
        assert moved["api.example.com."] == [("", "api.eu-west-1.example.com", "")]
        assert moved["orders"][0] is None  # promoted
        step = next(s for s in outcome.report["steps"] if s["name"] == "fence-old-writer:orders")
        assert step["status"] == "skipped"
        assert step["detail"].startswith("orders-db in eu-central-1 is NOT fenced: it takes writes again when its "
                                         "region returns (split brain); run `drctl fence --env prod`")
        assert step["detail"].endswith("(no answer: States.Timeout)")
        assert outcome.report["advice"] == [step["detail"]]
        assert any(e["type"] == "TaskTimedOut" for e in events["events"])
        assert fenced == {"orders": False}


class TestPlanned:
    def test_a_planned_failover_leaves_aws_as_a_local_planned_run_and_a_second_calls_no_mutation(
            self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        """Without --unplanned the execution fences every source writer in eu-central-1 through the caller (tagged,
        renamed), waits for each replica's catch-up, then promotes (Aurora global: switchover): DB links, tags,
        fenced sources and DNS as a local planned run leaves them, the report's schema, fence and catch-up
        succeeded; the arc-routing-control record's controls are set on the cluster's endpoints through the caller
        (prod Off, qa On); a second execution calls no mutation, directly or through the caller."""
        with harness(tmp_path / "local", FULL) as local:
            outcome = local.run("failover", "qa", planned=True)
            by_local = (_state(local.topology, local.sbx.clients), _sources(local.topology, local.sbx.clients),
                        _controls(local.topology, local.sbx.clients))
        assert outcome.exit_code == 0, outcome.report
        with in_process_sandbox(FULL, tmp_path / "sfn", clock=WarpClock(100.0)) as sandbox:
            sandbox.control.set_metric_period_seconds(10.0)
            _deployed(sandbox)
            first = _start("failover", config=str(sandbox.config_path), target="qa",
                           flags=RunFlags(run_id="sfn-planned", yes=True, accept_data_loss=True))
            assert first.exit_code == 0, _failures(json.dumps(first.report))
            by_sfn = (_state(sandbox.topology, sandbox.clients), _sources(sandbox.topology, sandbox.clients),
                      _controls(sandbox.topology, sandbox.clients))
            again = _start("failover", config=str(sandbox.config_path), target="qa",
                           flags=RunFlags(run_id="sfn-planned-2", yes=True, accept_data_loss=True))
            called = _mutations(sandbox, again.report["execution_arn"])
            after = (_state(sandbox.topology, sandbox.clients), _sources(sandbox.topology, sandbox.clients),
                     _controls(sandbox.topology, sandbox.clients))
        assert by_sfn == by_local
        assert all(fenced for fenced in by_sfn[1].values())
        assert set(by_sfn[2].values()) == {("Off", "On")}  # prod Off, qa On: moved through the cluster endpoints
        steps = {s["name"]: s["status"] for s in first.report["steps"]}
        assert all(steps[f"{kind}:{db}"] == "succeeded" for kind in ("fence", "catch-up")
                   for db in ("orders", "customers", "inventory"))
        left_behind = {s["name"]: s["status"] for s in outcome.report["steps"] if s["name"].startswith("fence-old")}
        assert set(left_behind.values()) == {"already-done"}  # the local run's: its fence renamed them first
        assert {name: steps[name] for name in left_behind} == left_behind
        assert set(outcome.report) <= set(first.report)
        assert first.report["rpo"]["data_loss_window_seconds"] == outcome.report["rpo"]["data_loss_window_seconds"]
        assert first.report["rpo"]["data_loss_window_seconds"] == 0.0
        assert again.exit_code == 0
        assert after == by_sfn
        assert called == set()

    def test_a_planned_move_is_refused_when_the_source_does_not_answer_and_planned_is_asked(
            self, sandbox: InProcessSandbox) -> None:
        """--planned with the source region in outage: exit 3 before any execution starts."""
        from dr.errors import GateRefused

        _deployed(sandbox)
        sandbox.control.set_outage("eu-central-1")
        with pytest.raises(GateRefused, match="planned move needs the source"):
            _start("failover", config=str(sandbox.config_path), target="qa",
                   flags=RunFlags(run_id="sfn-p", yes=True, planned=True))
        sfn = sandbox.clients.client("stepfunctions", "prod", "eu-west-1")
        assert sfn.list_executions(stateMachineArn=naming.machine_arn(_deployed(sandbox)))["executions"] == []


class WarpClock(SystemClock):
    """The sandbox's time running `speed` times faster than the real one from now on: lag datapoints after a fence
    (CloudWatch's periods) exist within a second, while Step Functions' Wait states take real seconds. The RPO
    gate (real time) is passed with --accept-data-loss."""

    def __init__(self, speed: float) -> None:
        self.speed, self.start = speed, datetime.now(UTC)

    def now(self) -> datetime:
        real = datetime.now(UTC)
        return self.start + (real - self.start) * self.speed


def _controls(topology: Topology, clients: Any) -> dict[str, tuple[str, str]]:
    """Per arc-routing-control record: the states of its (prod, qa) routing controls, read on the endpoints."""
    from dr.aws.arc import Endpoint, control_states

    out = {}
    for record in topology.dns:
        if record.arc is None:
            continue
        endpoints = [Endpoint(e.region, e.url) for e in record.arc.endpoints]
        arns = [record.arc.routing_controls["prod"], record.arc.routing_controls["qa"]]
        states = control_states(clients, record.env, endpoints, arns)
        out[record.fqdn] = (states[arns[0]], states[arns[1]])
    return out


MUTATIONS = {"promoteReadReplica", "promoteReadReplicaDBCluster", "addTagsToResource", "failoverGlobalCluster",
             "switchoverGlobalCluster", "AddTagsToResource", "ModifyDBInstance", "ModifyDBCluster",
             "UpdateRoutingControlStates"}


def _mutations(sandbox: InProcessSandbox, arn: str) -> set[str]:
    """The mutating calls an execution scheduled: SDK integrations by resource, the caller's by its payload."""
    sfn = sandbox.clients.client("stepfunctions", "prod", "eu-west-1")
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    called = set()
    for event in events:
        details = event.get("taskScheduledEventDetails")
        if not details:
            continue
        if details["resource"] == "invoke":
            called.add(json.loads(details["parameters"])["Payload"].get("action", "check"))
        else:
            called.add(details["resource"])
    return called & MUTATIONS


def _sources(topology: Topology, clients: Any) -> dict[str, bool]:
    """Per database that is not global: its source writer renamed away (its id gone) and a fenced copy tagged."""
    rds = clients.client("rds", "prod", "eu-central-1")
    out = {}
    for db in topology.databases:
        if db.global_cluster_id:
            continue
        listing = (rds.describe_db_instances()["DBInstances"] if db.engine.value == "rds-instance"
                   else rds.describe_db_clusters()["DBClusters"])
        ids = {d.get("DBInstanceIdentifier") or d.get("DBClusterIdentifier"): d for d in listing}
        fenced = [d for i, d in ids.items() if i.startswith(f"{db.primary.id}-fenced-")]
        out[db.name] = db.primary.id not in ids and len(fenced) == 1 and any(
            t["Key"] == "drctl:fenced-by-run" for t in fenced[0].get("TagList", []))
    return out


def _left_behind(topology: Topology, clients: Any) -> dict[str, list[tuple[str, str, dict[str, str]]]]:
    """Per database that is not global, its copies in the source region free of the run's id: each one's id (a
    fenced one's run suffix as RUN), status and tags (the fencing run's id as RUN)."""
    rds = clients.client("rds", "prod", "eu-central-1")
    listing = rds.describe_db_instances()["DBInstances"] + rds.describe_db_clusters()["DBClusters"]
    out = {}
    for db in topology.databases:
        if db.global_cluster_id:
            continue
        copies = []
        for found in listing:
            ident = found.get("DBClusterIdentifier") if "DBClusterArn" in found else found["DBInstanceIdentifier"]
            if ident == db.primary.id or ident.startswith(f"{db.primary.id}-fenced-"):
                tags = {t["Key"]: "RUN" if t["Key"] == "drctl:fenced-by-run" else t["Value"]
                        for t in found.get("TagList", [])}
                copies.append((re.sub(r"-fenced-[a-z0-9]+$", "-fenced-RUN", ident),
                               found.get("DBInstanceStatus") or found.get("Status"), tags))
        out[db.name] = sorted(copies, key=str)
    return out


class TestRefusals:
    def test_a_dry_run_is_refused_before_any_aws_call(self, example_path: Path, no_aws: list[str]) -> None:
        """--dry-run has no meaning for a deployed machine: exit 2 naming what to use, no AWS client made."""
        from dr.errors import UsageError

        with pytest.raises(UsageError, match="deploy --engine stepfunctions --dry-run") as refused:
            _start("failover", config=str(example_path), target="qa", flags=RunFlags(yes=True, dry_run=True))
        assert refused.value.exit_code == 2
