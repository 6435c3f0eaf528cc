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
