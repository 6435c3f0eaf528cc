"""Seed what the topology's replica settings name, in each copy's account and region: KMS keys (under their
alias), security groups (in the default VPC), DB subnet groups, DB and DB cluster parameter groups (Aurora MySQL
ones with binary logging on, as cross-Region replicas need) and option groups.

Security group ids are AWS's to choose: the topology's `sg-...` placeholders are created with that name and
rewritten to the real ids (per account and region) in the topology the sandbox hands back.
"""

from __future__ import annotations

from typing import Any

from dr.aws.factory import ClientFactory
from dr.config.model import DbLocation, Engine, Topology
from dr.config.replica import ReplicaSettings
from dr.sandbox._seed_dns import SeedError

FAMILIES = {Engine.RDS_INSTANCE: "postgres16", Engine.AURORA_CLUSTER: "aurora-mysql8.0",
            Engine.AURORA_GLOBAL: "aurora-postgresql15"}
"""Parameter group families of the engines the sandbox creates (dr.sandbox._seed_rds.ENGINES)."""
OPTION_ENGINE = ("postgres", "16")

Where = tuple[str, str]
"""(environment, region)."""


class SettingsSeeder:
    """Creates each named resource once per account and region; `groups` maps sg placeholders to real ids."""

    def __init__(self, topology: Topology, clients: ClientFactory) -> None:
        self.topology = topology
        self.clients = clients
        self.groups: dict[tuple[str, str], dict[str, str]] = {}
        """(account, region) -> placeholder -> real security group id."""
        self._made: set[tuple[str, str, str, str]] = set()

    def seed(self) -> Topology:
        """Create everything; return the topology with real security group ids."""
        # each copy's resources with its own engine's parameter group family first; then whatever a region's
        # defaults name that no copy uses (for an instance engine)
        for db in self.topology.databases:
            for loc in (db.primary, db.replica):
                self._create((loc.env, self.topology.region_of(loc)), self.topology.settings_for(loc), db.engine)
        for env, spec in self.topology.environments.items():
            for region, settings in spec.replica_settings.items():
                self._create((env, region), settings, Engine.RDS_INSTANCE)
        return self._rewritten()

    def _client(self, service: str, where: Where) -> Any:
        return self.clients.client(service, where[0], where[1])

    def _account(self, where: Where) -> tuple[str, str]:
        return self.topology.environments[where[0]].account_id, where[1]

    def _first(self, where: Where, kind: str, name: str) -> bool:
        key = (*self._account(where), kind, name)
        if key in self._made:
            return False
        self._made.add(key)
        return True

    def _create(self, where: Where, settings: ReplicaSettings, engine: Engine) -> None:
        if settings.kms_key_id and self._first(where, "kms", settings.kms_key_id):
            self._kms_alias(where, settings.kms_key_id)
        for group in settings.vpc_security_group_ids or []:
            if self._first(where, "sg", group):
                self.groups.setdefault(self._account(where), {})[group] = self._security_group(where, group)
        if settings.db_subnet_group and self._first(where, "subnets", settings.db_subnet_group):
            self._client("rds", where).create_db_subnet_group(
                DBSubnetGroupName=settings.db_subnet_group, DBSubnetGroupDescription="drctl sandbox",
                SubnetIds=self._default_subnets(where))
        if settings.parameter_group and self._first(where, "pg", settings.parameter_group):
            self._client("rds", where).create_db_parameter_group(
                DBParameterGroupName=settings.parameter_group, DBParameterGroupFamily=FAMILIES[engine],
                Description="drctl sandbox")
        if settings.cluster_parameter_group and self._first(where, "cpg", settings.cluster_parameter_group):
            self._cluster_parameter_group(where, settings.cluster_parameter_group, engine)
        if settings.option_group and self._first(where, "og", settings.option_group):
            self._client("rds", where).create_option_group(
                OptionGroupName=settings.option_group, EngineName=OPTION_ENGINE[0],
                MajorEngineVersion=OPTION_ENGINE[1], OptionGroupDescription="drctl sandbox")

    def _kms_alias(self, where: Where, key_id: str) -> None:
        alias = "alias/" + key_id.split(":alias/", 1)[1] if ":alias/" in key_id else key_id
        if not alias.startswith("alias/"):
            raise SeedError(f"kms_key_id {key_id} in {where[0]}/{where[1]}: the sandbox cannot create a key with a "
                            "given id; name keys by alias (alias/<name>) in sandbox topologies")
        kms = self._client("kms", where)
        key = kms.create_key(Description=f"drctl sandbox {alias}")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=alias, TargetKeyId=key)

    def _default_vpc(self, where: Where) -> str:
        vpcs = self._client("ec2", where).describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])
        return str(vpcs["Vpcs"][0]["VpcId"])

    def _default_subnets(self, where: Where) -> list[str]:
        found = self._client("ec2", where).describe_subnets(
            Filters=[{"Name": "vpc-id", "Values": [self._default_vpc(where)]}])["Subnets"]
        return [s["SubnetId"] for s in found]

    def _security_group(self, where: Where, placeholder: str) -> str:
        created = self._client("ec2", where).create_security_group(
            GroupName=f"drctl-{placeholder}", Description=f"drctl sandbox {placeholder}",
            VpcId=self._default_vpc(where))
        return str(created["GroupId"])

    def _cluster_parameter_group(self, where: Where, name: str, engine: Engine) -> None:
        rds = self._client("rds", where)
        family = FAMILIES[engine] if engine is not Engine.RDS_INSTANCE else FAMILIES[Engine.AURORA_CLUSTER]
        rds.create_db_cluster_parameter_group(DBClusterParameterGroupName=name, DBParameterGroupFamily=family,
                                              Description="drctl sandbox")
        if family.startswith("aurora-mysql"):  # binary logging: what an Aurora MySQL cross-Region replica needs
            rds.modify_db_cluster_parameter_group(DBClusterParameterGroupName=name, Parameters=[
                {"ParameterName": "binlog_format", "ParameterValue": "ROW", "ApplyMethod": "pending-reboot"}])

    def _rewritten(self) -> Topology:
        envs = {
            name: env.model_copy(update={"replica_settings": {
                region: self._real(settings, (name, region)) for region, settings in env.replica_settings.items()}})
            for name, env in self.topology.environments.items()
        }
        databases = [db.model_copy(update={side: self._loc(getattr(db, side)) for side in ("primary", "replica")})
                     for db in self.topology.databases]
        return self.topology.model_copy(update={"environments": envs, "databases": databases})

    def _loc(self, loc: DbLocation) -> DbLocation:
        if loc.settings is None:
            return loc
        return loc.model_copy(update={"settings": self._real(loc.settings, (loc.env, self.topology.region_of(loc)))})

    def _real(self, settings: ReplicaSettings, where: Where) -> ReplicaSettings:
        if not settings.vpc_security_group_ids:
            return settings
        mapping = self.groups.get(self._account(where), {})
        return settings.model_copy(update={"vpc_security_group_ids": [
            mapping.get(g, g) for g in settings.vpc_security_group_ids]})
