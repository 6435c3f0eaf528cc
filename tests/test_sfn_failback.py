"""The failback state machine: generated from failback's steps, within Step Functions' quotas at seed scale, and
executed by moto's interpreter (with drctl's cross-region caller run by the sandbox) leaving AWS as local runs do."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dr.config.model import Topology
from dr.sfn.generate import Definition
from dr.sfn.quotas import MAX_DEFINITION_BYTES, MAX_HISTORY_EVENTS, check
from dr.sfn.run import definition_for
from dr.testing.sandbox import in_process_sandbox
from tests.failover_support import harness
from tests.test_sfn_engine import NO_ARC

SMALL = NO_ARC.model_copy(update={"databases": [d for d in NO_ARC.databases if d.name != "customers"]})
"""An RDS instance, an Aurora cluster and an Aurora global database (each kind once: CI budget)."""
MUTATING = ("Create", "Modify", "AddTags", "Stop", "Promote", "Failover", "Start", "Change")
SAFE_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
            "DRCTL_DNS_VERIFY": "test-dns-answer"}


def _drctl(*args: str) -> Any:
    from typer.testing import CliRunner

    from dr.cli.main import app

    return CliRunner().invoke(app, list(args))


def _source(found: dict[str, Any]) -> str | None:
    source = found.get("ReadReplicaSourceDBInstanceIdentifier") or found.get("ReplicationSourceIdentifier")
    return str(source).rsplit(":", 1)[-1] if source else None


def _protected(topology: Topology, clients: Any) -> dict[str, Any]:
    """What re-protect changes, free of run ids: per region, each copy under a topology id (its source, status
    and lineage tags) and each fenced copy (its id without the run's suffix, status); each record's values."""
    out: dict[str, Any] = {}
    for region in ("eu-central-1", "eu-west-1"):
        rds = clients.client("rds", "prod", region)
        found = [*rds.describe_db_instances()["DBInstances"], *rds.describe_db_clusters()["DBClusters"]]
        for item in found:
            ident = str(item.get("DBClusterIdentifier") if "DBClusterArn" in item else item["DBInstanceIdentifier"])
            if "-r-" in ident or ident.endswith("-1"):  # an Aurora cluster's member instance
                continue
            tags = {t["Key"]: t["Value"] for t in item.get("TagList", [])
                    if t["Key"] in ("drctl:generation", "drctl:role", "drctl:database")}
            name = ident.split("-fenced-", maxsplit=1)[0] + ("-fenced" if "-fenced-" in ident else "")
            status = item.get("DBInstanceStatus") or item.get("Status")
            out[f"{region}/{name}"] = (_source(item), "stopped" if status == "stopping" else status, tags)
    r53 = clients.route53("prod")
    for record in topology.dns:
        sets = r53.list_resource_record_sets(HostedZoneId=record.zone_id)["ResourceRecordSets"]
        out[record.fqdn] = sorted((s.get("Failover", ""), s["ResourceRecords"][0]["Value"]) for s in sets
                                  if s["Name"] == record.fqdn)
    return out


def _set_lags(sandbox: Any) -> None:
    """Every copy replicates with a lag of 5 s (the sandbox publishes ReplicaLag where asked)."""
    for db in sandbox.topology.databases:
        account = sandbox.topology.environments[db.primary.env].account_id
        for loc in (db.primary, db.replica):
            sandbox.control.set_replica_lag(account, sandbox.topology.region_of(loc), db.engine.value, loc.id, 5.0,
                                            0.0)


def _called(sfn: Any, arn: str) -> list[str]:
    """`service:Action` of every Task an execution scheduled (the caller's Lambda invokes by their payload; a check
    the caller answers without calling AWS as `check:<name>`)."""
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    out = []
    for event in events:
        if event["type"] != "TaskScheduled":
            continue
        details = event["taskScheduledEventDetails"]
        payload = json.loads(details["parameters"]).get("Payload")
        if not isinstance(payload, dict):
            out.append(f"{details['resourceType']}:{details['resource']}")
        else:
            out.append(f"check:{payload['check']}" if "check" in payload else
                       f"{payload['service']}:{payload['action']}")
    return out


def quiet_env(env: pytest.MonkeyPatch, root: Path) -> None:
    """Both engines' runs from these tests: test credentials on the in-process sandbox, journals under `root`, the
    follower polling every 3 s, no controlling terminal to ask on."""
    for key, value in {**SAFE_ENV, "DRCTL_STATE_DIR": str(root / "state")}.items():
        env.setenv(key, value)
    env.delenv("AWS_ENDPOINT_URL", raising=False)
    env.setattr("dr.sfn.run.POLL_SECONDS", 3.0)
    env.setattr("dr.cli.confirm.CONTROLLING_TERMINAL", str(root / "no-terminal"))


def local_failback(root: Path, phase: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Locally: an unplanned failover with prod's region down (its writers left unfenced), then `failback --phase
    PHASE`; what AWS holds after (`_protected`) and the failback's report."""
    with harness(root / "local", SMALL) as h:
        h.faults.outage_regions.add("eu-central-1")
        assert h.run("failover", "qa", run_id="fo-1", planned=False, accept_data_loss=True).exit_code == 0
        h.faults.outage_regions.clear()
        _set_lags(h.sbx)
        back = h.run("failback", "prod", run_id="fb-1", extra={"phase": phase})
        assert back.exit_code == 0, back.report
        return _protected(h.topology, h.sbx.clients), back.report


@dataclass
class Runs:
    """A local failover and reprotect; the same failover, then the reprotect by Step Functions (run again, and
    re-attached)."""

    local: dict[str, Any]
    local_report: dict[str, Any]
    sfn: dict[str, Any]
    deployed: dict[str, Any]
    first: Any
    again: Any
    again_state: dict[str, Any]
    again_calls: list[str]
    shown: Any


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    """One sandbox per engine for the whole module (CI budget): each fails over unplanned with prod's region down
    (its writers are left unfenced, as by a Step Functions failover, tests/test_sfn_engine.py), then re-protects
    toward prod."""
    root = tmp_path_factory.mktemp("sfn-failback")
    with pytest.MonkeyPatch.context() as env:
        quiet_env(env, root)
        local_state, local_report = local_failback(root, "reprotect")
        env.setenv("DRCTL_STATE_DIR", str(root / "sfn-state"))  # the same run ids, in another journal
        with in_process_sandbox(SMALL, root / "sfn") as sandbox:
            yield _sfn_runs(sandbox, local_state, local_report)


def _sfn_runs(sandbox: Any, local_state: dict[str, Any], local_report: dict[str, Any]) -> Runs:
    config = ["-c", str(sandbox.config_path), "-o", "json"]
    deployed = _drctl("deploy", "--engine", "stepfunctions", "--runbook", "failback", *config)
    assert deployed.exit_code == 0, deployed.output
    moved = _drctl("failover", "--to", "qa", "--unplanned", "--accept-data-loss", "--simulate-outage", "eu-central-1",
                   "--yes", "--run-id", "fo-1", *config)
    assert moved.exit_code == 0, moved.output
    _set_lags(sandbox)
    back = ["failback", "--to", "prod", "--phase", "reprotect", "--engine", "stepfunctions", "--yes"]
    first = _drctl(*back, "--run-id", "fb-1", *config)
    state = _protected(sandbox.topology, sandbox.clients)
    again = _drctl(*back, "--run-id", "fb-2", *config)
    defn = definition_for(sandbox.topology, "failback", "qa", "prod", sandbox.clients)
    sfn = sandbox.clients.client("stepfunctions", "prod", defn.region)
    arn = f"arn:aws:states:{defn.region}:{defn.account}:execution:drctl-failback-qa-to-prod:fb-2"
    return Runs(local_state, local_report, state, json.loads(deployed.stdout), first, again,
                _protected(sandbox.topology, sandbox.clients), _called(sfn, arn),
                _drctl("runs", "show", "fb-1", *config))


class TestExecution:
    def test_reprotect_leaves_aws_as_a_local_reprotect(self, runs: Runs) -> None:
        """After an unplanned failover left prod's writers unfenced, the execution fences them (renamed, stopped)
        and re-creates each replica from qa's writer, as the local runbook does: equal writers, replica sources,
        fenced copies and DNS; exit 0."""
        assert runs.first.exit_code == 0, runs.first.output
        assert runs.sfn == runs.local
        assert runs.sfn["eu-central-1/orders-db"][0] == "orders-db-euw1"
        assert runs.sfn["eu-central-1/orders-db-fenced"][1] == "stopped"
        assert runs.sfn["eu-central-1/inventory-cluster"][0] == "inventory-cluster-euw1"

    def test_the_report_has_the_local_schema_and_steps(self, runs: Runs) -> None:
        """The report's fields include the local report's, its steps are the local phase's, each with the same
        fields, all succeeded."""
        report = json.loads(runs.first.stdout)
        assert set(runs.local_report) <= set(report)
        assert [s["name"] for s in report["steps"]] == [s["name"] for s in runs.local_report["steps"]]
        assert {tuple(sorted(s)) for s in report["steps"]} == {tuple(sorted(runs.local_report["steps"][0]))}
        assert {s["status"] for s in report["steps"]} == {"succeeded"}

    def test_a_second_execution_mutates_nothing(self, runs: Runs) -> None:
        """A re-run reads before it acts: no create, rename, tag or stop call; AWS unchanged; exit 0."""
        assert runs.again.exit_code == 0, runs.again.output
        assert runs.again_calls
        assert [c for c in runs.again_calls if c.split(":")[1].startswith(MUTATING)] == []
        assert runs.again_state == runs.sfn

    def test_replicating_is_judged_by_the_callers_fresh_lag_check(self, runs: Runs) -> None:
        """Each `replicating` wait hands its lag datapoints to the caller's `fresh-lag` check (the datapoint's age
        at read time, as the local step bounds it), once per database here: fresh at the first read."""
        assert runs.again_calls.count("check:fresh-lag") == len(SMALL.databases)
        assert runs.again_calls.count("aws-sdk:cloudwatch:getMetricData") == len(SMALL.databases)

    def test_runs_show_follows_the_execution_again(self, runs: Runs) -> None:
        """`drctl runs show RUN_ID` re-attaches to the finished execution: exit 0, the same steps."""
        assert runs.shown.exit_code == 0, runs.shown.output
        shown = json.loads(runs.shown.stdout)
        assert shown["execution_status"] == "SUCCEEDED"
        assert [s["name"] for s in shown["steps"]] == [s["name"] for s in json.loads(runs.first.stdout)["steps"]]

    def test_deploy_creates_the_failback_machine_in_the_original_region(self, runs: Runs) -> None:
        """`drctl deploy --engine stepfunctions --runbook failback` creates drctl-failback-qa-to-prod (only) where the
        copies it promotes live: prod's account, eu-central-1."""
        rows = {r["name"]: r for r in runs.deployed["state_machines"]}
        assert list(rows) == ["drctl-failback-qa-to-prod"]
        machine = rows["drctl-failback-qa-to-prod"]
        assert machine["action"] == "created"
        assert machine["arn"].startswith("arn:aws:states:eu-central-1:111111111111:stateMachine:")


@pytest.fixture(scope="module")
def seed_failback() -> Definition:
    """The failback machine of the seed-scale estate (60 databases, 200 records)."""
    from benchmarks.estate import EstateSize, build

    return definition_for(build(EstateSize()), "failback", "qa", "prod")


class TestGeneration:
    def test_seed_scale_stays_within_step_functions_quotas(self, seed_failback: Definition) -> None:
        """60 databases, 200 records: the definition under 1 MB, each part's worst-case history under 25,000
        events (each part is its own execution), Maps at most 40 at once."""
        report = check(seed_failback.asl, seed_failback.text())
        assert len(seed_failback.databases) == 60
        assert report.definition_bytes < MAX_DEFINITION_BYTES
        assert report.worst_history_events < MAX_HISTORY_EVENTS
        assert report.max_map_concurrency <= 40
        assert report.problems() == []

    def test_each_part_starts_the_next_and_the_phase_ends_the_first(self, seed_failback: Definition) -> None:
        """`part?` routes an execution to its part; the first ends when `phase` is reprotect, else starts the
        switch's execution of the same machine, which starts the dr- re-protect's."""
        states = seed_failback.asl["States"]
        routes = {r["StringEquals"]: r["Next"] for r in states["part?"]["Choices"]}
        assert (routes, states["part?"]["Default"]) == ({"switch": "prechecks", "dr": "dr-fence-stale"},
                                                        "fence-stale")
        assert states["then-switch?"]["Choices"][0] == {"Variable": "$.phase", "StringEquals": "reprotect",
                                                        "Next": "done"}
        started = states["start:switch"]["Parameters"]
        assert started["StateMachineArn"].endswith(":stateMachine:drctl-failback-qa-to-prod")
        assert "start:dr" in states
        assert states["dr-replicating"]["End"] is True


def _iteration_states(defn: Definition, map_name: str) -> dict[str, Any]:
    return dict(defn.asl["States"][map_name]["ItemProcessor"]["States"])


@pytest.fixture(scope="module")
def small() -> Definition:
    """The failback machine of the module's three-database topology."""
    return definition_for(SMALL, "failback", "qa", "prod")


class TestReadsBeforeActing:
    def test_an_encrypted_writer_without_a_key_of_the_region_is_refused_before_create(self, small: Definition) -> None:
        """Absent replica, encrypted writer, no kms_key_id for the region: a DR.PreconditionFailed naming the fix,
        not a create AWS would refuse (the local step's check)."""
        reprotect = small.asl["States"]["reprotect"]["Branches"]
        create = next(b["States"]["create"] for b in reprotect if "create" in b["States"])["ItemProcessor"]["States"]
        rule = create["create/i:absent"]["Choices"][0]
        assert rule["Next"] == "create/i:no-kms"
        assert {"Not": {"Variable": "$.item.kms", "IsPresent": True}} in rule["And"]
        assert create["create/i:no-kms"]["Error"] == "DR.PreconditionFailed"
        assert "kms_key_id" in create["create/i:no-kms"]["CausePath"]

    def test_a_fence_is_reached_only_through_the_lineage_comparison(self, small: Definition) -> None:
        """The only way to the tag and rename of a copy is `stale?`: the other region's writer has a higher
        generation; otherwise the iteration fails as the current writer (a fence never touches it)."""
        states = _iteration_states(small, "fence-stale")
        into_tag = [name for name, state in states.items()
                    if state.get("Next") == "fence-stale/i:tag"
                    or any(r.get("Next") == "fence-stale/i:tag" for r in state.get("Choices", []))]
        assert into_tag == ["fence-stale/i:stale?"]
        assert states["fence-stale/i:stale?"]["Choices"][0]["NumericGreaterThanPath"] == "$.gh.v"
        assert states["fence-stale/i:stale?"]["Default"] == "fence-stale/i:current"

    def test_the_role_may_start_only_this_machine_and_create_only_the_plans_copies(self, small: Definition) -> None:
        """The execution role: `states:StartExecution` (IAM's name, not the SDK's `sfn`) on its own machine only;
        RDS actions on the copies and the names the re-protect steps declare, no `*`; each KMS grant once."""
        from dr.sfn.deploy import role_policy

        statements = role_policy(small)["Statement"]
        start = [s for s in statements if "states:StartExecution" in s["Action"]]
        machine = "arn:aws:states:eu-central-1:111111111111:stateMachine:drctl-failback-qa-to-prod"
        assert start == [{"Effect": "Allow", "Action": ["states:StartExecution"], "Resource": [machine]}]
        assert not [a for s in statements for a in s["Action"] if a.startswith("sfn:")]
        rds = next(s for s in statements if "rds:CreateDBInstanceReadReplica" in s["Action"])
        assert "*" not in rds["Resource"]
        assert "arn:aws:rds:eu-central-1:111111111111:db:orders-db-fenced-*" in rds["Resource"]
        kms = [json.dumps(s, sort_keys=True) for s in statements if s["Action"][0].startswith("kms:")]
        assert kms
        assert len(kms) == len(set(kms))
