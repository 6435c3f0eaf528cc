"""drctl's cross-region caller: its package, deployment, and the function as the sandbox runs the deployed zip
(AWS Lambda's Invoke answers, SFN-style error names, the allowlist), and its catch-up check."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dr.aws.cloudwatch import Datapoint
from dr.checks.lag import LagSample, rpo_verdict
from dr.sfn.remote import ALLOWLIST_ENV, CALLER_TAG
from dr.sfn.remote import deploy as remote_deploy
from dr.sfn.remote import handler as caller_code
from dr.sfn.remote.handler import caught_up, fresh_lag
from dr.sfn.remote.package import build
from dr.testing.sandbox import InProcessSandbox, ServerSandbox
from runbooks.steps.catch_up import applied_everything, replay_stands_still


def _doc(*calls: tuple[str, str]) -> dict[str, Any]:
    """A definition fragment with one caller Task per call (eu-central-1)."""
    return {"States": {f"s{n}": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {
        "FunctionName": "f", "Payload": {"service": s, "action": a, "region": "eu-central-1"}}}
        for n, (s, a) in enumerate(calls)}}


def _caller(doc: dict[str, Any]) -> remote_deploy.Caller:
    found = remote_deploy.caller_of(doc, runbook="failover", source="prod", target="qa", account="111111111111",
                                    region="eu-west-1", grants=[])
    assert found is not None
    return found


def _invoke(sandbox: InProcessSandbox, name: str, event: dict[str, Any]) -> tuple[str | None, Any]:
    lam = sandbox.clients.client("lambda", "prod", "eu-west-1")
    answer = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode())
    return answer.get("FunctionError"), json.loads(answer["Payload"].read())


class TestPackage:
    def test_the_zip_is_the_same_bytes_every_time(self) -> None:
        """Fixed timestamps and modes: the hash (the function's tag) changes only with the code."""
        assert build().zip_bytes == build().zip_bytes
        assert len(build().sha256) == 64


class TestFunction:
    def test_deployed_zip_calls_another_region_and_names_errors_as_sfn_does(self, sandbox: InProcessSandbox) -> None:
        """Deploy creates role and function (allowlist in its environment, hash tag); invoking it describes a prod
        copy in eu-central-1 from eu-west-1; a missing id fails with errorType `Rds.DBInstanceNotFoundException`;
        a call outside the allowlist is refused; a second deploy changes nothing."""
        caller = _caller(_doc(("rds", "DescribeDBInstances")))
        iam = sandbox.clients.client("iam", "prod", "eu-west-1")
        lam = sandbox.clients.client("lambda", "prod", "eu-west-1")
        assert remote_deploy.ensure(iam, lam, caller) == "created"
        found = lam.get_function(FunctionName=caller.name)
        assert found["Configuration"]["Environment"]["Variables"][ALLOWLIST_ENV] == "rds:DescribeDBInstances"
        assert found["Tags"][CALLER_TAG] == build().sha256
        orders = next(d for d in sandbox.topology.databases if d.name == "orders")
        event = {"service": "rds", "action": "DescribeDBInstances", "region": "eu-central-1", "error_prefix": "Rds",
                 "parameters": {"DBInstanceIdentifier": orders.primary.id}}
        error, payload = _invoke(sandbox, caller.name, event)
        assert error is None
        assert payload["DBInstances"][0]["DBInstanceIdentifier"] == orders.primary.id
        assert ":eu-central-1:111111111111:" in payload["DBInstances"][0]["DBInstanceArn"]
        error, payload = _invoke(sandbox, caller.name, {**event, "parameters": {"DBInstanceIdentifier": "nope"}})
        assert error == "Unhandled"
        assert payload["errorType"] == "Rds.DBInstanceNotFoundException"
        error, payload = _invoke(sandbox, caller.name, {**event, "action": "DeleteDBInstance"})
        assert payload["errorType"] == "DR.CallNotAllowed"
        assert remote_deploy.ensure(iam, lam, caller) == "unchanged"
        assert remote_deploy.plan(lam, _caller(_doc(("rds", "DescribeDBInstances"), ("rds", "ModifyDBInstance")))) \
            == "update"

    def test_on_the_sandbox_server_the_function_calls_back_through_it_without_deadlock(
            self, sandbox_server: ServerSandbox) -> None:
        """Server mode: the Invoke is served on one request thread while the function's own calls come back as
        other requests; they are answered (the request lock is released while it runs) and the copy is described."""
        caller = _caller(_doc(("rds", "DescribeDBInstances")))
        orders = next(d for d in sandbox_server.topology.databases if d.name == "orders")
        with sandbox_server.aws_env():
            clients = sandbox_server.clients()
            lam = clients.client("lambda", "prod", "eu-west-1")
            remote_deploy.ensure(clients.client("iam", "prod", "eu-west-1"), lam, caller)
            answer = lam.invoke(FunctionName=caller.name, Payload=json.dumps({
                "service": "rds", "action": "DescribeDBInstances", "region": "eu-central-1", "error_prefix": "Rds",
                "parameters": {"DBInstanceIdentifier": orders.primary.id}}).encode())
        payload = json.loads(answer["Payload"].read())
        assert "FunctionError" not in answer, payload
        assert payload["DBInstances"][0]["DBInstanceIdentifier"] == orders.primary.id

    def test_policy_allows_exactly_the_calls_on_the_grants_resources(self) -> None:
        """Each allowed action on the resources declared for it; its own log group; no wildcard action."""
        from dr.iam.grants import grant

        doc = _doc(("rds", "ModifyDBInstance"))
        arn = "arn:aws:rds:eu-central-1:111111111111:db:orders-db"
        found = remote_deploy.caller_of(doc, runbook="failover", source="prod", target="qa", account="1",
                                        region="eu-west-1", grants=[grant("prod", "eu-central-1",
                                                                          ["rds:ModifyDBInstance"], [arn])])
        assert found is not None
        statements = found.policy["Statement"]
        assert statements[0] == {"Effect": "Allow", "Action": ["rds:ModifyDBInstance"], "Resource": [arn]}
        assert all("*" not in a for s in statements for a in s["Action"])


class TestCaughtUp:
    @pytest.mark.parametrize(("engine", "lags"), [("mysql", [3.0, 0.0]), ("mysql", [3.0, 2.0]),
                                                  ("postgres", [10.0, 70.0]), ("postgres", [10.0, 20.0])])
    def test_the_function_judges_as_the_local_step(self, engine: str, lags: list[float]) -> None:
        """Lag 0 (MySQL family) or a standing replay timestamp (PostgreSQL): the same verdict as catch_up.py."""
        since = datetime(2026, 1, 1, tzinfo=UTC)
        times = [since + timedelta(seconds=60 * n) for n in range(len(lags))]
        points = [Datapoint(v, t) for v, t in zip(lags, times, strict=True)]
        local = (replay_stands_still if engine == "postgres" else applied_everything)(points) is not None
        verdict = caught_up({"since": since.isoformat(), "engine": engine, "values": lags,
                             "timestamps": [t.isoformat() for t in times]})
        assert verdict["caught_up"] is local
        assert not verdict["broken"]


NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class TestFreshLag:
    @pytest.mark.parametrize(("label", "ages", "values"), [
        ("fresh", [180, 60], [9.0, 4.0]),
        ("stale", [900, 420], [4.0, 4.0]),
        ("broken", [120, 60], [3.0, -1.0]),
        ("missing", [], []),
        ("over", [60], [700.0]),
    ])
    def test_the_newest_datapoint_is_judged_at_the_functions_time_as_locally(
            self, monkeypatch: pytest.MonkeyPatch, label: str, ages: list[int], values: list[float]) -> None:
        """Fresh within the RPO passes; older than five minutes, -1, no datapoint or above the RPO does not: the
        same verdict as the local step's rpo_verdict on the same newest datapoint, timed by the function's now."""
        monkeypatch.setattr(caller_code, "NOW", lambda: NOW)
        times = [NOW - timedelta(seconds=a) for a in ages]
        verdict = fresh_lag({"timestamps": [t.isoformat() for t in times], "values": values, "threshold": 600.0,
                             "to_seconds": 1.0, "max_age_seconds": 300.0})
        newest = min(range(len(ages)), key=lambda k: ages[k]) if ages else None
        sample = LagSample("db", "eu-central-1", "eu-west-1", None if newest is None else values[newest],
                           None if newest is None else float(ages[newest]))
        assert verdict["fresh"] is rpo_verdict(sample, 600.0)[0] is (label == "fresh")
        assert verdict["broken"] is (label == "broken")
        assert {"stale": "stale", "broken": "-1", "missing": "no lag datapoint", "over": "> RPO 600 s",
                "fresh": "<= RPO 600 s"}[label] in verdict["detail"]

    def test_a_millisecond_metric_is_bounded_in_its_unit(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Aurora global lag in milliseconds: the threshold is in the metric's unit, the detail in seconds."""
        monkeypatch.setattr(caller_code, "NOW", lambda: NOW)
        event = {"timestamps": [(NOW - timedelta(seconds=30)).isoformat()], "threshold": 600_000.0,
                 "to_seconds": 0.001, "max_age_seconds": 300.0}
        assert fresh_lag({**event, "values": [599_000.0]})["detail"] == "lag 599 s <= RPO 600 s"
        assert fresh_lag({**event, "values": [601_000.0]})["fresh"] is False

    def test_the_handler_answers_checks_by_name_and_refuses_an_unknown_one(
            self, monkeypatch: pytest.MonkeyPatch) -> None:
        """`{"check": "fresh-lag"}` calls nothing and answers the verdict; an unknown check is a named error."""
        monkeypatch.setattr(caller_code, "NOW", lambda: NOW)
        answer = caller_code.handler({"check": "fresh-lag", "timestamps": [NOW.isoformat()], "values": [1.0],
                                      "threshold": 600.0})
        assert answer["fresh"] is True
        with pytest.raises(Exception, match="no check 'fresh'") as refused:
            caller_code.handler({"check": "fresh"})
        assert type(refused.value).__name__ == "DR.UnknownCheck"


class _SettlingLambda:
    """A Lambda client whose create and updates take one more read to settle, as AWS's are asynchronous; any change
    made while one is in progress is refused with ResourceConflictException, as AWS does."""

    def __init__(self, existing: dict[str, Any] | None) -> None:
        self.function, self.pending, self.calls = existing, 0, []

    def get_function(self, FunctionName: str) -> dict[str, Any]:  # noqa: N803 (boto3's names)
        if self.function is None:
            raise self.exceptions.ResourceNotFoundException()
        return {"Configuration": self.function["config"], "Tags": self.function["tags"]}

    def get_function_configuration(self, FunctionName: str) -> dict[str, Any]:  # noqa: N803
        self.calls.append("read")
        status = "InProgress" if self.pending else "Successful"
        self.pending = max(0, self.pending - 1)
        return {**self.function["config"], "State": "Active", "LastUpdateStatus": status}  # type: ignore[index]

    def _change(self, name: str) -> None:
        if self.pending:
            raise RuntimeError(f"ResourceConflictException: {name} while an update is in progress")
        self.calls.append(name)
        self.pending = 1

    def update_function_code(self, **kwargs: Any) -> None:
        self._change("code")

    def update_function_configuration(self, **kwargs: Any) -> None:
        self._change("configuration")

    def tag_resource(self, **kwargs: Any) -> None:
        self._change("tags")

    class exceptions:  # noqa: N801 (boto3's shape)
        class ResourceNotFoundException(Exception):
            pass


class TestDeployWaits:
    def test_an_update_waits_for_the_previous_one_to_settle(self, sandbox: InProcessSandbox) -> None:
        """New code and a new allowlist: the configuration is changed only once the code update is no longer
        InProgress, and the tags once that one is (AWS refuses a change during an update)."""
        from dr.clock import FakeClock

        caller = _caller(_doc(("rds", "DescribeDBInstances")))
        iam = sandbox.clients.client("iam", "prod", "eu-west-1")
        old = {"config": {"FunctionArn": "arn:aws:lambda:eu-west-1:1:function:f", "Handler": "x",
                          "Environment": {"Variables": {ALLOWLIST_ENV: "rds:Other"}}, "Role": "r"},
               "tags": {CALLER_TAG: "old"}}
        lam = _SettlingLambda(old)
        assert remote_deploy.ensure(iam, lam, caller, clock=FakeClock()) == "updated"
        assert lam.calls == ["read", "code", "read", "read", "configuration", "read", "read", "tags"]
