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
MANAGED_POLICIES_PER_ROLE = 10
"""IAM quota: managed policies attached to a role (default; adjustable to 20)."""
SESSION_NAME_PATTERN = "drctl-*"
"""drctl names every session `drctl-<user>-<run_id>` (dr.aws.factory.session_name)."""

Document = dict[str, Any]


@dataclass(frozen=True)
class EnvPolicies:
    env: str
    account_id: str
    role_arn: str | None
    permissions: Document
    managed: list[Document]
    """`permissions` cut into managed policies of at most MANAGED_POLICY_MAX_CHARS each."""
    trust: Document | None
    caller: Document | None
    warnings: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {"env": self.env, "account_id": self.account_id, "role_arn": self.role_arn,
                "permissions_policy": self.permissions, "managed_policies": self.managed, "trust_policy": self.trust,
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


def size(document: Document) -> int:
    """Characters IAM counts against its quotas (whitespace not counted: the compact JSON)."""
    return len(json.dumps(document, separators=(",", ":")))


def split(document: Document, limit: int = MANAGED_POLICY_MAX_CHARS) -> list[Document]:
    """The statements of `document` packed, in order, into as few documents of at most `limit` characters as fit
    (a single statement over the limit gets a document of its own and a warning from `policies`)."""
    out: list[Document] = []
    current: list[Document] = []
    for statement in document["Statement"]:
        if current and size({"Version": VERSION, "Statement": [*current, statement]}) > limit:
            out.append({"Version": VERSION, "Statement": current})
            current = []
        current.append(statement)
    if current:
        out.append({"Version": VERSION, "Statement": current})
    return out


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
    managed = split(document)
    if any(size(part) > MANAGED_POLICY_MAX_CHARS for part in managed):
        warnings.append(f"a statement alone is over IAM's {MANAGED_POLICY_MAX_CHARS} characters for a managed policy: "
                        "attach that part as an inline policy (10,240 per role)")
    if len(managed) > MANAGED_POLICIES_PER_ROLE:
        warnings.append(f"{len(managed)} managed policies: more than the {MANAGED_POLICIES_PER_ROLE} IAM attaches "
                        "to a role by default (a quota you can raise to 20)")
    if not grants:
        warnings.append(f"no step of '{scope}' calls AWS with {env}'s credentials: the role needs nothing for it")
    role = environment.role_arn
    trust = trust_policy(principal or f"arn:aws:iam::{environment.account_id}:root") if role else None
    caller = caller_policy(role, {g.region for g in grants}) if role and grants else None
    return EnvPolicies(env, environment.account_id, role, document, managed, trust, caller, tuple(warnings))
