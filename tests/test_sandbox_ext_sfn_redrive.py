"""The sandbox's RedriveExecution: a stopped execution continues at its unsuccessful top-level state, in the same
history, and is refused as AWS refuses it (running, succeeded, unknown, stopped over 14 days ago)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from dr.clock import FakeClock
from dr.sandbox.extensions.sfn_redrive import restart_point
from dr.sandbox.extensions.state import STATE

REGION = "eu-west-1"
ROLE = "arn:aws:iam::123456789012:role/sfn"
GATE = {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:describeTable",
        "Parameters": {"TableName": "gate"}, "ResultPath": None}
"""Fails (ResourceNotFoundException) until the test creates the table `gate`."""
THREE_STATES = {"StartAt": "first", "States": {
    "first": {"Type": "Pass", "Result": 1, "ResultPath": "$.first", "Next": "second"},
    "second": {**GATE, "Next": "third"},
    "third": {"Type": "Pass", "End": True}}}
WAITING = {"StartAt": "hold", "States": {"hold": {"Type": "Wait", "Seconds": 3600, "End": True}}}


def settle() -> None:
    """Join the interpreter's threads (moto's and the redrive's): every execution has stopped or is waiting."""
    from moto.stepfunctions.parser.utils import TMP_THREADS

    while alive := [t for t in list(TMP_THREADS) if t.is_alive()]:
        for thread in alive:
            thread.join(timeout=30)


def entered_times(sfn: Any, arn: str, state: str, times: int) -> None:
    """Block until `state` has been entered `times` times (the interpreter enters it in its own thread)."""
    done = threading.Event()
    for _ in range(3000):
        if _entered(sfn, arn).count(state) >= times:
            return
        done.wait(0.01)  # a thread hand-over, not a timing: the state is entered as soon as its thread runs
    raise AssertionError(f"{state} was not entered {times} times: {_entered(sfn, arn)}")


def interpreter_env(arn: str) -> Any:
    """The interpreter's environment of one execution (moto's in-process objects)."""
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    execution: Any = stepfunctions_parser_backends["123456789012"][REGION].describe_execution(arn)
    return execution.exec_worker.env


def stop(sfn: Any, arn: str) -> None:
    """StopExecution, and wake the Wait state for good: moto sets its wake-up event and clears it at once, so a Wait
    that begins waiting a moment later would sleep its full time."""
    sfn.stop_execution(executionArn=arn)
    env = interpreter_env(arn)
    env.program_state_event.set()
    settle()
    env.program_state_event.clear()


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    """moto in-process with the sandbox's extensions, the sandbox clock a FakeClock at the wall time."""
    from moto import mock_aws

    from dr.sandbox import install

    install()
    fake = FakeClock(datetime.now(UTC))
    STATE.reset(fake)
    try:
        with mock_aws():
            yield fake
    finally:
        STATE.reset()


def _start(sfn: Any, definition: dict[str, Any], name: str = "run-1") -> str:
    machine = sfn.create_state_machine(name="drctl-test", definition=json.dumps(definition), roleArn=ROLE)
    return str(sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name=name,
                                   input='{"run": "r1"}')["executionArn"])


def _open_gate(ddb: Any) -> None:
    ddb.create_table(TableName="gate", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")


def _entered(sfn: Any, arn: str) -> list[str]:
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]


def _failed_three_states(clients: tuple[Any, Any]) -> str:
    sfn, _ = clients
    arn = _start(sfn, THREE_STATES)
    settle()
    assert sfn.describe_execution(executionArn=arn)["status"] == "FAILED"
    return arn


@pytest.fixture
def clients(clock: FakeClock) -> tuple[Any, Any]:
    return boto3.client("stepfunctions", region_name=REGION), boto3.client("dynamodb", region_name=REGION)


class TestRedrive:
    def test_a_failed_execution_continues_at_the_failed_state_and_succeeds(self, clients: tuple[Any, Any],
                                                                          clock: FakeClock) -> None:
        """Redriven after the cause is fixed: the same ARN SUCCEEDS; `first` is not re-entered; the
        history continues with ExecutionRedriven (redriveCount 1); describe shows redriveCount 1 and the date."""
        sfn, ddb = clients
        arn = _failed_three_states(clients)
        clock.advance(60)
        _open_gate(ddb)
        answer = sfn.redrive_execution(executionArn=arn, clientToken="token-1")
        assert abs((answer["redriveDate"] - clock.now()).total_seconds()) < 0.001  # the sandbox clock, in ms
        settle()
        done = sfn.describe_execution(executionArn=arn)
        assert done["status"] == "SUCCEEDED"
        assert (done["redriveCount"], done["redriveDate"]) == (1, answer["redriveDate"])
        assert (done["redriveStatus"], done["redriveStatusReason"]) == (
            "NOT_REDRIVABLE", "Execution is SUCCEEDED and cannot be redriven")
        assert json.loads(done["output"]) == {"run": "r1", "first": 1}
        assert _entered(sfn, arn) == ["first", "second", "second", "third"]
        events = sfn.get_execution_history(executionArn=arn)["events"]
        kinds = [e["type"] for e in events]
        redriven = kinds.index("ExecutionRedriven")
        assert (kinds[redriven - 1], kinds[-1]) == ("ExecutionFailed", "ExecutionSucceeded")
        assert events[redriven]["executionRedrivenEventDetails"] == {"redriveCount": 1}
        assert [e["id"] for e in events] == list(range(1, len(events) + 1))
        listed = sfn.list_executions(stateMachineArn=done["stateMachineArn"])["executions"]
        assert [(x["status"], x["redriveCount"]) for x in listed] == [("SUCCEEDED", 1)]

    def test_the_same_client_token_gets_the_same_answer_without_a_second_redrive(
            self, clients: tuple[Any, Any]) -> None:
        """A retried request (same clientToken) answers the first redriveDate; the execution is redriven once."""
        sfn, ddb = clients
        arn = _failed_three_states(clients)
        _open_gate(ddb)
        first = sfn.redrive_execution(executionArn=arn, clientToken="token-1")
        settle()
        again = sfn.redrive_execution(executionArn=arn, clientToken="token-1")
        assert again["redriveDate"] == first["redriveDate"]
        assert sfn.describe_execution(executionArn=arn)["redriveCount"] == 1
        with pytest.raises(ClientError) as refused:
            sfn.redrive_execution(executionArn=arn, clientToken="token-2")
        assert refused.value.response["Error"]["Code"] == "ExecutionNotRedrivable"

    def test_a_failed_map_runs_again_and_the_states_before_it_do_not(self, clients: tuple[Any, Any]) -> None:
        """The restart point is the top-level Map, not a state inside an iteration; the whole Map runs again."""
        sfn, ddb = clients
        arn = _start(sfn, {"StartAt": "first", "States": {
            "first": {"Type": "Pass", "Result": [1, 2], "ResultPath": "$.items", "Next": "each"},
            "each": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": None, "End": True,
                     "ItemProcessor": {"StartAt": "inner", "States": {"inner": {**GATE, "End": True}}}}}})
        settle()
        assert sfn.describe_execution(executionArn=arn)["status"] == "FAILED"
        _open_gate(ddb)
        sfn.redrive_execution(executionArn=arn)
        settle()
        assert sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED"
        entered = _entered(sfn, arn)
        assert (entered.count("first"), entered.count("each")) == (1, 2)
        assert entered[-2:] == ["inner", "inner"]

    def test_an_aborted_execution_is_redriven_and_a_running_one_is_refused(self, clients: tuple[Any, Any]) -> None:
        """RUNNING: ExecutionNotRedrivable; after StopExecution (ABORTED) it is redriven into the stopped state and
        reads RUNNING again, without a stopDate, until it stops anew."""
        sfn, _ = clients
        arn = _start(sfn, WAITING)
        entered_times(sfn, arn, "hold", 1)
        with pytest.raises(ClientError) as refused:
            sfn.redrive_execution(executionArn=arn)
        assert refused.value.response["Error"]["Code"] == "ExecutionNotRedrivable"
        assert "RUNNING" in refused.value.response["Error"]["Message"]
        stop(sfn, arn)
        assert sfn.describe_execution(executionArn=arn)["status"] == "ABORTED"
        sfn.redrive_execution(executionArn=arn)
        running = sfn.describe_execution(executionArn=arn)
        assert (running["status"], "stopDate" in running, running["redriveCount"]) == ("RUNNING", False, 1)
        entered_times(sfn, arn, "hold", 2)
        assert _entered(sfn, arn) == ["hold", "hold"]
        stop(sfn, arn)
        assert sfn.describe_execution(executionArn=arn)["status"] == "ABORTED"


    def test_a_timed_out_execution_shows_its_stop_date_and_is_redriven(self, clients: tuple[Any, Any]) -> None:
        """TIMED_OUT (the interpreter's own timeout signal, without waiting for it): stopDate in describe and list
        (moto left it out), REDRIVABLE, and redriven into the state that timed out."""
        sfn, _ = clients
        arn = _start(sfn, WAITING)
        entered_times(sfn, arn, "hold", 1)
        env = interpreter_env(arn)
        env.set_timed_out()
        env.program_state_event.set()  # as `stop` does: a Wait not yet waiting would miss moto's set-and-clear
        settle()
        env.program_state_event.clear()
        described = sfn.describe_execution(executionArn=arn)
        assert (described["status"], "stopDate" in described, described["redriveStatus"]) == (
            "TIMED_OUT", True, "REDRIVABLE")
        listed = sfn.list_executions(stateMachineArn=described["stateMachineArn"])["executions"]
        assert listed[0]["stopDate"] == described["stopDate"]
        sfn.redrive_execution(executionArn=arn)
        entered_times(sfn, arn, "hold", 2)
        stop(sfn, arn)
        assert sfn.describe_execution(executionArn=arn)["status"] == "ABORTED"


class TestRefusals:
    def test_a_succeeded_execution_is_not_redrivable(self, clients: tuple[Any, Any]) -> None:
        """SUCCEEDED: ExecutionNotRedrivable, and describe says NOT_REDRIVABLE with AWS's reason."""
        sfn, ddb = clients
        _open_gate(ddb)
        arn = _start(sfn, THREE_STATES)
        settle()
        described = sfn.describe_execution(executionArn=arn)
        assert (described["status"], described["redriveCount"], described["redriveStatus"]) == (
            "SUCCEEDED", 0, "NOT_REDRIVABLE")
        with pytest.raises(ClientError) as refused:
            sfn.redrive_execution(executionArn=arn)
        assert refused.value.response["Error"]["Code"] == "ExecutionNotRedrivable"
        assert _entered(sfn, arn) == ["first", "second", "third"]

    def test_an_unknown_execution_does_not_exist(self, clients: tuple[Any, Any]) -> None:
        """An ARN naming no execution (of an existing machine or of none): ExecutionDoesNotExist."""
        sfn, _ = clients
        arn = _failed_three_states(clients)
        for missing in (arn.replace(":run-1", ":nope"), arn.replace(":drctl-test:", ":no-machine:")):
            with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
                sfn.redrive_execution(executionArn=missing)

    def test_an_execution_stopped_over_14_days_ago_is_not_redrivable(self, clients: tuple[Any, Any],
                                                                     clock: FakeClock) -> None:
        """13 days after the failure (sandbox clock) it is REDRIVABLE; 15 days after, refused as AWS does."""
        sfn, _ = clients
        arn = _failed_three_states(clients)
        clock.advance(13 * 86400)
        assert sfn.describe_execution(executionArn=arn)["redriveStatus"] == "REDRIVABLE"
        clock.advance(2 * 86400)
        described = sfn.describe_execution(executionArn=arn)
        assert (described["redriveStatus"], described["redriveStatusReason"]) == (
            "NOT_REDRIVABLE", "Execution redrivable period exceeded")
        with pytest.raises(ClientError) as refused:
            sfn.redrive_execution(executionArn=arn)
        assert refused.value.response["Error"]["Code"] == "ExecutionNotRedrivable"
        assert sfn.describe_execution(executionArn=arn)["status"] == "FAILED"


class TestRestartPoint:
    def test_states_inside_a_container_are_skipped_until_it_exits(self) -> None:
        """A state entered inside a Map or Parallel is never the restart point; the container or a later one is."""
        def entered(kind: str, name: str, data: str = "{}") -> dict[str, Any]:
            return {"type": f"{kind}StateEntered", "stateEnteredEventDetails": {"name": name, "input": data}}

        def exited(kind: str, name: str) -> dict[str, Any]:
            return {"type": f"{kind}StateExited", "stateExitedEventDetails": {"name": name}}

        inside_failed = [entered("Pass", "a"), exited("Pass", "a"), entered("Parallel", "p", '{"x": 1}'),
                         entered("Task", "t"), {"type": "ExecutionFailed"}]
        assert restart_point(inside_failed) == ("p", {"x": 1})
        after = [*inside_failed, {"type": "ExecutionRedriven"}, entered("Parallel", "p"), entered("Task", "t"),
                 exited("Task", "t"), exited("Parallel", "p"), entered("Task", "next", '{"y": 2}')]
        assert restart_point(after) == ("next", {"y": 2})
        assert restart_point([{"type": "ExecutionStarted"}]) is None


class TestOverHttp:
    def test_a_sandbox_server_redrives_through_its_api(self) -> None:
        """X-Amz-Target AWSStepFunctions.RedriveExecution on a sandbox server: the failed execution succeeds."""
        from dr.sandbox.server import start_server

        with start_server() as server:
            def client(service: str) -> Any:
                return boto3.client(service, region_name=REGION, endpoint_url=server.endpoint,
                                    aws_access_key_id="testing", aws_secret_access_key="testing")

            sfn, ddb = client("stepfunctions"), client("dynamodb")
            machine = sfn.create_state_machine(name="drctl-http", definition=json.dumps(THREE_STATES), roleArn=ROLE)
            arn = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name="run-http")["executionArn"]
            settle()
            _open_gate(ddb)
            assert "redriveDate" in sfn.redrive_execution(executionArn=arn)
            settle()
            described = sfn.describe_execution(executionArn=arn)
            assert (described["status"], described["redriveCount"]) == ("SUCCEEDED", 1)
            assert _entered(sfn, arn) == ["first", "second", "second", "third"]
