"""Validation of the replica settings that needs the whole topology: regions, engines, KMS key regions, gaps."""

from __future__ import annotations

from collections.abc import Iterator

from dr.config.findings import Finding
from dr.config.model import Database, DbLocation, Engine, Environment
from dr.config.regions import known_regions, region_hint
from dr.config.replica import ReplicaSettings

INSTANCE_ONLY = ("option_group", "storage_type", "allocated_storage", "iops", "storage_throughput", "multi_az")
"""Fields Aurora does not take for a replica cluster (its storage is the cluster volume; no option groups)."""
CLUSTER_ONLY = ("cluster_parameter_group",)


def replica_settings_findings(envs: dict[str, Environment], dbs: dict[int, Database]) -> list[Finding]:
    """Every problem of `environments.*.replica_settings` and `databases[].{primary,replica}.settings`."""
    out: list[Finding] = []
    for name, env in envs.items():
        for region, settings in env.replica_settings.items():
            path = f"environments.{name}.replica_settings.{region}"
            if region not in known_regions():
                out.append(Finding(path, f"region {region!r} does not exist in AWS", region_hint(region)))
            out.extend(_kms_region(f"{path}.kms_key_id", settings, region))
    for i, db in dbs.items():
        for side in ("primary", "replica"):
            loc: DbLocation = getattr(db, side)
            owner = envs.get(loc.env)
            if owner is None:
                continue
            region = loc.region or owner.region
            path = f"databases[{i}].{side}"
            if loc.settings is not None:
                out.extend(_engine_fields(f"{path}.settings", loc.settings, db.engine))
                out.extend(_kms_region(f"{path}.settings.kms_key_id", loc.settings, region))
            out.extend(_gaps(path, db, loc, owner, region))
    return out


def _kms_region(path: str, settings: ReplicaSettings, region: str) -> Iterator[Finding]:
    key = settings.kms_key_id or ""
    if key.startswith("arn:") and key.split(":")[3] != region:
        yield Finding(path, f"KMS key {key} is in {key.split(':')[3]}, but this copy lives in {region}: KMS keys "
                            "are regional and a replica must be encrypted with a key of its own region",
                      f"use a key (or alias) in {region}, e.g. alias/<name> created in {region}")


def _engine_fields(path: str, settings: ReplicaSettings, engine: Engine) -> Iterator[Finding]:
    declared = settings.model_dump(exclude_none=True)
    aurora = engine is not Engine.RDS_INSTANCE
    for field in INSTANCE_ONLY if aurora else CLUSTER_ONLY:
        if field in declared:
            kind = "an Aurora replica cluster" if aurora else "an RDS instance"
            hint = ("Aurora storage is the cluster volume and it has no option groups: remove it" if aurora
                    else "use parameter_group for an instance's DB parameter group")
            yield Finding(f"{path}.{field}", f"{field} does not apply to {kind} ({engine})", hint)


def _gaps(path: str, db: Database, loc: DbLocation, env: Environment, region: str) -> Iterator[Finding]:
    """A copy that re-protect may create must not silently land in the VPC's defaults."""
    if db.engine is Engine.AURORA_GLOBAL:
        return  # a former writer rejoins the global cluster itself: re-protect creates nothing
    merged = loc.settings.over(env.replica_settings.get(region)) if loc.settings else env.replica_settings.get(region)
    where = f"environments.{loc.env}.replica_settings.{region}"
    if merged is None or not merged.vpc_security_group_ids:
        yield Finding(path, f"no vpc_security_group_ids for {loc.id} in {region}: a replica re-created there "
                            "would get the VPC's default security group",
                      f"add vpc_security_group_ids under {where} (or {path}.settings)", "warning")
    if merged is None or not merged.db_subnet_group:
        yield Finding(path, f"no db_subnet_group for {loc.id} in {region}: a replica re-created there would use "
                            "the default subnet group",
                      f"add db_subnet_group under {where} (or {path}.settings)", "warning")
