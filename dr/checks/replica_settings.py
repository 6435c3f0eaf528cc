"""`replica-settings`: what the topology declares for a database copy exists in that copy's account and region.

Re-protect builds a replica there from these settings only, so a missing group or key would fail in the middle
of a failback (or, for a KMS key, an encrypted copy with none declared could not be replicated at all). Each
distinct resource is described once per account and region: DescribeDBSubnetGroups, DescribeDBParameterGroups,
DescribeDBClusterParameterGroups, DescribeOptionGroups, kms:DescribeKey, ec2:DescribeSecurityGroups.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dr.aws.errors import describe, is_not_found
from dr.aws.rds import DbView
from dr.checks.model import CheckKind, CheckResult, failed, passed
from dr.checks.rds import Member
from dr.config.model import Engine, Topology
from dr.config.replica import ReplicaSettings

if TYPE_CHECKING:
    from dr.aws.factory import ClientFactory

Resource = tuple[str, str, str, str]
"""(environment, region, kind, name)."""

_DESCRIBE: dict[str, tuple[str, Callable[[Any, str], object]]] = {
    "KMS key": ("kms", lambda c, n: c.describe_key(KeyId=n)),
    "security group": ("ec2", lambda c, n: c.describe_security_groups(GroupIds=[n])),
    "DB subnet group": ("rds", lambda c, n: c.describe_db_subnet_groups(DBSubnetGroupName=n)),
    "DB parameter group": ("rds", lambda c, n: c.describe_db_parameter_groups(DBParameterGroupName=n)),
    "DB cluster parameter group": ("rds", lambda c, n: c.describe_db_cluster_parameter_groups(
        DBClusterParameterGroupName=n)),
    "option group": ("rds", lambda c, n: c.describe_option_groups(OptionGroupName=n)),
}


def declared(settings: ReplicaSettings, engine: Engine) -> list[tuple[str, str]]:
    """(kind, name) of every resource the settings name that this engine uses."""
    out = [("KMS key", settings.kms_key_id), ("DB subnet group", settings.db_subnet_group),
           ("DB parameter group", settings.parameter_group)]
    out += [("security group", g) for g in settings.vpc_security_group_ids or []]
    if engine is Engine.RDS_INSTANCE:
        out.append(("option group", settings.option_group))
    else:
        out.append(("DB cluster parameter group", settings.cluster_parameter_group))
    return [(kind, name) for kind, name in out if name]


def settings_checks(topology: Topology, clients: ClientFactory, env: str,
                    read: list[tuple[Member, DbView | BaseException]]) -> list[CheckResult]:
    """One `replica-settings` result per database member of `env` (from the views readiness already read)."""
    seen: dict[Resource, str | None] = {}
    results = []
    for member, view in read:
        loc = member.loc
        region = topology.region_of(loc)
        settings = topology.settings_for(loc)
        problems = [p for kind, name in declared(settings, member.db.engine)
                    if (p := _exists(seen, clients, (loc.env, region, kind, name))) is not None]
        if isinstance(view, BaseException):
            problems.append(f"could not describe {loc.id} to see whether it is encrypted: {describe(view)}")
        elif (view.encrypted and not settings.kms_key_id
                and member.db.engine is not Engine.AURORA_GLOBAL):
            index = topology.databases.index(member.db)
            side = "primary" if loc == member.db.primary else "replica"
            problems.append(f"{loc.id} is encrypted but no kms_key_id is declared for {region}: a replica re-created "
                            f"there would be refused; add kms_key_id under environments.{loc.env}.replica_settings."
                            f"{region} or databases[{index}].{side}.settings")
        where = f"{loc.env}/{region}"
        if problems:
            results.append(failed(env, CheckKind.REPLICA_SETTINGS, loc.id, "; ".join(problems)))
        else:
            count = len(declared(settings, member.db.engine))
            results.append(passed(env, CheckKind.REPLICA_SETTINGS, loc.id,
                                  f"{count} declared resources exist in {where}" if count
                                  else f"no resources declared for {where} (AWS defaults)"))
    return results


def _exists(seen: dict[Resource, str | None], clients: ClientFactory, resource: Resource) -> str | None:
    """None when the resource exists, else why not (each resource described once per readiness run)."""
    if resource not in seen:
        env, region, kind, name = resource
        service, call = _DESCRIBE[kind]
        try:
            call(clients.client(service, env, region), name)
            seen[resource] = None
        except Exception as exc:
            seen[resource] = (f"{kind} {name} not found in {env}/{region}" if _missing(exc)
                              else f"could not describe {kind} {name} in {env}/{region}: {describe(exc)}")
    return seen[resource]


def _missing(exc: BaseException) -> bool:
    from dr.aws.errors import error_code

    return is_not_found(exc) or error_code(exc) in ("NotFoundException", "InvalidGroupId.Malformed")
