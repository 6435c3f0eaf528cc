"""Plan evaluation's `permissions` check: ask IAM's policy simulator (SimulatePrincipalPolicy) whether an
environment's role is allowed every action, on every resource, that the generated policy says drctl needs."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dr.iam.generate import Scope, grants_for

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
    declare there (with `aws:RequestedRegion` in the context); else the denied actions are named. IAM is
    called in `env`'s account, through `env`'s own credentials (which need iam:SimulatePrincipalPolicy)."""
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
    for g in grants:  # one simulation per grant: its actions on its resources, in its region
        pairs[g.region] += len(g.actions) * len(g.resources)
        denied[g.region] |= _denied(iam, role, list(g.actions), list(g.resources),
                                    {"aws:RequestedRegion": g.region, **dict(g.context)})
    return [_finding(env, role, region, pairs[region], sorted(denied[region])) for region in sorted(pairs)]


def _denied(iam: object, role: str, actions: list[str], resources: list[str], context: dict[str, str]) -> set[str]:
    entries = [{"ContextKeyName": k, "ContextKeyValues": [v], "ContextKeyType": "string"} for k, v in context.items()]
    answer = iam.simulate_principal_policy(  # type: ignore[attr-defined]
        PolicySourceArn=role, ActionNames=actions, ResourceArns=resources, ContextEntries=entries)
    return {str(r["EvalActionName"]) for r in answer["EvaluationResults"] if r["EvalDecision"] != "allowed"}


def _finding(env: str, role: str, region: str, count: int, denied: list[str]) -> Finding:
    if not denied:
        return Finding(CHECK, env, True, f"{role} is allowed all {count} declared action/resource pairs in {region}")
    named = ", ".join(denied[:MAX_NAMED]) + (f" and {len(denied) - MAX_NAMED} more" if len(denied) > MAX_NAMED else "")
    return Finding(CHECK, env, False, f"{role} is denied {named} in {region}: attach the policy of "
                                      f"`drctl iam policy --env {env}` (docs/iam.md)")
