"""Which CloudWatch metric AWS publishes for replication lag, per engine, and how to read it in seconds.

One table shared by readiness, the RPO gate, the exporter and the sandbox (which publishes them). A CloudWatch
series is named by its whole set of dimensions: a query with fewer or other dimensions finds nothing, so every
reader and publisher takes the set from `LagMetric.dimensions`.
"""

from __future__ import annotations

from dataclasses import dataclass

from dr.config.model import Engine


@dataclass(frozen=True)
class LagMetric:
    namespace: str
    metric: str
    dimension: str
    """The dimension naming the replica (its instance or cluster identifier)."""
    to_seconds: float
    """Multiply a datapoint by this to get seconds (Aurora global lag is published in milliseconds)."""
    fixed: tuple[tuple[str, str], ...] = ()
    """Dimensions with a fixed value that complete the series' name (e.g. Role=WRITER)."""

    def dimensions(self, identifier: str) -> tuple[tuple[str, str], ...]:
        """The full (name, value) dimension set of the replica's series."""
        return ((self.dimension, identifier), *self.fixed)

    def cloudwatch_dimensions(self, identifier: str) -> list[dict[str, str]]:
        """The same set in CloudWatch's request shape (PutMetricData, GetMetricData)."""
        return [{"Name": name, "Value": value} for name, value in self.dimensions(identifier)]


WRITER_ROLE = (("Role", "WRITER"),)
"""Binary log replication runs only on the writer instance of an Aurora MySQL replica cluster: AWS recommends
reading `AuroraBinlogReplicaLag` for the WRITER role (Aurora User Guide, "Amazon CloudWatch metrics for Amazon
Aurora"), published under the dimensions DBClusterIdentifier + Role ("Amazon CloudWatch dimensions for Aurora")."""

LAG_METRICS: dict[Engine, LagMetric] = {
    Engine.RDS_INSTANCE: LagMetric("AWS/RDS", "ReplicaLag", "DBInstanceIdentifier", 1.0),
    Engine.AURORA_CLUSTER: LagMetric("AWS/RDS", "AuroraBinlogReplicaLag", "DBClusterIdentifier", 1.0, WRITER_ROLE),
    Engine.AURORA_GLOBAL: LagMetric("AWS/RDS", "AuroraGlobalDBReplicationLag", "DBClusterIdentifier", 0.001),
}

BROKEN = -1.0
"""AWS publishes -1 when replication is not running: it fails the RPO gate, it never passes it."""


def lag_metric(engine: Engine) -> LagMetric:
    return LAG_METRICS[engine]
