"""Create or update, idempotently, the state machine of a runbook and direction and its execution role.

The role may do exactly the calls the definition's Tasks make (actions read from the definition), on the
resources of the plan where the action allows it; it trusts only states.amazonaws.com. `--dry-run` reads what is
deployed and shows the difference, changing nothing.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Any

from dr.aws.factory import ClientFactory
from dr.sfn import naming
from dr.sfn.generate import Definition
from dr.sfn.remote import function_name
from dr.sfn.remote.calls import LAMBDA_INVOKE
from dr.sfn.remote.deploy import Caller, caller_of
from dr.sfn.states_lock import listed_machines

TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}
POLICY_NAME = "drctl-state-machine"
IAM_PREFIX = {"sfn": "states"}
"""SDK-integration service names whose IAM action prefix differs (Step Functions' actions are `states:*`)."""


@dataclass
class DeployResult:
    name: str
    arn: str
    action: str
    """created | updated | unchanged | would-create | would-update"""
    diff: str
    definition: str
    caller: str = "none"
    """The caller function: none (the machine calls no other region) | create | update | unchanged (dry run) |
    created | updated | unchanged."""


def actions_of(asl_doc: Any) -> set[str]:
    """`rds:PromoteReadReplica` ... for every SDK-integration Task anywhere in the definition;
    `lambda:InvokeFunction` for the caller's Tasks."""
    found: set[str] = set()
    if isinstance(asl_doc, dict):
        resource = asl_doc.get("Resource")
        if resource == LAMBDA_INVOKE:
            found.add("lambda:InvokeFunction")
        if isinstance(resource, str) and resource.startswith("arn:aws:states:::aws-sdk:"):
            service, action = resource.removeprefix("arn:aws:states:::aws-sdk:").split(":", 1)
            found.add(f"{IAM_PREFIX.get(service, service)}:{action[0].upper()}{action[1:]}")
        if "Credentials" in asl_doc:
            found.add("sts:AssumeRole")
        for value in asl_doc.values():
            found |= actions_of(value)
    elif isinstance(asl_doc, list):
        for value in asl_doc:
            found |= actions_of(value)
    return found


def role_policy(defn: Definition) -> dict[str, Any]:
    """Least privilege from the definition: RDS calls on the plan's copies, Route53 on its zones and changes,
    CloudWatch reads (no resource-level permissions exist for GetMetricData), ListExecutions on the pair's machines
    (the run lock, dr/sfn/states_lock.py), StartExecution on its own machine only (a failback part starting the
    next), role assumption where a Task acts in another account."""
    plan = defn.asl["States"]["plan"]["Result"]
    rds_arns = [f"arn:aws:rds:{defn.region}:{defn.account}:{'db' if i['kind'] == 'instance' else 'cluster'}:{i['id']}"
                for i in plan["databases"]]
    rds_arns += [f"arn:aws:rds::{defn.account}:global-cluster:{i['global']}"
                 for i in plan["databases"] if "global" in i]
    zones = [f"arn:aws:route53:::hostedzone/{z['zone']}" for z in plan["zones"]]
    by_service: dict[str, list[str]] = {}
    for action in sorted(actions_of(defn.asl)):
        by_service.setdefault(action.split(":")[0], []).append(action)
    rds_arns += sorted({r for g in defn.grants if g.region == defn.region for r in g.resources
                        if r.startswith("arn:aws:rds:")} - set(rds_arns))  # what failback's steps declare
    if "sfn" in by_service:  # a failback part starts the next one: IAM names Step Functions `states`
        by_service["states"] = [a.replace("sfn:", "states:", 1) for a in by_service.pop("sfn")]
    resources = {"rds": rds_arns or ["*"], "route53": [*zones, "arn:aws:route53:::change/*"],
                 "cloudwatch": ["*"], "states": listed_machines(defn.asl) or ["*"],
                 "sts": sorted({z["role"] for z in plan["zones"] if z["role"]}) or ["*"],
                 "lambda": [caller_arn(defn), f"{caller_arn(defn)}:*"]}
    started = [a for a in by_service.get("states", []) if a != "states:ListExecutions"]
    if started:  # a failback part starts only the next part of its own machine; the lock lists the pair's
        by_service["states"] = [a for a in by_service["states"] if a not in started]
        by_service["states:start"] = started
        resources["states:start"] = [naming.machine_arn(defn)]
    statements = [{"Effect": "Allow", "Action": acts, "Resource": resources.get(service, ["*"])}
                  for service, acts in sorted(by_service.items()) if acts]
    kms = {(g.actions, g.resources) for g in defn.grants if g.region == defn.region and g.actions[0].startswith("kms:")}
    statements += [{"Effect": "Allow", "Action": list(acts), "Resource": list(res)} for acts, res in sorted(kms)]
    return {"Version": "2012-10-17", "Statement": statements}


def caller_arn(defn: Definition) -> str:
    """The ARN of the machine's own caller function (the only function its role may invoke)."""
    name = function_name(defn.runbook, defn.source, defn.target)
    return f"arn:aws:lambda:{defn.region}:{defn.account}:function:{name}"


def caller(defn: Definition) -> Caller | None:
    return caller_of(defn.asl, runbook=defn.runbook, source=defn.source, target=defn.target, account=defn.account,
                     region=defn.region, grants=defn.grants)


def _env_of(clients: ClientFactory, account: str) -> str:
    for name, env in clients.topology.environments.items():
        if env.account_id == account:
            return name
    raise KeyError(account)


def deployed_definition(clients: ClientFactory, defn: Definition) -> str | None:
    """The definition deployed under this runbook and direction's name, canonical JSON; None when none is."""
    sfn = clients.client("stepfunctions", _env_of(clients, defn.account), defn.region)
    try:
        found = sfn.describe_state_machine(stateMachineArn=naming.machine_arn(defn))
    except sfn.exceptions.StateMachineDoesNotExist:
        return None
    return json.dumps(json.loads(found["definition"]), indent=2, sort_keys=True)


def diff(deployed: str | None, wanted: str, name: str) -> str:
    before = (deployed or "").splitlines(keepends=True)
    return "".join(difflib.unified_diff(before, wanted.splitlines(keepends=True),
                                        fromfile=f"{name} (deployed)" if deployed else "(not deployed)",
                                        tofile=f"{name} (generated)"))


def problems(defn: Definition) -> list[str]:
    """What stops `defn` from being deployed: structure, the API's request model, Step Functions' quotas."""
    from dr.sfn.quotas import check
    from dr.sfn.validate import request_problems, structural_problems

    role = f"arn:aws:iam::{defn.account}:role/{naming.role_name(defn.runbook, defn.source, defn.target)}"
    return [*structural_problems(defn.asl),
            *request_problems(naming.machine_name(defn.runbook, defn.source, defn.target), defn.text(), role),
            *check(defn.asl, defn.text()).problems()]


def deploy(clients: ClientFactory, defn: Definition, topology_sha: str, *, dry_run: bool = False) -> DeployResult:
    """Create or update the machine (and its role) so that it runs `defn`; nothing when already equal. Refuses
    (exit 2) a definition that fails `problems`."""
    from dr.errors import UsageError
    from dr.sfn.remote import deploy as remote_deploy

    name = naming.machine_name(defn.runbook, defn.source, defn.target)
    found = problems(defn)
    if found:
        raise UsageError(f"the generated definition of {name} cannot be deployed: " + "; ".join(found[:10]))
    arn = naming.machine_arn(defn)
    wanted = defn.text()
    current = deployed_definition(clients, defn)
    change = diff(current, wanted, name)
    env = _env_of(clients, defn.account)
    function = caller(defn)
    if dry_run:
        action = "would-create" if current is None else ("would-update" if change else "unchanged")
        how = remote_deploy.plan(clients.client("lambda", env, defn.region), function) if function else "none"
        return DeployResult(name, arn, action, change, wanted, how)
    how = "none"
    if function is not None:  # before the machine: its first execution may invoke it
        how = remote_deploy.ensure(clients.client("iam", env, defn.region),
                                   clients.client("lambda", env, defn.region), function)
    role_arn = ensure_role(clients.client("iam", env, defn.region), defn)
    sfn = clients.client("stepfunctions", env, defn.region)
    tags = naming.tags(defn, topology_sha)
    if current is None:
        sfn.create_state_machine(name=name, definition=wanted, roleArn=role_arn, type="STANDARD", tags=tags)
        return DeployResult(name, arn, "created", change, wanted, how)
    if change:
        sfn.update_state_machine(stateMachineArn=arn, definition=wanted, roleArn=role_arn)
    sfn.tag_resource(resourceArn=arn, tags=tags)
    return DeployResult(name, arn, "updated" if change else "unchanged", change, wanted, how)


def ensure_role(iam: Any, defn: Definition) -> str:
    """The execution role, created when missing; its inline policy set to what the definition needs."""
    name = naming.role_name(defn.runbook, defn.source, defn.target)
    try:
        arn = str(iam.get_role(RoleName=name)["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        arn = str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST),
                                  Description="drctl: runs the generated DR state machine")["Role"]["Arn"])
    iam.put_role_policy(RoleName=name, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(role_policy(defn)))
    return arn
