"""What discovery found: database pairs, DNS records, readiness resources, each with where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dr.config.findings import Finding
from dr.config.model import Engine


@dataclass(frozen=True)
class FoundEnvironment:
    """An environment as discovery read it: where it is, the role assumed, its DR source, and where that came from."""

    account_id: str
    region: str
    role_arn: str | None
    dr_for: str | None
    source: str

    def entry(self) -> dict[str, str]:
        """Its `environments` entry in the topology."""
        values = {"account_id": self.account_id, "region": self.region, "role_arn": self.role_arn,
                  "dr_for": self.dr_for}
        return {k: v for k, v in values.items() if v is not None}


@dataclass(frozen=True)
class Copy:
    """One database copy found in AWS: its environment (the account's), region and identifier."""

    env: str
    region: str
    id: str


@dataclass(frozen=True)
class FoundDatabase:
    """A primary and its cross-Region replica (or global secondary)."""

    name: str
    engine: Engine
    primary: Copy
    replica: Copy
    global_cluster_id: str | None
    source: str
    """Where the pairing was read, e.g. `ReadReplicaSourceDBInstanceIdentifier of orders-db-euw1 (prod, eu-west-1)`."""
    notes: tuple[str, ...] = ()
    """What needs a human decision about this entry."""


@dataclass(frozen=True)
class FoundRecord:
    """A record of a named zone with a value on each side, as proposed for the topology's `dns`."""

    zone_id: str
    env: str
    name: str
    type: str
    ttl: int
    strategy: str
    targets: dict[str, str]
    health_checks: dict[str, str]
    source: str
    notes: tuple[str, ...] = ()
    arc: dict[str, Any] | None = None
    """For `arc-routing-control`: the cluster and each side's routing control (the topology's `arc` section)."""


@dataclass(frozen=True)
class SkippedRecord:
    """A record of a named zone that could not be proposed, and why."""

    zone_id: str
    name: str
    type: str
    reason: str


@dataclass(frozen=True)
class ReadinessEntry:
    """A DR-side EKS cluster, ECS service or Auto Scaling group; `linked` when a record's target leads to it."""

    env: str
    kind: str
    """`eks`, `ecs` or `asg`."""
    name: str
    """Cluster name, `cluster/service`, or group name."""
    capacity: int
    """The running count (ECS) or desired capacity (ASG) seen; 0 for EKS."""
    linked: bool
    source: str


@dataclass
class Discovery:
    """Everything one discovery read, and what it could not decide."""

    environments: dict[str, FoundEnvironment]
    """By name; dr_for as given or inferred."""
    databases: list[FoundDatabase] = field(default_factory=list)
    records: list[FoundRecord] = field(default_factory=list)
    skipped_records: list[SkippedRecord] = field(default_factory=list)
    readiness: list[ReadinessEntry] = field(default_factory=list)
    existing: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    """(account_id, region) -> every RDS instance and cluster identifier listed there (for drift)."""
    zone_values: dict[tuple[str, str, str], dict[str, str]] = field(default_factory=dict)
    """(zone_id, fqdn, type) -> set identifier ('' for a simple record) -> value, for every record read."""
    patterns: list[str] = field(default_factory=list)
    """The naming patterns used to pair record values with their other side."""
    decisions: list[str] = field(default_factory=list)
    """Choices discovery made that a human must confirm."""
    findings: list[Finding] = field(default_factory=list)
    """Problems with the input (e.g. a region that does not exist), in validation's words."""
    calls: dict[str, dict[str, int]] = field(default_factory=dict)
    """service -> operation -> calls made."""
