"""Seed RDS and Aurora: primaries, cross-region replicas and global clusters, as the topology says."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dr.aws.factory import ClientFactory
from dr.config.model import Database, Engine, Topology

MASTER_USER = "drctl"
MASTER_PASSWORD = "sandbox-password-1"  # a fake credential, for the local sandbox only


@dataclass(frozen=True)
class EngineChoice:
    """What the sandbox creates for a topology engine: the AWS engine name and a version moto accepts."""

    engine: str
    version: str
    instance_class: str


ENGINES: dict[Engine, EngineChoice] = {
    Engine.RDS_INSTANCE: EngineChoice("postgres", "16.3", "db.t3.micro"),
    # Cross-region replica clusters use binlog replication, which only Aurora MySQL has.
    Engine.AURORA_CLUSTER: EngineChoice("aurora-mysql", "8.0.mysql_aurora.3.05.2", "db.r6g.large"),
    Engine.AURORA_GLOBAL: EngineChoice("aurora-postgresql", "15.4", "db.r6g.large"),
}


class RdsSeeder:
    """Creates each database pair in the primary's and the replica's account and region."""

    def __init__(self, topology: Topology, clients: ClientFactory) -> None:
        self.topology = topology
        self.clients = clients

    def seed(self, db: Database) -> None:
        if db.engine is Engine.RDS_INSTANCE:
            self._instance_pair(db)
        elif db.engine is Engine.AURORA_CLUSTER:
            self._cluster_pair(db)
        else:
            self._global_pair(db)

    def _rds(self, env: str, region: str) -> Any:
        return self.clients.client("rds", env, region)

    def _regions(self, db: Database) -> tuple[str, str]:
        return self.topology.region_of(db.primary), self.topology.region_of(db.replica)

    def _instance_pair(self, db: Database) -> None:
        choice = ENGINES[db.engine]
        p_region, r_region = self._regions(db)
        primary = self._rds(db.primary.env, p_region).create_db_instance(
            DBInstanceIdentifier=db.primary.id, DBInstanceClass=choice.instance_class, Engine=choice.engine,
            EngineVersion=choice.version, MasterUsername=MASTER_USER, MasterUserPassword=MASTER_PASSWORD,
            AllocatedStorage=20, BackupRetentionPeriod=7, Tags=_tags(db, "primary"),
        )["DBInstance"]
        same_region = p_region == r_region
        self._rds(db.replica.env, r_region).create_db_instance_read_replica(
            DBInstanceIdentifier=db.replica.id,
            # AWS names a same-region source by id and a cross-region source by ARN.
            SourceDBInstanceIdentifier=db.primary.id if same_region else primary["DBInstanceArn"],
            **({} if same_region else {"SourceRegion": p_region}),
            DBInstanceClass=choice.instance_class, Tags=_tags(db, "replica"),
        )

    def _cluster(self, env: str, region: str, ident: str, db: Database, role: str, **extra: Any) -> Any:
        choice = ENGINES[db.engine]
        rds = self._rds(env, region)
        cluster = rds.create_db_cluster(
            DBClusterIdentifier=ident, Engine=choice.engine, EngineVersion=choice.version,
            Tags=_tags(db, role), **extra,
        )["DBCluster"]
        rds.create_db_instance(
            DBInstanceIdentifier=f"{ident}-1"[:63], DBInstanceClass=choice.instance_class, Engine=choice.engine,
            DBClusterIdentifier=ident, Tags=_tags(db, role),
        )
        return cluster

    def _cluster_pair(self, db: Database) -> None:
        p_region, r_region = self._regions(db)
        creds = {"MasterUsername": MASTER_USER, "MasterUserPassword": MASTER_PASSWORD}
        primary = self._cluster(db.primary.env, p_region, db.primary.id, db, "primary", **creds)
        source = {} if p_region == r_region else {"SourceRegion": p_region}
        self._cluster(db.replica.env, r_region, db.replica.id, db, "replica", **creds, **source,
                      ReplicationSourceIdentifier=primary["DBClusterArn"])

    def _global_pair(self, db: Database) -> None:
        choice = ENGINES[db.engine]
        p_region, r_region = self._regions(db)
        self._rds(db.primary.env, p_region).create_global_cluster(
            GlobalClusterIdentifier=db.global_cluster_id, Engine=choice.engine, EngineVersion=choice.version)
        self._cluster(db.primary.env, p_region, db.primary.id, db, "primary",
                      GlobalClusterIdentifier=db.global_cluster_id,
                      MasterUsername=MASTER_USER, MasterUserPassword=MASTER_PASSWORD)
        # A secondary cluster of a global database has no credentials of its own: they come from the primary.
        self._cluster(db.replica.env, r_region, db.replica.id, db, "replica",
                      GlobalClusterIdentifier=db.global_cluster_id)


def _tags(db: Database, role: str) -> list[dict[str, str]]:
    return [{"Key": "drctl:database", "Value": db.name}, {"Key": "drctl:role", "Value": role}]
