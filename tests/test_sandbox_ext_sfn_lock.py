"""The sandbox extensions the Step Functions run lock relies on: SDK member names, Choice timestamps, and
ListTagsForResource of a missing state machine, each as AWS does."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest

from dr.sandbox.extensions.sfn_sdk_names import to_boto, to_sfn
from dr.sandbox.extensions.sfn_timestamps import string_to_timestamp


def _client(service: str) -> object:
    return boto3.client(service, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")


class TestSdkNames:
    def test_pascal_case_parameters_reach_a_camel_case_api(self) -> None:
        """`StateMachineArn`/`StatusFilter` become Step Functions' `stateMachineArn`/`statusFilter`."""
        params = to_boto(_client("stepfunctions"), "list_executions",
                         {"StateMachineArn": "arn:m", "StatusFilter": "RUNNING", "MaxResults": 20})
        assert params == {"stateMachineArn": "arn:m", "statusFilter": "RUNNING", "maxResults": 20}

    def test_results_are_pascal_case_and_pascal_apis_are_unchanged(self) -> None:
        """`executions[].startDate` reads `Executions[].StartDate`; RDS names pass through as they are."""
        answer = to_sfn(_client("stepfunctions"), "list_executions",
                        {"executions": [{"executionArn": "a", "name": "n", "startDate": "t"}]})
        assert answer == {"Executions": [{"ExecutionArn": "a", "Name": "n", "StartDate": "t"}]}
        rds = _client("rds")
        assert to_boto(rds, "describe_db_instances", {"DBInstanceIdentifier": "db"}) == {"DBInstanceIdentifier": "db"}
        assert to_sfn(rds, "describe_db_instances", {"DBInstances": [{"DBInstanceIdentifier": "db"}]}) == {
            "DBInstances": [{"DBInstanceIdentifier": "db"}]}


class TestTimestamps:
    @pytest.mark.parametrize(("text", "expected"), [
        ("2026-12-06T02:12:07Z", datetime(2026, 12, 6, 2, 12, 7, tzinfo=UTC)),
        ("2026-12-06T02:12:07.006Z", datetime(2026, 12, 6, 2, 12, 7, 6000, tzinfo=UTC)),
        ("2026-12-06T02:12:07.006531+00:00", datetime(2026, 12, 6, 2, 12, 7, 6531, tzinfo=UTC)),
        ("yesterday", None),
        ("2026-12-06 02:12:07Z", None),
    ])
    def test_rfc3339_with_fractions_is_a_timestamp(self, text: str, expected: datetime | None) -> None:
        """AWS's millisecond timestamps compare; text that is no RFC 3339 timestamp is none."""
        assert string_to_timestamp(text) == expected


class TestTags:
    def test_tags_of_a_missing_state_machine_are_resource_not_found(self, sandbox: object) -> None:
        """A machine that does not exist: ResourceNotFound (moto answered an empty list); an existing one: its
        tags."""
        from dr.testing.sandbox import InProcessSandbox

        assert isinstance(sandbox, InProcessSandbox)
        sfn = sandbox.clients.client("stepfunctions", "prod", "eu-west-1")
        missing = "arn:aws:states:eu-west-1:111111111111:stateMachine:nope"
        with pytest.raises(sfn.exceptions.ResourceNotFound):
            sfn.list_tags_for_resource(resourceArn=missing)
        made = sfn.create_state_machine(name="tagged", roleArn="arn:aws:iam::111111111111:role/r",
                                        definition='{"StartAt": "a", "States": {"a": {"Type": "Succeed"}}}',
                                        tags=[{"key": "k", "value": "v"}])
        assert sfn.list_tags_for_resource(resourceArn=made["stateMachineArn"])["tags"] == [{"key": "k", "value": "v"}]
