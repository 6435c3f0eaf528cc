"""Which CloudWatch metric AWS publishes for replication lag, per engine, and how to read it in seconds.

One table shared by readiness, the RPO gate, the exporter and the sandbox (which publishes them).
"""

from __future__ import annotations

from dataclasses import dataclass

from dr.config.model import Engine


@dataclass(frozen=True)
class LagMetric:
    namespace: str
    metric: str
    dimension: str
    to_seconds: float
    """Multiply a datapoint by this to get seconds (Aurora global lag is published in milliseconds)."""

    def dimensions_for(self, identifier: str) -> tuple[tuple[str, str], ...]:
        """The metric's dimensions for one replica (instance or cluster identifier)."""
        return ((self.dimension, identifier),)


LAG_METRICS: dict[Engine, LagMetric] = {
    Engine.RDS_INSTANCE: LagMetric("AWS/RDS", "ReplicaLag", "DBInstanceIdentifier", 1.0),
    Engine.AURORA_CLUSTER: LagMetric("AWS/RDS", "AuroraBinlogReplicaLag", "DBClusterIdentifier", 1.0),
    Engine.AURORA_GLOBAL: LagMetric("AWS/RDS", "AuroraGlobalDBReplicationLag", "DBClusterIdentifier", 0.001),
}

BROKEN = -1.0
"""AWS publishes -1 when replication is not running: it fails the RPO gate, it never passes it."""


def lag_metric(engine: Engine) -> LagMetric:
    return LAG_METRICS[engine]
