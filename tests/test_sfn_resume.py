"""`drctl resume RUN_ID` of a run executed by Step Functions: the unsuccessful execution is redriven from its failed
state (RedriveExecution) and followed; what succeeded is not done again."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dr.config.model import Topology
from dr.engine.step import StepStatus
from dr.sfn import asl
from dr.sfn.follow import read, run_status
from dr.sfn.resume import unfinished
from dr.sfn.run import definition_for
from dr.sfn.states_lock import LOCKED
from dr.testing.sandbox import InProcessSandbox
from tests.test_sfn_engine import NO_ARC, _deployed, _drctl, _state

PROD, DR_REGION = "111111111111", "eu-west-1"
PROMOTIONS = {"promoteReadReplica", "promoteReadReplicaDBCluster", "failoverGlobalCluster",
              "switchoverGlobalCluster"}


@pytest.fixture
def sandbox_topology() -> Topology:
    """Seeded without the ARC record, which the Step Functions engine refuses to move."""
    return NO_ARC


def _failover(config: str, run_id: str) -> Any:
    return _drctl("failover", "--to", "qa", "--engine", "stepfunctions", "--unplanned", "--yes",
                  "--accept-data-loss", "--run-id", run_id, "-c", config, "-o", "json")


def _listed(config: str, run_id: str) -> tuple[str, str]:
    """The engine and status `drctl runs list` gives the run."""
    listed = _drctl("runs", "list", "-c", config, "-o", "json")
    assert listed.exit_code == 0, listed.output
    row = next(r for r in json.loads(listed.stdout)["runs"] if r["run_id"] == run_id)
    return row["engine"], row["status"]


def _history(sandbox: InProcessSandbox, report: dict[str, Any]) -> list[dict[str, Any]]:
    sfn = sandbox.clients.client("stepfunctions", "prod", DR_REGION)
    return list(sfn.get_execution_history(executionArn=report["execution_arn"], maxResults=1000)["events"])


def _after_redrive(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    kinds = [e["type"] for e in events]
    assert "ExecutionRedriven" in kinds
    return events[kinds.index("ExecutionRedriven"):]


def _called(events: list[dict[str, Any]]) -> set[str]:
    """The SDK actions the events scheduled (`arn:aws:states:::aws-sdk:rds:promoteReadReplica` -> the action)."""
    return {str(e["taskScheduledEventDetails"]["resource"]).rsplit(":", 1)[-1]
            for e in events if e["type"] == "TaskScheduled"}


class TestRedrive:
    def test_a_run_refused_by_a_precheck_is_redriven_from_it_once_fixed(
            self, sandbox: InProcessSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
        """A DR copy in `backing-up` fails the prechecks (exit 3, nothing promoted); once it is available, `resume`
        is refused while another holds the pair's run lock (exit 3), then with --break-lock redrives the same
        execution from the prechecks: the in-machine lock is not taken again, every database is promoted and every
        record moved (exit 0), the journal says who redrove it and whose lock it broke."""
        monkeypatch.setattr("dr.sfn.run.POLL_SECONDS", 0.5)
        _deployed(sandbox)
        config = str(sandbox.config_path)
        orders = next(d for d in sandbox.topology.databases if d.name == "orders")
        sandbox.control.set_db_status(PROD, DR_REGION, orders.replica.id, "backing-up")
        refused = _failover(config, "sfn-redrive")
        assert refused.exit_code == 3, refused.output
        assert json.loads(refused.stdout)["execution_error"]["error"] == asl.FAILED_PRECONDITION
        assert _state(sandbox.topology, sandbox.clients)["orders"][0] is not None  # still a replica
        sandbox.control.set_db_status(PROD, DR_REGION, orders.replica.id, "available")
        other = _held_lock(sandbox)
        held = _drctl("resume", "sfn-redrive", "-c", config, "--yes")
        assert held.exit_code == 3, held.output
        assert "someone@elsewhere" in held.output

        resumed = _drctl("resume", "sfn-redrive", "-c", config, "--yes", "--break-lock", "-o", "json")
        other.release()

        assert resumed.exit_code == 0, resumed.output
        report = json.loads(resumed.stdout)
        assert (report["status"], report["execution_status"]) == ("succeeded", "SUCCEEDED")
        steps = {s["name"]: s["status"] for s in report["steps"]}
        assert steps["prechecks"] == "succeeded"
        assert all(steps[f"promote:{db.name}"] == "succeeded" for db in sandbox.topology.databases)
        after = _state(sandbox.topology, sandbox.clients)
        assert all(after[db.name][0] is None for db in sandbox.topology.databases)
        events = _history(sandbox, report)
        entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
        assert entered.count("lock:parent?") == 1
        assert entered.count("prechecks") == 2
        journal = _drctl("runs", "show", "sfn-redrive", "-c", config, "--events")
        events_of = [json.loads(line) for line in journal.stdout.splitlines()]
        assert [e["data"]["redrive"] for e in events_of if e["type"] == "run-resumed"] == [report["execution_arn"]]
        assert [e["data"]["run_id"] for e in events_of if e["type"] == "lock-broken"] == ["someone-elses-run"]

    def test_a_run_failed_after_its_promotions_is_redriven_without_promoting_again(
            self, sandbox: InProcessSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
        """Route53 refuses the first record change (a non-transient error): the execution fails after every
        promotion (exit 1; `runs list` says failed, from the execution). `resume` redrives it: the records move,
        no promotion is called again, and `runs list` says succeeded."""
        monkeypatch.setattr("dr.sfn.run.POLL_SECONDS", 0.5)
        _deployed(sandbox)
        config = str(sandbox.config_path)
        refusals = _refuse_first_record_change(monkeypatch)
        failed = _failover(config, "sfn-dns")
        assert failed.exit_code == 1, failed.output
        assert refusals == [1]
        half = _state(sandbox.topology, sandbox.clients)
        assert all(half[db.name][0] is None for db in sandbox.topology.databases)  # promoted before the failure
        assert _listed(config, "sfn-dns") == ("stepfunctions", "failed")

        resumed = _drctl("resume", "sfn-dns", "-c", config, "--yes", "-o", "json")

        assert resumed.exit_code == 0, resumed.output
        report = json.loads(resumed.stdout)
        steps = {s["name"]: s["status"] for s in report["steps"]}
        assert all(status == "succeeded" for name, status in steps.items() if name.startswith("dns:"))
        assert _listed(config, "sfn-dns") == ("stepfunctions", "succeeded")
        called_again = _called(_after_redrive(_history(sandbox, report)))
        assert "changeResourceRecordSets" in called_again
        assert called_again.isdisjoint(PROMOTIONS)


def _held_lock(sandbox: InProcessSandbox) -> Any:
    """The prod/qa pair's run lock, taken by another run (as a local run on another machine would hold it)."""
    from dr.clock import SYSTEM_CLOCK
    from dr.engine.backends import run_lock
    from dr.engine.lock.base import LockInfo, lock_key

    key = lock_key("prod", "qa")
    lock = run_lock(sandbox.topology, sandbox.clients, key)
    lock.acquire(LockInfo(key=key, run_id="someone-elses-run", holder="someone@elsewhere", pid=1,
                          since=SYSTEM_CLOCK.now()))
    return lock


def _refuse_first_record_change(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The state machine's Route53 client answers the first ChangeResourceRecordSets with InvalidInput (an error
    Route53 returns and Step Functions does not retry); the list counts the refusals."""
    from botocore.exceptions import ClientError

    from dr.sandbox.extensions import sfn_tasks

    real = sfn_tasks.client_as
    refused: list[int] = []

    class Refusing:
        def __init__(self, client: Any) -> None:
            self._client = client

        def __getattr__(self, name: str) -> Any:
            return getattr(self._client, name)

        def change_resource_record_sets(self, **kwargs: Any) -> Any:
            if not refused:
                refused.append(1)
                raise ClientError({"Error": {"Code": "InvalidInput", "Message": "refused by the test"}},
                                  "ChangeResourceRecordSets")
            return self._client.change_resource_record_sets(**kwargs)

    def client_as(role_arn: str, service: str, region: str) -> Any:
        client = real(role_arn, service, region)
        return Refusing(client) if service == "route53" else client

    monkeypatch.setattr(sfn_tasks, "client_as", client_as)
    return refused


class TestReading:
    def test_a_redriven_history_reopens_the_failed_steps_and_keeps_the_settled_ones(self) -> None:
        """Steps from a history with a failure then ExecutionRedriven: the promotion that succeeded keeps its first
        record, the failed one is re-read from its new iteration, and the failure is no longer the outcome."""
        defn = definition_for(NO_ARC, "failover", "prod", "qa")
        names = [f"promote:{db}" for db in defn.databases]
        t0 = datetime(2026, 12, 6, 6, 0, tzinfo=UTC)
        at = [t0 + timedelta(seconds=s) for s in range(10)]

        def it(kind: str, index: int, when: datetime) -> dict[str, Any]:
            return {"type": kind, "timestamp": when, "mapIterationStartedEventDetails": {"name": "promote",
                                                                                         "index": index}}
        failed = [it("MapIterationStarted", 0, at[0]), it("MapIterationStarted", 1, at[0]),
                  it("MapIterationSucceeded", 0, at[1]), it("MapIterationFailed", 1, at[2]),
                  {"type": "ExecutionFailed", "timestamp": at[3],
                   "executionFailedEventDetails": {"error": "Rds.InvalidDBInstanceStateException", "cause": "busy"}}]
        before = read(failed, defn, "FAILED")
        assert (before.steps[names[1]].status, run_status(before).value) == (StepStatus.FAILED, "failed")
        redriven = [*failed, {"type": "ExecutionRedriven", "timestamp": at[5]},
                    it("MapIterationStarted", 1, at[6]), it("MapIterationSucceeded", 1, at[8])]
        after = read(redriven, defn, "SUCCEEDED")
        assert (after.error, after.cause) == ("", "")
        assert (after.steps[names[0]].status, after.steps[names[0]].ended_at) == (StepStatus.SUCCEEDED, at[1])
        assert (after.steps[names[1]].status, after.steps[names[1]].started_at) == (StepStatus.SUCCEEDED, at[6])

    def test_an_aborted_execution_fails_its_open_steps_with_a_cause(self) -> None:
        """StopExecution: the history ends with ExecutionAborted; the steps still open fail with a cause saying so."""
        defn = definition_for(NO_ARC, "failover", "prod", "qa")
        t0 = datetime(2026, 12, 6, 6, 0, tzinfo=UTC)
        events = [{"type": "MapIterationStarted", "timestamp": t0,
                   "mapIterationStartedEventDetails": {"name": "promote", "index": 0}},
                  {"type": "ExecutionAborted", "timestamp": t0 + timedelta(seconds=3)}]
        view = read(events, defn, "ABORTED")
        step = view.steps[f"promote:{defn.databases[0]}"]
        assert (step.status, run_status(view).value) == (StepStatus.FAILED, "failed")
        assert "stopped" in step.detail


class FakeSfn:
    """DescribeExecution of named executions (a failback's parts); the others do not exist."""

    class exceptions:  # noqa: N801 - boto3's attribute name
        class ExecutionDoesNotExist(Exception):
            pass

    def __init__(self, statuses: dict[str, str]) -> None:
        self.statuses = statuses
        self.calls: list[str] = []

    def describe_execution(self, executionArn: str) -> dict[str, Any]:  # noqa: N803 - boto3's parameter name
        self.calls.append("DescribeExecution")
        name = executionArn.rsplit(":", 1)[-1]
        if name not in self.statuses:
            raise self.exceptions.ExecutionDoesNotExist(name)
        return {"status": self.statuses[name], "redriveCount": 0}


class TestRefusals:
    @pytest.mark.parametrize(("error", "said"), [(asl.GATE_REFUSED, "RPO gate"), (LOCKED, "stopped before any step")])
    def test_a_run_stopped_by_the_gate_or_the_lock_is_not_redriven(self, error: str, said: str) -> None:
        """A gate refusal or DR.Locked is final for its execution: resume says to start a new run (exit 2) and
        calls nothing in Step Functions."""
        from dr.errors import UsageError
        from dr.sfn.resume import Unfinished, redrive

        header = type("Header", (), {"run_id": "r1", "runbook": "failover", "source": "prod", "target": "qa"})()
        found = Unfinished("arn:aws:states:eu-west-1:1:execution:m:r1", "FAILED", error, "why", 0)
        sfn = FakeSfn({})
        with pytest.raises(UsageError, match=said) as refused:
            redrive(sfn, definition_for(NO_ARC, "failover", "prod", "qa"), header, found, None, topology=NO_ARC,
                    clients=None)
        assert refused.value.exit_code == 2
        assert "start a new run" in str(refused.value).lower()
        assert sfn.calls == []


class TestFailbackParts:
    @pytest.mark.parametrize(("statuses", "expected"), [
        ({"fb": "SUCCEEDED", "fb-switch": "FAILED"}, ("fb-switch", "FAILED")),
        ({"fb": "SUCCEEDED"}, ("fb", "RUNNING")),  # its last state is starting the next part
        ({"fb": "SUCCEEDED", "fb-switch": "SUCCEEDED", "fb-dr": "SUCCEEDED"}, None),
        ({"fb": "TIMED_OUT"}, ("fb", "TIMED_OUT")),
    ])
    def test_the_part_resumed_is_the_first_that_did_not_succeed(
            self, statuses: dict[str, str], expected: tuple[str, str] | None) -> None:
        """A failback runs as parts, each starting the next: resume acts on the first part that did not succeed."""
        from dr.engine.step import RunOptions

        defn = definition_for(NO_ARC, "failback", "qa", "prod")
        header = type("Header", (), {"run_id": "fb", "options": RunOptions(extra={"phase": "all"})})()
        found = unfinished(FakeSfn(statuses), defn, header)
        assert (None if found is None else (found.arn.rsplit(":", 1)[-1], found.status)) == expected
