"""Validate a raw topology document: every problem at once, each with its path and a fix hint."""

from __future__ import annotations

from collections import Counter
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from dr.config.arc_checks import arc_findings
from dr.config.backups import DrBackup, DrBackupSource
from dr.config.durations import format_duration
from dr.config.findings import Finding, name_list
from dr.config.model import Database, DnsRecord, DnsStrategy, Engine, Environment, Objectives, Readiness, Topology
from dr.config.promotion import engine_budgets
from dr.config.regions import known_regions, region_hint
from dr.config.replica_checks import replica_settings_findings
from dr.config.structure import findings_from

M = TypeVar("M", bound=BaseModel)


def validate(raw: object) -> tuple[Topology | None, list[Finding]]:
    """Return the model (None when any error) and every finding, errors and warnings."""
    if not isinstance(raw, dict):
        return None, [Finding("", "the file must be a YAML mapping with version, environments, ...",
                              "start from the example: drctl sandbox up writes one")]
    findings: list[Finding] = []
    model: Topology | None = None
    try:
        model = Topology.model_validate(raw)
    except ValidationError as err:
        findings.extend(findings_from(err, Topology))
    findings.extend(_Semantics(_Partial.of(raw)).run())
    errors = [f for f in findings if f.severity == "error"]
    return (None if errors else model), _dedupe(findings)


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str]] = set()
    out = []
    for f in findings:
        if (f.path, f.message) not in seen:
            seen.add((f.path, f.message))
            out.append(f)
    return out


def _parse_each(model: type[M], items: dict[str, Any] | list[Any]) -> dict[Any, M]:
    """Parse entries one by one so that one bad entry does not hide problems in the others."""
    pairs = items.items() if isinstance(items, dict) else enumerate(items)
    out: dict[Any, M] = {}
    for key, value in pairs:
        try:
            out[key] = TypeAdapter(model).validate_python(value)
        except ValidationError:
            continue
    return out


class _Partial:
    """The parts of the document that parse, for cross-reference checks even when others do not."""

    def __init__(self, raw: dict[str, Any]) -> None:
        envs = raw.get("environments")
        self.envs: dict[str, Environment] = _parse_each(Environment, envs) if isinstance(envs, dict) else {}
        self.env_names: set[str] = set(envs) if isinstance(envs, dict) else set()
        dbs = raw.get("databases")
        self.dbs: dict[int, Database] = _parse_each(Database, dbs) if isinstance(dbs, list) else {}
        dns = raw.get("dns")
        self.dns: dict[int, DnsRecord] = _parse_each(DnsRecord, dns) if isinstance(dns, list) else {}
        ready = raw.get("readiness")
        self.readiness: dict[str, Readiness] = (
            _parse_each(Readiness, ready) if isinstance(ready, dict) else {}
        )
        state = raw.get("state")
        self.state: dict[str, Any] = state if isinstance(state, dict) else {}
        objectives = _parse_each(Objectives, {"o": raw.get("objectives") or {}}).get("o")
        self.rto = (objectives or Objectives()).rto
        self.engine_budgets = engine_budgets(raw.get("promotion_budgets"))
        backups = raw.get("dr_backups")
        self.dr_backups = _parse_each(DrBackup, {"d": backups}).get("d") if isinstance(backups, dict) else None

    @classmethod
    def of(cls, raw: dict[str, Any]) -> _Partial:
        return cls(raw)

    def pairs(self) -> list[tuple[str, str]]:
        """(source, dr-side) for every environment with a valid dr_for."""
        return [(e.dr_for, name) for name, e in self.envs.items() if e.dr_for and e.dr_for in self.envs]

    def region(self, env: str, explicit: str | None) -> str | None:
        if explicit:
            return explicit
        e = self.envs.get(env)
        return e.region if e else None


class _Semantics:
    """Facts of AWS and cross-references between sections."""

    def __init__(self, p: _Partial) -> None:
        self.p = p
        self.out: list[Finding] = []

    def error(self, path: str, message: str, hint: str = "") -> None:
        self.out.append(Finding(path, message, hint))

    def warn(self, path: str, message: str, hint: str = "") -> None:
        self.out.append(Finding(path, message, hint, "warning"))

    def run(self) -> list[Finding]:
        self.environments()
        self.databases()
        self.dr_coverage()
        self.dns()
        self.readiness()
        self.state()
        self.promotion_budgets()
        self.out.extend(replica_settings_findings(self.p.envs, self.p.dbs))
        return self.out

    def check_region(self, path: str, region: str | None) -> None:
        if region and region not in known_regions():
            self.error(path, f"region {region!r} does not exist in AWS", region_hint(region))

    def known_env(self, path: str, env: str) -> bool:
        if env in self.p.env_names:
            return True
        names = name_list(self.p.env_names) or "none defined"
        self.error(path, f"environment {env!r} is not defined under environments",
                   f"use one of: {names}")
        return False

    def environments(self) -> None:
        for name, env in self.p.envs.items():
            path = f"environments.{name}"
            self.check_region(f"{path}.region", env.region)
            if env.role_arn and f"::{env.account_id}:" not in env.role_arn:
                self.error(f"{path}.role_arn", f"role {env.role_arn} is not in account {env.account_id}",
                           "use a role in the environment's own account")
            if env.dr_for is None:
                continue
            if env.dr_for == name:
                self.error(f"{path}.dr_for", f"{name} cannot be the DR side of itself",
                           "name the production environment it protects")
            elif self.known_env(f"{path}.dr_for", env.dr_for):
                self.dr_cycle(name)

    def dr_cycle(self, start: str) -> None:
        seen = [start]
        current = self.p.envs[start].dr_for
        while current and current in self.p.envs:
            if current == start:
                chain = " -> ".join([*seen, start])
                self.error(f"environments.{start}.dr_for", f"dr_for forms a cycle: {chain}",
                           "a production environment must not itself have dr_for")
                return
            if current in seen:
                return
            seen.append(current)
            current = self.p.envs[current].dr_for

    def databases(self) -> None:
        names = Counter(db.name for db in self.p.dbs.values())
        ids = Counter((self.p.region(db.replica.env, db.replica.region), db.replica.id) for db in self.p.dbs.values())
        for i, db in self.p.dbs.items():
            path = f"databases[{i}]"
            if names[db.name] > 1:
                self.error(f"{path}.name", f"database name {db.name!r} is used more than once",
                           "give each database a unique name")
            for side in ("primary", "replica"):
                loc = getattr(db, side)
                if self.known_env(f"{path}.{side}.env", loc.env):
                    self.check_region(f"{path}.{side}.region", loc.region)
            key = (self.p.region(db.replica.env, db.replica.region), db.replica.id)
            if ids[key] > 1:
                self.error(f"{path}.replica.id", f"replica {db.replica.id} in {key[0]} is listed more than once",
                           "each replica belongs to one database entry")
            self.database_facts(path, db)

    def database_facts(self, path: str, db: Database) -> None:
        prim, repl = self.p.envs.get(db.primary.env), self.p.envs.get(db.replica.env)
        if db.engine is Engine.AURORA_GLOBAL and not db.global_cluster_id:
            self.error(f"{path}.global_cluster_id", "an aurora-global database needs global_cluster_id",
                       "add the global cluster identifier, e.g. global_cluster_id: orders-global")
        if db.engine is not Engine.AURORA_GLOBAL and db.global_cluster_id:
            self.error(f"{path}.global_cluster_id", f"global_cluster_id is only for aurora-global, not {db.engine}",
                       "remove it, or set engine: aurora-global")
        self.dr_backup_fits(path, db)
        if prim is None or repl is None:
            return
        if prim.account_id != repl.account_id:
            self.error(
                f"{path}.replica.env",
                f"replica is in account {repl.account_id} ({db.replica.env}) but its primary is in "
                f"{prim.account_id} ({db.primary.env}): AWS cannot replicate RDS or Aurora across accounts",
                f"place the replica in the primary's account, in the DR region: "
                f"replica: {{env: {db.primary.env}, region: {repl.region}, id: {db.replica.id}}}",
            )
        p_region, r_region = self.p.region(db.primary.env, db.primary.region), self.p.region(
            db.replica.env, db.replica.region)
        if p_region == r_region:
            self.error(f"{path}.replica.region",
                       f"replica and primary are both in {p_region}: that does not survive a regional outage",
                       "put the replica in the DR region (replica.region)")

    def dr_backup_fits(self, path: str, db: Database) -> None:
        """RDS automated-backup replication exists for DB instances only (AWS has it for no Aurora cluster)."""
        backup = db.dr_backup or self.p.dr_backups
        if backup is None or backup.source is not DrBackupSource.RDS_REPLICATION or db.engine is Engine.RDS_INSTANCE:
            return
        where = f"{path}.dr_backup" if db.dr_backup is not None else "dr_backups"
        self.error(where, f"database {db.name} ({db.engine}) cannot use rds-replication: RDS replicates automated "
                          "backups to another region for DB instances only, not for Aurora clusters",
                   f"set {path}.dr_backup: {{source: aws-backup, vault: <vault in the DR region>}}")

    def dr_coverage(self) -> None:
        """Every database of a protected environment needs a replica in its DR side's region."""
        for source, target in self.p.pairs():
            t_region = self.p.envs[target].region
            s_region = self.p.envs[source].region
            for i, db in self.p.dbs.items():
                if db.primary.env != source or self.p.region(source, db.primary.region) != s_region:
                    continue
                if self.p.region(db.replica.env, db.replica.region) != t_region:
                    self.error(f"databases[{i}].replica",
                               f"{target} is the DR side of {source}, but database {db.name} has no replica "
                               f"in {t_region} ({target}'s region)",
                               f"create a cross-region replica in {t_region} and set replica.region: {t_region}")

    def dns(self) -> None:
        seen = Counter((r.zone_id, r.fqdn, r.type) for r in self.p.dns.values())
        sides = {env for pair in self.p.pairs() for env in pair}
        for i, rec in self.p.dns.items():
            path = f"dns[{i}]"
            self.known_env(f"{path}.env", rec.env)
            if seen[(rec.zone_id, rec.fqdn, rec.type)] > 1:
                self.error(f"{path}.name", f"record {rec.fqdn} {rec.type} in zone {rec.zone_id} is listed twice",
                           "keep one entry per record")
            for env in rec.targets:
                self.known_env(f"{path}.targets.{env}", env)
            for env in sorted(sides - set(rec.targets)):
                self.error(f"{path}.targets", f"no target for {env}: the record cannot be switched to that side",
                           f"add targets.{env}: <the {env} endpoint>")
            for env in rec.health_checks:
                if env not in rec.targets:
                    self.error(f"{path}.health_checks.{env}",
                               f"health check for {env!r}, which is not a side of this record",
                               f"use one of the record's sides: {name_list(rec.targets)}")
            if rec.strategy is DnsStrategy.FAILOVER_ROUTING:
                for source, _ in self.p.pairs():
                    if source in rec.targets and source not in rec.health_checks:
                        self.error(f"{path}.health_checks",
                                   f"failover-routing needs a health check on the primary side ({source})",
                                   f"add health_checks.{source}: <health-check-id>")
            self.out.extend(arc_findings(path, rec, self.p.envs, [s for pair in self.p.pairs() for s in pair]))
            if rec.drill_name and rec.drill_name.rstrip(".") == rec.fqdn.rstrip("."):
                self.error(f"{path}.drill_name", "drill_name must differ from the production record name",
                           f"e.g. drill_name: drill-{rec.fqdn}")

    def promotion_budgets(self) -> None:
        """A budget set above the RTO is allowed, and said: the run may wait on that promotion past the RTO (giving
        up earlier would not make AWS finish sooner). The engines' defaults are not flagged."""
        rto = self.p.rto
        budgets = [(f"promotion_budgets.{engine}", seconds) for engine, seconds in self.p.engine_budgets.items()]
        budgets += [(f"databases[{i}].promotion_budget", db.promotion_budget) for i, db in self.p.dbs.items()
                    if db.promotion_budget is not None]
        for path, seconds in budgets:
            if seconds > rto:
                self.warn(path, f"promotion budget {format_duration(seconds)} is longer than the RTO "
                                f"({format_duration(rto)}): a run may wait on this promotion past the RTO",
                          "keep it if a late writer beats none; else lower it or raise objectives.rto")

    def readiness(self) -> None:
        for env in self.p.readiness:
            self.known_env(f"readiness.{env}", env)

    def state(self) -> None:
        env = self.p.state.get("env")
        if isinstance(env, str):
            self.known_env("state.env", env)
        region = self.p.state.get("region")
        if isinstance(region, str):
            self.check_region("state.region", region)
