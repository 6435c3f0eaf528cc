"""Render Grants as IAM policy documents: the role's permissions, its trust policy, and the caller's right to
assume it. Statements are grouped by region (an `aws:RequestedRegion` condition on each) and by identical
resource lists; output is deterministic (sorted), so docs/iam.md can be checked against it."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dr.config.model import Topology
from dr.iam.generate import Scope, grants_for
from dr.iam.grants import Grant

VERSION = "2012-10-17"
MANAGED_POLICY_MAX_CHARS = 6144
"""IAM quota: a customer managed policy's JSON, whitespace not counted (IAM User Guide, "IAM and AWS STS quotas")."""
SESSION_NAME_PATTERN = "drctl-*"
"""drctl names every session `drctl-<user>-<run_id>` (dr.aws.factory.session_name)."""

Document = dict[str, Any]


@dataclass(frozen=True)
class EnvPolicies:
    env: str
    account_id: str
    role_arn: str | None
    permissions: Document
    trust: Document | None
    caller: Document | None
    warnings: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {"env": self.env, "account_id": self.account_id, "role_arn": self.role_arn,
                "permissions_policy": self.permissions, "trust_policy": self.trust,
                "caller_policy": self.caller, "warnings": list(self.warnings)}


def permissions_policy(grants: Iterable[Grant]) -> Document:
    """One statement per (region, extra condition, resource list), its actions merged."""
    by_key: dict[tuple[str, tuple[tuple[str, str], ...]], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for g in grants:
        for action in g.actions:
            by_key[(g.region, g.context)][action].update(g.resources)
    statements: list[Document] = []
    for (region, context), actions in sorted(by_key.items()):
        by_resources: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for action, targets in actions.items():
            by_resources[tuple(sorted(targets))].append(action)
        for n, (resources, names) in enumerate(sorted(by_resources.items(), key=lambda i: sorted(i[1])), start=1):
            condition: dict[str, str] = {"aws:RequestedRegion": region, **dict(context)}
            statements.append({"Sid": _sid(names, region, n), "Effect": "Allow", "Action": sorted(names),
                               "Resource": list(resources), "Condition": {"StringEquals": condition}})
    return {"Version": VERSION, "Statement": statements}


def _sid(actions: list[str], region: str, n: int) -> str:
    services = sorted({a.split(":", 1)[0] for a in actions})
    return re.sub(r"[^A-Za-z0-9]", "", "".join(s.title() for s in services) + region.title()) + str(n)


def trust_policy(principal: str) -> Document:
    """Who may assume the role: `principal` (an account root or a role/user ARN), with drctl's session names."""
    return {"Version": VERSION, "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole",
        "Condition": {"StringLike": {"sts:RoleSessionName": SESSION_NAME_PATTERN}}}]}


def caller_policy(role_arn: str, regions: Iterable[str]) -> Document:
    """What the identity running drctl needs: assume the role, through STS in each region it calls (regional STS
    endpoints, dr.aws.factory)."""
    return {"Version": VERSION, "Statement": [{
        "Sid": "AssumeDrctlRole", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn,
        "Condition": {"StringEquals": {"aws:RequestedRegion": sorted(set(regions))}}}]}


def policies(topology: Topology, env: str, scope: Scope, principal: str | None = None) -> EnvPolicies:
    grants = grants_for(topology, env, scope)
    environment = topology.environments[env]
    document = permissions_policy(grants)
    warnings: list[str] = []
    size = len(json.dumps(document, separators=(",", ":")))
    if size > MANAGED_POLICY_MAX_CHARS:
        warnings.append(f"the permissions policy is {size} characters, over IAM's {MANAGED_POLICY_MAX_CHARS} for a "
                        "managed policy: attach it as an inline policy (10,240 per role) or split its statements")
    if not grants:
        warnings.append(f"no step of '{scope}' calls AWS with {env}'s credentials: the role needs nothing for it")
    role = environment.role_arn
    trust = trust_policy(principal or f"arn:aws:iam::{environment.account_id}:root") if role else None
    caller = caller_policy(role, {g.region for g in grants}) if role and grants else None
    return EnvPolicies(env, environment.account_id, role, document, trust, caller, tuple(warnings))
