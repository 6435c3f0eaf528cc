"""Plan evaluation's `permissions` check: ask IAM's policy simulator (SimulatePrincipalPolicy, IAM API Reference)
whether an environment's role is allowed every action, on every resource, that the generated policy says drctl
needs."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dr.iam.generate import Scope, grants_for
from dr.iam.policy import permissions_policy

if TYPE_CHECKING:
    from dr.aws.factory import ClientFactory
    from dr.config.model import Topology

CHECK = "permissions"
MAX_NAMED = 10
"""Denied actions named in a finding's reason (the rest are counted)."""


@dataclass(frozen=True)
class Finding:
    check: str
    env: str
    ok: bool
    reason: str


def simulate(topology: Topology, clients: ClientFactory, env: str, scope: Scope = Scope.ALL) -> list[Finding]:
    """One finding per region the role is called in: ok when IAM allows every (action, resource) the steps
    declare there (with the region as `aws:RequestedRegion`); else the denied actions are named. IAM is called
    in `env`'s account with `env`'s own credentials (the generated policy lets the role simulate itself).

    One simulation per statement of the generated policy: a statement's actions and resources are exactly pairs
    drctl needs (actions share a statement only when they need the same resources), so asking for their cross
    product asks for nothing more."""
    role = topology.environments[env].role_arn
    grants = grants_for(topology, env, scope)
    if not grants:
        return [Finding(CHECK, env, True, f"no step of '{scope}' calls AWS as {env}")]
    if role is None:
        return [Finding(CHECK, env, True, f"{env} has no role_arn: drctl uses the caller's own credentials there, "
                                          "which IAM cannot simulate by role")]
    iam = clients.client("iam", env, "us-east-1")
    pairs: dict[str, int] = defaultdict(int)
    denied: dict[str, set[str]] = defaultdict(set)
    for statement in permissions_policy(grants)["Statement"]:
        context: dict[str, str] = statement["Condition"]["StringEquals"]
        region = context["aws:RequestedRegion"]
        pairs[region] += len(statement["Action"]) * len(statement["Resource"])
        denied[region] |= _denied(iam, role, statement["Action"], statement["Resource"], context)
    return [_finding(env, role, region, pairs[region], sorted(denied[region])) for region in sorted(pairs)]


def _denied(iam: Any, role: str, actions: list[str], resources: list[str], context: dict[str, str]) -> set[str]:
    entries = [{"ContextKeyName": k, "ContextKeyValues": [v], "ContextKeyType": "string"} for k, v in context.items()]
    pages = iam.get_paginator("simulate_principal_policy").paginate(
        PolicySourceArn=role, ActionNames=actions, ResourceArns=resources, ContextEntries=entries)
    return {str(r["EvalActionName"]) for page in pages for r in page["EvaluationResults"]
            if r["EvalDecision"] != "allowed"}


def _finding(env: str, role: str, region: str, count: int, denied: list[str]) -> Finding:
    if not denied:
        return Finding(CHECK, env, True, f"{role} is allowed all {count} declared action/resource pairs in {region}")
    named = ", ".join(denied[:MAX_NAMED]) + (f" and {len(denied) - MAX_NAMED} more" if len(denied) > MAX_NAMED else "")
    return Finding(CHECK, env, False, f"{role} is denied {named} in {region}: attach the policies of "
                                      f"`drctl iam policy --env {env}` (docs/iam.md)")
