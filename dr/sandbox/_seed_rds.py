"""Seed RDS and Aurora: primaries, cross-region replicas and global clusters, as the topology says."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dr.aws.factory import ClientFactory
from dr.config.model import Database, DbLocation, Engine, Topology

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

    def _encryption(self, loc: DbLocation) -> dict[str, Any]:
        """A primary is encrypted with its location's declared KMS key (none declared: unencrypted)."""
        key = self.topology.settings_for(loc).kms_key_id
        return {"StorageEncrypted": True, "KmsKeyId": key} if key else {}

    def _replica_key(self, db: Database) -> dict[str, Any]:
        """A cross-region replica of an encrypted primary gets its own region's key (AWS requires one)."""
        p_region, r_region = self._regions(db)
        primary_key = self.topology.settings_for(db.primary).kms_key_id
        replica_key = self.topology.settings_for(db.replica).kms_key_id
        return {"KmsKeyId": replica_key} if primary_key and replica_key and p_region != r_region else {}

    def _instance_pair(self, db: Database) -> None:
        choice = ENGINES[db.engine]
        p_region, r_region = self._regions(db)
        settings = self.topology.settings_for(db.primary)
        primary = self._rds(db.primary.env, p_region).create_db_instance(**{
            "DBInstanceClass": choice.instance_class, "AllocatedStorage": 20,
            **settings.instance_replica_args(), **settings.backup_args(), **self._encryption(db.primary),
            "DBInstanceIdentifier": db.primary.id, "Engine": choice.engine, "EngineVersion": choice.version,
            "MasterUsername": MASTER_USER, "MasterUserPassword": MASTER_PASSWORD, "Tags": _tags(db, "primary"),
        })["DBInstance"]
        same_region = p_region == r_region
        replica_settings = self.topology.settings_for(db.replica)
        self._rds(db.replica.env, r_region).create_db_instance_read_replica(
            DBInstanceIdentifier=db.replica.id,
            # AWS names a same-region source by id and a cross-region source by ARN.
            SourceDBInstanceIdentifier=db.primary.id if same_region else primary["DBInstanceArn"],
            **({} if same_region else {"SourceRegion": p_region}),
            **{"DBInstanceClass": choice.instance_class, **replica_settings.instance_replica_args()},
            **self._replica_key(db), Tags=_tags(db, "replica"),
        )

    def _cluster(self, loc: DbLocation, db: Database, role: str, **extra: Any) -> Any:
        choice = ENGINES[db.engine]
        rds = self._rds(loc.env, self.topology.region_of(loc))
        settings = self.topology.settings_for(loc)
        cluster = rds.create_db_cluster(
            DBClusterIdentifier=loc.id, Engine=choice.engine, EngineVersion=choice.version,
            Tags=_tags(db, role), **settings.cluster_replica_args(), **extra,
        )["DBCluster"]
        member = {"DBInstanceClass": choice.instance_class, **settings.cluster_member_args()}
        rds.create_db_instance(
            DBInstanceIdentifier=f"{loc.id}-1"[:63], Engine=choice.engine, DBClusterIdentifier=loc.id,
            Tags=_tags(db, role), **member,
        )
        return cluster

    def _cluster_pair(self, db: Database) -> None:
        p_region, r_region = self._regions(db)
        creds = {"MasterUsername": MASTER_USER, "MasterUserPassword": MASTER_PASSWORD}
        primary = self._cluster(db.primary, db, "primary", **creds, **self._encryption(db.primary))
        source = {} if p_region == r_region else {"SourceRegion": p_region}
        self._cluster(db.replica, db, "replica", **creds, **source, **self._replica_key(db),
                      ReplicationSourceIdentifier=primary["DBClusterArn"])

    def _global_pair(self, db: Database) -> None:
        choice = ENGINES[db.engine]
        p_region = self.topology.region_of(db.primary)
        self._rds(db.primary.env, p_region).create_global_cluster(
            GlobalClusterIdentifier=db.global_cluster_id, Engine=choice.engine, EngineVersion=choice.version)
        self._cluster(db.primary, db, "primary", GlobalClusterIdentifier=db.global_cluster_id,
                      MasterUsername=MASTER_USER, MasterUserPassword=MASTER_PASSWORD, **self._encryption(db.primary))
        # A secondary cluster of a global database has no credentials of its own: they come from the primary.
        self._cluster(db.replica, db, "replica", GlobalClusterIdentifier=db.global_cluster_id,
                      **self._encryption(db.replica))


def _tags(db: Database, role: str) -> list[dict[str, str]]:
    return [{"Key": "drctl:database", "Value": db.name}, {"Key": "drctl:role", "Value": role}]
