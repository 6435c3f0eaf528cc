"""Plan check `permissions`: each environment's role may make every call the pair's runbooks make there, asked
of IAM's policy simulator (iam:SimulatePrincipalPolicy) with the actions and resources of the generated
least-privilege policy (`drctl iam policy`, dr.iam)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from dr.evaluate.model import EvaluationContext, Finding

if TYPE_CHECKING:
    from dr.config.model import Topology


class PermissionsCheck:
    """One finding per environment and region its role is called in; a missing role fails with the fix."""

    name = "permissions"

    def __call__(self, ctx: EvaluationContext) -> list[Finding]:
        from dr.iam.simulate import simulate

        out: list[Finding] = []
        for env in _envs(ctx):
            try:
                found = simulate(ctx.topology, ctx.clients, env)
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") != "NoSuchEntity":
                    raise
                role = ctx.topology.environments[env].role_arn
                out.append(Finding(f"{env}/role", False, (
                    f"role {role} does not exist: create it with the policies of `drctl iam policy --env {env}` "
                    "(docs/iam.md)")))
                continue
            out.extend(Finding(f"{f.env}/{_region(f.reason)}", f.ok, f.reason) for f in found)
        return out


def _envs(ctx: EvaluationContext) -> list[str]:
    return envs_of(ctx.topology, ctx.source, ctx.target)


def envs_of(topology: Topology, source: str, target: str) -> list[str]:
    """The pair's environments and every one holding a database copy of it (RDS copies live in the source's
    account, in the DR region)."""
    envs = {source, target}
    for db in topology.databases:
        envs |= {db.primary.env, db.replica.env}
    return [name for name in topology.environments if name in envs]


def _region(reason: str) -> str:
    """The region a simulate finding speaks of (its reasons say `in REGION`), else `all`."""
    words = reason.split()
    return next((words[i + 1].rstrip(":,;") for i, w in enumerate(words[:-1]) if w == "in"), "all")
