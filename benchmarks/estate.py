"""A seed-scale estate for the sandbox: databases of all three engines, DNS records over several zones in both
strategies, readiness resources, and a promotion time per database drawn from a realistic distribution."""

from __future__ import annotations

import random
from dataclasses import dataclass

from dr.config.model import (
    AutoScalingGroup,
    Database,
    DbLocation,
    DnsRecord,
    DnsStrategy,
    EcsService,
    Engine,
    Environment,
    Readiness,
    Topology,
)

SOURCE, TARGET = "prod", "qa"
SOURCE_REGION, TARGET_REGION = "eu-central-1", "eu-west-1"
ENGINES = (Engine.RDS_INSTANCE, Engine.AURORA_CLUSTER, Engine.AURORA_GLOBAL)
ECS_SERVICES_PER_CLUSTER = 10
AWS_PROMOTION_MODE_SECONDS = 180.0
"""The most common real promotion time (minutes, with a long right tail) the scaled promotions stand for."""


@dataclass(frozen=True)
class EstateSize:
    """How big the estate is. Defaults: the seed's scale (issue 7)."""

    databases: int = 60
    records: int = 200
    zones: int = 4
    eks_clusters: int = 100
    ecs_services: int = 50
    asgs: int = 20
    failover_every: int = 4
    """Every N-th record uses failover routing (with a health check per side); the others are plain UPSERTs."""

    def label(self) -> str:
        return f"{self.databases} db / {self.records} rec / {self.zones} zones"


@dataclass(frozen=True)
class PromotionTimes:
    """Promotion durations, seconds: triangular between `low` and `high`, most often `mode` (real RDS promotions
    take minutes with a long right tail; this is that shape scaled down to seconds)."""

    low: float = 2.0
    mode: float = 3.0
    high: float = 6.0
    seed: int = 7

    @property
    def time_scale(self) -> float:
        """The benchmark's time over AWS's: the mode over a real promotion's (3 s / 180 s = 1/60 by default).
        Peers' waiter delays and Step Functions waits, and CloudWatch's period in planned runs, are scaled by it,
        as Route53's PENDING (~60 s on AWS, 1 s here) already is."""
        return self.mode / AWS_PROMOTION_MODE_SECONDS

    def draw(self, names: list[str]) -> dict[str, float]:
        rng = random.Random(self.seed)
        return {name: round(rng.triangular(self.low, self.high, self.mode), 3) for name in names}


def build(size: EstateSize) -> Topology:
    """prod (eu-central-1) with its DR side qa (eu-west-1): replicas in prod's account in eu-west-1."""
    environments = {
        SOURCE: Environment(account_id="111111111111", region=SOURCE_REGION,
                            role_arn="arn:aws:iam::111111111111:role/drctl"),
        TARGET: Environment(account_id="222222222222", region=TARGET_REGION,
                            role_arn="arn:aws:iam::222222222222:role/drctl", dr_for=SOURCE),
    }
    return Topology(version=1, environments=environments, databases=_databases(size.databases),
                    dns=_records(size), readiness={TARGET: _readiness(size)})


def _databases(count: int) -> list[Database]:
    out: list[Database] = []
    for i in range(count):
        engine = ENGINES[i % len(ENGINES)]
        stem = {Engine.RDS_INSTANCE: "db", Engine.AURORA_CLUSTER: "cluster", Engine.AURORA_GLOBAL: "gcluster"}[engine]
        out.append(Database(
            name=f"app{i:03d}", engine=engine,
            primary=DbLocation(env=SOURCE, id=f"app{i:03d}-{stem}"),
            replica=DbLocation(env=SOURCE, region=TARGET_REGION, id=f"app{i:03d}-{stem}-euw1"),
            global_cluster_id=f"app{i:03d}-global" if engine is Engine.AURORA_GLOBAL else None,
        ))
    return out


def _records(size: EstateSize) -> list[DnsRecord]:
    out: list[DnsRecord] = []
    for i in range(size.records):
        zone = i % size.zones
        domain = f"zone{zone}.bench.example.com"
        failover = size.failover_every > 0 and i % size.failover_every == size.failover_every - 1
        name = f"app{i:03d}"
        out.append(DnsRecord(
            zone_id=f"Z0BENCH{zone}", env=SOURCE, name=f"{name}.{domain}.", type="CNAME", ttl=60,
            strategy=DnsStrategy.FAILOVER_ROUTING if failover else DnsStrategy.UPSERT,
            targets={SOURCE: f"{name}.{SOURCE_REGION}.{domain}", TARGET: f"{name}.{TARGET_REGION}.{domain}"},
            health_checks={SOURCE: f"hc-{name}-prod", TARGET: f"hc-{name}-qa"} if failover else {},
        ))
    return out


def _readiness(size: EstateSize) -> Readiness:
    return Readiness(
        eks_clusters=[f"eks-{i:03d}" for i in range(size.eks_clusters)],
        ecs_services=[EcsService(cluster=f"ecs-{i // ECS_SERVICES_PER_CLUSTER:02d}", service=f"svc-{i:03d}",
                                 min_running=2) for i in range(size.ecs_services)],
        autoscaling_groups=[AutoScalingGroup(name=f"asg-{i:02d}", min_in_service=1) for i in range(size.asgs)],
    )


def promoted_ids(topology: Topology) -> list[str]:
    """The id the sandbox times each promotion by: the replica instance or cluster that becomes the writer."""
    return [db.replica.id for db in topology.databases]


def scaled(databases: int, base: EstateSize | None = None) -> EstateSize:
    """An estate whose every dimension scales with the database count, in the default proportions."""
    base = base or EstateSize()
    factor = databases / base.databases

    def part(value: int, floor: int = 1) -> int:
        return max(floor, round(value * factor))

    return EstateSize(databases=databases, records=part(base.records, 4), zones=min(base.zones, part(base.zones)),
                      eks_clusters=part(base.eks_clusters), ecs_services=part(base.ecs_services),
                      asgs=part(base.asgs), failover_every=base.failover_every)
