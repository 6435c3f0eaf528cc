"""Seed each environment's drctl role as docs/iam.md attaches it: the trust policy, and the generated
least-privilege permissions as managed policies (`drctl iam policy`). With them the sandbox answers
iam:SimulatePrincipalPolicy (extension `iam_simulate`) for the role, so `drctl plan evaluate`'s `permissions`
check means the same in the sandbox as on AWS. A role that already exists is left as it is."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dr.aws.factory import ClientFactory
    from dr.config.model import Topology


def seed_roles(topology: Topology, clients: ClientFactory) -> None:
    """Create every environment's role (from its `role_arn`) with the policies drctl generates for it."""
    from dr.iam.generate import Scope
    from dr.iam.policy import policies

    for name, env in topology.environments.items():
        if env.role_arn is None:
            continue
        generated = policies(topology, name, Scope.ALL)
        iam = clients.client("iam", name, "us-east-1")
        path, _, role = env.role_arn.split(":role", 1)[1].rpartition("/")
        if role in {r["RoleName"] for r in iam.list_roles()["Roles"]}:
            continue
        iam.create_role(RoleName=role, Path=f"{path}/" if path else "/",
                        AssumeRolePolicyDocument=json.dumps(generated.trust))
        for i, document in enumerate(generated.managed, start=1):
            arn = iam.create_policy(PolicyName=f"{role}-{i}", PolicyDocument=json.dumps(document))["Policy"]["Arn"]
            iam.attach_role_policy(RoleName=role, PolicyArn=arn)
