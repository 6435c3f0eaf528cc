"""`dr.iam.simulate` through IAM's SimulatePrincipalPolicy (the sandbox's extension on moto)."""

from __future__ import annotations

import json

import pytest

from dr.aws.factory import ClientFactory
from dr.config import load
from dr.iam.generate import Scope
from dr.iam.policy import policies
from dr.iam.simulate import simulate
from tests.conftest import EXAMPLE

pytestmark = pytest.mark.usefixtures("aws")


@pytest.fixture(autouse=True)
def _extensions() -> None:
    from dr.sandbox.extensions import install

    install()


def _role_with(clients: ClientFactory, env: str, document: dict[str, object]) -> None:
    iam = clients.client("iam", env, "us-east-1")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                     "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName="drctl", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName="drctl", PolicyName="drctl", PolicyDocument=json.dumps(document))


class TestSimulate:
    def test_the_generated_policy_attached_gives_ok_findings(self) -> None:
        """A role holding its generated policy passes the permissions check in every region it is called in."""
        topology = load(EXAMPLE)
        clients = ClientFactory(topology, run_id="simulate")
        _role_with(clients, "qa", policies(topology, "qa", Scope.ALL).permissions)
        findings = simulate(topology, clients, "qa")
        assert findings
        assert all(f.ok and f.check == "permissions" and f.env == "qa" for f in findings)

    def test_a_missing_action_is_named_as_denied(self) -> None:
        """Without the EKS statement the finding fails and names eks:DescribeCluster."""
        topology = load(EXAMPLE)
        clients = ClientFactory(topology, run_id="simulate")
        document = policies(topology, "qa", Scope.ALL).permissions
        statements = [s for s in document["Statement"] if "eks:DescribeCluster" not in s["Action"]]
        _role_with(clients, "qa", {**document, "Statement": statements})
        failed = [f for f in simulate(topology, clients, "qa") if not f.ok]
        assert len(failed) == 1
        assert "eks:DescribeCluster" in failed[0].reason
        assert "ecs:DescribeServices" not in failed[0].reason

    def test_an_explicit_deny_is_named(self) -> None:
        """A Deny statement wins over the generated Allow (explicitDeny counts as denied)."""
        topology = load(EXAMPLE)
        clients = ClientFactory(topology, run_id="simulate")
        document = policies(topology, "qa", Scope.ALL).permissions
        deny = {"Effect": "Deny", "Action": "autoscaling:DescribeAutoScalingGroups", "Resource": "*"}
        _role_with(clients, "qa", {**document, "Statement": [*document["Statement"], deny]})
        failed = [f for f in simulate(topology, clients, "qa") if not f.ok]
        assert [("autoscaling:DescribeAutoScalingGroups" in f.reason) for f in failed] == [True]


class TestSimulatePrincipalPolicyExtension:
    def test_inline_and_managed_policies_give_each_decision(self) -> None:
        """allowed (inline Allow), explicitDeny (a managed policy's Deny wins), implicitDeny (nothing applies);
        ContextEntries feed conditions."""
        import boto3

        iam = boto3.client("iam", region_name="us-east-1")
        iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
        allow = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": ["rds:PromoteReadReplica", "rds:DeleteDBInstance"],
            "Resource": "arn:aws:rds:eu-west-1:123456789012:db:*",
            "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}}]}
        iam.put_role_policy(RoleName="r", PolicyName="allow", PolicyDocument=json.dumps(allow))
        deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "rds:Delete*", "Resource": "*"}]}
        arn = iam.create_policy(PolicyName="deny", PolicyDocument=json.dumps(deny))["Policy"]["Arn"]
        iam.attach_role_policy(RoleName="r", PolicyArn=arn)
        role = iam.get_role(RoleName="r")["Role"]["Arn"]

        def decisions(region: str) -> dict[tuple[str, str], str]:
            answer = iam.simulate_principal_policy(
                PolicySourceArn=role, ActionNames=["rds:PromoteReadReplica", "rds:DeleteDBInstance"],
                ResourceArns=["arn:aws:rds:eu-west-1:123456789012:db:orders",
                              "arn:aws:rds:eu-west-1:123456789012:cluster:x"],
                ContextEntries=[{"ContextKeyName": "aws:RequestedRegion", "ContextKeyValues": [region],
                                 "ContextKeyType": "string"}])
            return {(r["EvalActionName"], r["EvalResourceName"].rsplit(":", 2)[1]): r["EvalDecision"]
                    for r in answer["EvaluationResults"]}

        assert decisions("eu-west-1") == {
            ("rds:PromoteReadReplica", "db"): "allowed", ("rds:PromoteReadReplica", "cluster"): "implicitDeny",
            ("rds:DeleteDBInstance", "db"): "explicitDeny", ("rds:DeleteDBInstance", "cluster"): "explicitDeny"}
        assert decisions("us-east-1")[("rds:PromoteReadReplica", "db")] == "implicitDeny"
