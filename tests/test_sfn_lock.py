"""The run lock of the Step Functions engine: executions of a pair serialised server-side (DR.Locked), and a local
run or a start refused while an execution of the pair runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from dr.cli.run_options import RunFlags
from dr.clock import SYSTEM_CLOCK
from dr.engine.events import RunStatus
from dr.engine.session import EXIT_CODES
from dr.errors import LockHeld
from dr.sfn import naming, states_lock
from dr.sfn.follow import execution_input, follow, run_status
from dr.sfn.run import _start, definition_for
from dr.testing.sandbox import InProcessSandbox
from tests.test_sfn_engine import NO_ARC, UNPLANNED, _deployed, _drctl, _state, sandbox_topology

__all__ = ["sandbox_topology"]  # this module's sandboxes are seeded without the ARC record, as test_sfn_engine's

BLOCKER = {"StartAt": "hold", "States": {"hold": {"Type": "Wait", "Seconds": 3600, "End": True}}}
"""A machine under drctl's name whose execution stays RUNNING (the test stops it)."""


@pytest.fixture
def running(sandbox: InProcessSandbox) -> Iterator[str]:
    """`drctl-failover-prod-to-qa` deployed with an execution `sfn-held` RUNNING in it; its ARN."""
    sfn = sandbox.clients.client("stepfunctions", "prod", "eu-west-1")
    machine = sfn.create_state_machine(name=naming.machine_name("failover", "prod", "qa"),
                                       definition=json.dumps(BLOCKER),
                                       roleArn="arn:aws:iam::111111111111:role/drctl-sfn-failover-prod-to-qa")
    arn = str(sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name="sfn-held")["executionArn"])
    yield arn
    sfn.stop_execution(executionArn=arn)


def _executions(sandbox: InProcessSandbox) -> list[str]:
    sfn = sandbox.clients.client("stepfunctions", "prod", "eu-west-1")
    arn = f"arn:aws:states:eu-west-1:111111111111:stateMachine:{naming.machine_name('failover', 'prod', 'qa')}"
    return [e["name"] for e in sfn.list_executions(stateMachineArn=arn)["executions"]]


class TestServerSide:
    def test_two_executions_started_at_once_exactly_one_proceeds(self, sandbox: InProcessSandbox) -> None:
        """Two executions started back to back (two operators, or the console): the earlier proceeds and
        succeeds; the later fails with DR.Locked naming the earlier, before any step, and its follower's run is
        refused (exit 3)."""
        defn = _deployed(sandbox)
        sfn = sandbox.clients.client("stepfunctions", "prod", defn.region)
        payload = execution_input("x", True, ("2026-01-01T00:00:00Z", "2026-01-01T00:02:00Z"),
                                  [1] * len(defn.databases))
        first = sfn.start_execution(stateMachineArn=naming.machine_arn(defn), name="run-z", input=payload)
        second = sfn.start_execution(stateMachineArn=naming.machine_arn(defn), name="run-a", input=payload)
        views = [follow(sfn, e["executionArn"], defn, SYSTEM_CLOCK, on_step=lambda s: None, poll=0.2)
                 for e in (first, second)]
        assert [v.status for v in views] == ["SUCCEEDED", "FAILED"]
        assert views[1].error == states_lock.LOCKED
        assert "run-z" in views[1].cause
        assert "drctl runs show run-z" in views[1].cause
        assert views[1].steps == {}  # stopped before prechecks
        assert run_status(views[1]) is RunStatus.REFUSED
        assert EXIT_CODES[RunStatus.REFUSED] == 3

    def test_the_part_that_started_this_execution_does_not_hold_the_lock_against_it(
            self, sandbox: InProcessSandbox) -> None:
        """A failback part starts the next one as its last state and is still RUNNING for a moment: an execution
        whose input names it as `parent` proceeds past the lock."""
        defn = _deployed(sandbox)
        sfn = sandbox.clients.client("stepfunctions", "prod", defn.region)
        payload = execution_input("x", True, ("2026-01-01T00:00:00Z", "2026-01-01T00:02:00Z"),
                                  [1] * len(defn.databases))
        first = sfn.start_execution(stateMachineArn=naming.machine_arn(defn), name="run-z", input=payload)
        child = json.dumps({**json.loads(payload), "parent": first["executionArn"]})
        second = sfn.start_execution(stateMachineArn=naming.machine_arn(defn), name="run-z-switch", input=child)
        views = [follow(sfn, e["executionArn"], defn, SYSTEM_CLOCK, on_step=lambda s: None, poll=0.2)
                 for e in (first, second)]
        # both went past the lock (two real moves of one pair then race each other: not what a part does)
        assert [v.error == states_lock.LOCKED for v in views] == [False, False]
        assert all(v.steps for v in views)
        assert all(v[0] is None for k, v in _state(sandbox.topology, sandbox.clients).items() if not k.endswith("."))

    def test_the_definition_lists_its_pair_and_the_role_may_list_only_those(self) -> None:
        """The lock's first state lists the machine's own running executions; the execution role gets
        states:ListExecutions on exactly the machines listed."""
        from dr.sfn.deploy import role_policy

        defn = definition_for(NO_ARC, "failover", "prod", "qa")
        states = defn.asl["States"]
        assert states["plan"]["Next"] == "lock:parent?"
        first = states["lock:0"]
        assert first["Resource"] == "arn:aws:states:::aws-sdk:sfn:listExecutions"
        assert first["Parameters"]["StateMachineArn"] == naming.machine_arn(defn)
        grants = [s for s in role_policy(defn)["Statement"] if "states:ListExecutions" in s["Action"]]
        assert grants == [{"Effect": "Allow", "Action": ["states:ListExecutions"],
                           "Resource": states_lock.listed_machines(defn.asl)}]


class TestAcrossEngines:
    def test_a_local_run_is_refused_while_an_execution_of_the_pair_runs(self, sandbox: InProcessSandbox,
                                                                        running: str) -> None:
        """`drctl failover` (local engine) exits 3 naming the running execution and `drctl runs show`; nothing is
        promoted and the local lock is free again."""
        before = _state(sandbox.topology, sandbox.clients)
        refused = _drctl("failover", "--to", "qa", "--unplanned", "--yes", "--accept-data-loss", "--run-id",
                         "local-1", "-c", str(sandbox.config_path), "-o", "json")
        assert refused.exit_code == 3, refused.output
        assert running in refused.output
        assert "drctl runs show sfn-held" in refused.output
        assert _state(sandbox.topology, sandbox.clients) == before

    def test_a_start_is_refused_while_another_execution_runs(self, sandbox: InProcessSandbox, running: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
        """`failover --engine stepfunctions` takes the pair's lock and refuses (exit 3) while an execution runs:
        no execution is started. (The machine running is a stand-in, so the deployed-definition check is off.)"""
        monkeypatch.setattr("dr.sfn.run.check_runnable", lambda defn, clients, phase=None: None)
        with pytest.raises(LockHeld, match="sfn-held") as refused:
            _start("failover", config=str(sandbox.config_path), target="qa",
                   flags=RunFlags(run_id="sfn-second", **UNPLANNED))
        assert refused.value.exit_code == 3
        assert _executions(sandbox) == ["sfn-held"]

    def test_the_lock_is_released_after_a_refusal(self, sandbox: InProcessSandbox, running: str,
                                                  tmp_path: Any) -> None:
        """A refused local lock is given back: the plain local lock can be taken at once."""
        from dr.engine.lock.base import LockInfo
        from dr.engine.lock.local import LocalLock
        from dr.sfn.pair_lock import guarded

        me = LockInfo(key="prod--qa", run_id="r1", holder="t@h", pid=1, since=SYSTEM_CLOCK.now())
        lock = guarded(LocalLock(tmp_path, "prod--qa"), sandbox.topology, sandbox.clients, "prod", "qa")
        with pytest.raises(LockHeld):
            lock.acquire(me)
        plain = LocalLock(tmp_path, "prod--qa")
        assert plain.acquire(me) is None
        plain.release()
