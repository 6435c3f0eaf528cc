"""The Task builder: an SDK integration in the state machine's region, the caller's Lambda invoke elsewhere, with
the result and error names of the SDK integration either way."""

from __future__ import annotations

import pytest

from dr.sfn import asl
from dr.sfn.remote import CALLER_PLACEHOLDER, LAMBDA_TRANSIENT
from dr.sfn.remote.calls import LAMBDA_INVOKE, allowlist, bind, remote_calls
from runbooks.steps.fence import FenceSource


@pytest.fixture(scope="module")
def step() -> FenceSource:
    from dr.config import load
    from runbooks.steps._common import Move
    from tests.conftest import EXAMPLE

    db = load(EXAMPLE).databases[0]
    return FenceSource(Move(db, old=db.primary, new=db.replica))


class TestTask:
    def test_without_region_it_is_the_sdk_integration_as_before(self, step: FenceSource) -> None:
        """No region or endpoint: `aws-sdk:rds:...` with Credentials, selector and the service's retry names."""
        state = asl.task("rds", "DescribeDBInstances", {"DBInstanceIdentifier": "a"}, step=step, next_state="n",
                         result_path="$.found", selector={"db.$": "$.DBInstances[0]"}, credentials="arn:role")
        assert state["Resource"] == "arn:aws:states:::aws-sdk:rds:describeDBInstances"
        assert state["Credentials"] == {"RoleArn": "arn:role"}
        assert state["ResultSelector"] == {"db.$": "$.DBInstances[0]"}
        assert "Lambda.ServiceException" not in state["Retry"][0]["ErrorEquals"]

    def test_another_region_invokes_the_caller_with_the_same_result_and_errors(self, step: FenceSource) -> None:
        """With a region: a Lambda invoke of the caller carrying region, call, parameters and role; the selector
        reads under Payload (also inside intrinsics); Retry keeps `Rds.ThrottlingException` and adds Lambda's
        transient errors; Catch is kept."""
        catch = [{"ErrorEquals": ["Rds.DBInstanceNotFoundException"], "Next": "gone"}]
        state = asl.task("rds", "DescribeDBInstances", {"DBInstanceIdentifier.$": "$.item.source"}, step=step,
                         next_state="n", result_path="$.found", credentials="arn:role", catch=catch,
                         selector={"db.$": "$.DBInstances[0]", "n.$": "States.ArrayLength($.DBInstances)"},
                         region="eu-central-1")
        assert state["Resource"] == LAMBDA_INVOKE
        assert "Credentials" not in state
        assert state["Parameters"] == {"FunctionName": CALLER_PLACEHOLDER, "Payload": {
            "service": "rds", "action": "DescribeDBInstances", "error_prefix": "Rds", "region": "eu-central-1",
            "parameters": {"DBInstanceIdentifier.$": "$.item.source"}, "role_arn": "arn:role"}}
        assert state["ResultSelector"] == {"db.$": "$.Payload.DBInstances[0]",
                                           "n.$": "States.ArrayLength($.Payload.DBInstances)"}
        names = state["Retry"][0]["ErrorEquals"]
        assert "Rds.ThrottlingException" in names
        assert set(LAMBDA_TRANSIENT) <= set(names)
        assert state["Catch"] == catch
        assert state["ResultPath"] == "$.found"
        assert state["Next"] == "n"

    def test_a_region_path_and_cluster_endpoints_go_into_the_payload(self, step: FenceSource) -> None:
        """A `$...` region is resolved at run time (`region.$`); ARC endpoints are passed as a list."""
        endpoints = [{"region": "us-east-1", "url": "https://a"}, {"region": "eu-west-1", "url": "https://b"}]
        state = asl.task("rds", "DescribeDBInstances", {}, step=step, next_state=None, region="$.item.region")
        assert state["Parameters"]["Payload"]["region.$"] == "$.item.region"
        assert state["End"] is True
        arc = asl.task("route53", "ListHostedZones", {}, step=step, next_state=None, endpoint_url=endpoints)
        assert arc["Parameters"]["Payload"]["endpoints"] == endpoints

    def test_a_result_path_without_selector_is_refused(self, step: FenceSource) -> None:
        """The invoke result wraps the answer in Payload: without a selector it would land elsewhere."""
        with pytest.raises(ValueError, match="selector"):
            asl.task("rds", "DescribeDBInstances", {}, step=step, next_state=None, result_path="$.x",
                     region="eu-central-1")


class TestCalls:
    def test_bind_names_the_function_and_the_calls_are_listed(self, step: FenceSource) -> None:
        """The generator binds every caller Task to the machine's function; its calls form the allowlist."""
        doc = {"States": {"a": asl.task("rds", "ModifyDBInstance", {}, step=step, next_state="b",
                                        region="eu-central-1"),
                          "b": asl.task("rds", "DescribeDBInstances", {}, step=step, next_state=None)}}
        bind(doc, "drctl-call-x")
        assert doc["States"]["a"]["Parameters"]["FunctionName"] == "drctl-call-x"
        assert allowlist(doc) == ["rds:ModifyDBInstance"]
        assert [c.region for c in remote_calls(doc)] == ["eu-central-1"]
