"""The validated topology: environments, databases, DNS records, readiness, objectives, state."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dr.config.backups import DrBackup
from dr.config.durations import Duration
from dr.config.promotion import DEFAULT_PROMOTION_BUDGETS, PromotionBudget, fill_engine_budgets
from dr.config.replica import ReplicaSettings


class _Strict(BaseModel):
    """Unknown keys are errors; models are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Engine(StrEnum):
    RDS_INSTANCE = "rds-instance"
    AURORA_CLUSTER = "aurora-cluster"
    AURORA_GLOBAL = "aurora-global"


class DnsStrategy(StrEnum):
    UPSERT = "upsert"
    FAILOVER_ROUTING = "failover-routing"
    ARC_ROUTING_CONTROL = "arc-routing-control"


class Objectives(_Strict):
    rto: Duration = Field(default=900.0, gt=0, description="recovery time objective, seconds")
    rpo: Duration = Field(default=300.0, ge=0, description="recovery point objective, seconds")
    max_dns_ttl: Duration = Field(default=300.0, ge=0, description="largest TTL a DNS record of the topology may "
                                  "have: resolvers keep the old answer that long after a switch (plan evaluation)")

    @model_validator(mode="after")
    def _ttl_within_rto(self) -> Objectives:
        """Only a max_dns_ttl the topology sets is held to its RTO: the default must not make a short-RTO topology
        (a drill's tight target) invalid for a setting it never wrote."""
        if "max_dns_ttl" in self.model_fields_set and self.max_dns_ttl >= self.rto:
            raise ValueError(f"max_dns_ttl ({self.max_dns_ttl:g}s) must be less than the rto ({self.rto:g}s): "
                             "clients keep a record's old answer for its TTL, which the RTO has to include")
        return self


class Environment(_Strict):
    account_id: str = Field(pattern=r"^\d{12}$", description="12-digit AWS account id")
    region: str = Field(min_length=1)
    role_arn: str | None = Field(default=None, pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$")
    dr_for: str | None = None
    replica_settings: dict[str, ReplicaSettings] = Field(
        default_factory=dict, description="per region: what a new replica (or promoted writer) of this env's "
                                          "databases in that region is configured with")


class DbLocation(_Strict):
    env: str
    id: str = Field(min_length=1, max_length=255)
    region: str | None = None
    settings: ReplicaSettings | None = Field(default=None, description="this copy's settings, over the "
                                                                        "environment's replica_settings")


class Database(_Strict):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    engine: Engine
    primary: DbLocation
    replica: DbLocation
    global_cluster_id: str | None = None
    promotion_budget: PromotionBudget | None = Field(
        default=None, description="how long its promotion may take (default: its engine's, dr.config.promotion)")
    dr_backup: DrBackup | None = Field(
        default=None, description="its restorable copy in the DR region (default: the topology's dr_backups)")

    @property
    def promotion_budget_seconds(self) -> float:
        """The promotion step's budget: the database's own, else its engine's (top level, then default)."""
        return self.promotion_budget or DEFAULT_PROMOTION_BUDGETS[self.engine.value]


ARC_CLUSTER_ARN = r"^arn:aws[a-z-]*:route53-recovery-control::\d{12}:cluster/[A-Za-z0-9_.-]+$"
ARC_PANEL_ARN = r"^arn:aws[a-z-]*:route53-recovery-control::\d{12}:controlpanel/[A-Za-z0-9_.-]+$"
ARC_CONTROL_ARN = r"^arn:aws[a-z-]*:route53-recovery-control::\d{12}:controlpanel/[A-Za-z0-9_.-]+/routingcontrol/" \
                  r"[A-Za-z0-9_.-]+$"


class ArcEndpoint(_Strict):
    """One regional endpoint of an ARC cluster, as DescribeCluster lists it (`ClusterEndpoints`)."""

    region: str = Field(min_length=1)
    url: str = Field(pattern=r"^https?://.+", description="the cluster endpoint URL, e.g. https://host-aaaaaa."
                                                          "us-west-2.example.aws/v1")


class ArcRouting(_Strict):
    """The ARC routing controls that move an `arc-routing-control` record: one per side, on one cluster."""

    cluster_arn: str = Field(pattern=ARC_CLUSTER_ARN)
    routing_controls: dict[str, str] = Field(description="per side (environment): the routing control ARN whose "
                                                         "RECOVERY_CONTROL health check the side's record set uses")
    control_panel_arn: str | None = Field(default=None, pattern=ARC_PANEL_ARN)
    safety_rules: list[str] = Field(default_factory=list, description="names of the safety rules expected on the "
                                                                      "control panel (readiness checks they exist)")
    endpoints: list[ArcEndpoint] = Field(default_factory=list, description="the cluster's regional endpoints, as "
                                         "`drctl readiness` reads them (DescribeCluster): with them, a move makes "
                                         "no control-plane call")

    @property
    def cluster_id(self) -> str:
        return self.cluster_arn.rsplit("/", 1)[-1]


class DnsRecord(_Strict):
    zone_id: str = Field(min_length=1)
    env: str
    name: str = Field(min_length=1)
    type: str = Field(default="CNAME", pattern=r"^(A|AAAA|CNAME)$")
    ttl: int = Field(default=60, ge=0, le=172800)
    strategy: DnsStrategy = DnsStrategy.UPSERT
    targets: dict[str, str]
    health_checks: dict[str, str] = Field(default_factory=dict)
    drill_name: str | None = None
    arc: ArcRouting | None = Field(default=None, description="the ARC routing controls of an arc-routing-control "
                                                             "record")

    @property
    def fqdn(self) -> str:
        return self.name if self.name.endswith(".") else self.name + "."


class EcsService(_Strict):
    cluster: str
    service: str
    min_running: int = Field(default=1, ge=0)


class AutoScalingGroup(_Strict):
    name: str
    min_in_service: int = Field(default=1, ge=0)


class Readiness(_Strict):
    eks_clusters: list[str] = Field(default_factory=list)
    ecs_services: list[EcsService] = Field(default_factory=list)
    autoscaling_groups: list[AutoScalingGroup] = Field(default_factory=list)


class AwsSettings(_Strict):
    """How drctl talks to AWS: short timeouts so a dead region fails in seconds, not minutes."""

    connect_timeout: Duration = 3.0
    read_timeout: Duration = 10.0
    max_attempts: int = Field(default=3, ge=1, le=10, description="botocore attempts per call")


class StateSettings(_Strict):
    """Where runs keep their journal and lock. Without it: a local directory and a local file lock."""

    env: str | None = Field(default=None, description="environment whose account holds the table/bucket")
    region: str | None = None
    s3_bucket: str | None = None
    s3_prefix: str = "drctl/runs/"
    dynamodb_table: str | None = None
    lease: Duration = 60.0


class Topology(_Strict):
    version: int = Field(ge=1, le=1)
    objectives: Objectives = Field(default_factory=Objectives)
    environments: dict[str, Environment]
    databases: list[Database] = Field(default_factory=list)
    dns: list[DnsRecord] = Field(default_factory=list)
    readiness: dict[str, Readiness] = Field(default_factory=dict)
    aws: AwsSettings = Field(default_factory=AwsSettings)
    state: StateSettings = Field(default_factory=StateSettings)
    promotion_budgets: dict[Engine, PromotionBudget] = Field(
        default_factory=dict, description="per engine, for databases without their own promotion_budget")
    dr_backups: DrBackup | None = Field(
        default=None, description="the DR-region backup copy of databases without their own dr_backup")

    @model_validator(mode="before")
    @classmethod
    def _engine_promotion_budgets(cls, data: Any) -> Any:
        return fill_engine_budgets(data)

    def dr_backup_of(self, db: Database) -> DrBackup | None:
        """Where `db`'s restorable copy in the DR region comes from: its own setting, else the default."""
        return db.dr_backup or self.dr_backups

    def env(self, name: str) -> Environment:
        return self.environments[name]

    def region_of(self, loc: DbLocation) -> str:
        """The region a database lives in: its own, else its environment's home region."""
        return loc.region or self.environments[loc.env].region

    def settings_for(self, loc: DbLocation) -> ReplicaSettings:
        """What a copy at `loc` is created (or promoted) with: its own settings over its env-and-region ones."""
        base = self.environments[loc.env].replica_settings.get(self.region_of(loc))
        if loc.settings is None:
            return base or ReplicaSettings()
        return loc.settings.over(base)

    def source_of(self, target: str) -> str:
        """The environment that `target` is the DR side of (its `dr_for`), or the one that is DR for it."""
        env = self.environments[target]
        if env.dr_for:
            return env.dr_for
        for name, other in self.environments.items():
            if other.dr_for == target:
                return name
        raise KeyError(target)
