"""IAM `SimulatePrincipalPolicy` for roles, which moto does not implement: each action on each resource evaluated
against the role's inline and attached managed policies (default versions) with drctl's evaluator
(dr.iam.evaluate), answering `allowed`, `explicitDeny` or `implicitDeny` per pair.

AWS: IAM API Reference, "SimulatePrincipalPolicy"
(https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html): PolicySourceArn names the
principal, ActionNames and ResourceArns the requests (default resource `*`), ContextEntries the condition keys;
each EvaluationResult has EvalActionName, EvalResourceName and EvalDecision. Identity policies only here (no
permissions boundary, SCP or resource policy), as drctl's generated policies are identity policies.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote
from xml.sax.saxutils import escape

from dr.sandbox.extensions import _guard

_XMLNS = "https://iam.amazonaws.com/doc/2010-05-08/"


def install() -> None:
    from moto.iam.responses import IamResponse

    _guard.add(IamResponse, "simulate_principal_policy", _simulate_principal_policy)


def _members(query: dict[str, list[str]], prefix: str) -> list[str]:
    keys = sorted((k for k in query if k.startswith(prefix + ".member.")), key=lambda k: int(k.rsplit(".", 1)[1]))
    return [query[k][0] for k in keys]


def _context(query: dict[str, list[str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    n = 1
    while f"ContextEntries.member.{n}.ContextKeyName" in query:
        name = query[f"ContextEntries.member.{n}.ContextKeyName"][0]
        values = _members(query, f"ContextEntries.member.{n}.ContextKeyValues")
        if values:
            out[name] = values[0]
        n += 1
    return out


def role_policies(role: Any) -> list[dict[str, Any]]:
    """The role's inline policies and the default version of each attached managed policy."""
    documents = [json.loads(unquote(str(doc))) for doc in role.policies.values()]
    for policy in role.managed_policies.values():
        version = next(v for v in policy.versions if v.version_id == policy.default_version_id)
        documents.append(json.loads(unquote(str(version.document))))
    return documents


def _simulate_principal_policy(self: Any) -> str:
    from dr.iam.evaluate import Request, evaluate

    query = self.querystring
    role = self.backend.get_role_by_arn(query["PolicySourceArn"][0])
    documents = role_policies(role)
    context = _context(query)
    members = []
    for action in _members(query, "ActionNames"):
        for resource in _members(query, "ResourceArns") or ["*"]:
            decision = evaluate(documents, Request(action, resource, context))
            members.append(f"<member><EvalActionName>{escape(action)}</EvalActionName><EvalResourceName>"
                           f"{escape(resource)}</EvalResourceName><EvalDecision>{decision.value}</EvalDecision>"
                           "<MatchedStatements/><MissingContextValues/></member>")
    return (f'<SimulatePrincipalPolicyResponse xmlns="{_XMLNS}"><SimulatePrincipalPolicyResult>'
            f"<IsTruncated>false</IsTruncated><EvaluationResults>{''.join(members)}</EvaluationResults>"
            "</SimulatePrincipalPolicyResult><ResponseMetadata><RequestId>drctl-sandbox</RequestId>"
            "</ResponseMetadata></SimulatePrincipalPolicyResponse>")
