"""Replica lag as each engine reports it, computed from the modelled writes and the outages.

- MySQL, MariaDB (`ReplicaLag`) and Aurora MySQL (`AuroraBinlogReplicaLag`) report `Seconds_Behind_Master`:
  0 once the replica has applied everything, -1 when replication is not running (RDS User Guide,
  "Monitoring MySQL read replication lag" / "Monitoring MariaDB read replicas": "When the ReplicaLag metric
  reaches 0, the replica has caught up ... If the ReplicaLag metric returns -1, then replication is
  currently not active"). While writes flow the replica trails by its lag setting.
- RDS for PostgreSQL reports `now() - pg_last_xact_replay_timestamp()` (RDS User Guide, "Monitoring and
  tuning the replication process"): after the source stops writing it grows from the last replayed
  write, caught up or not, and each datapoint's (timestamp - value) is that replay timestamp.
- Aurora global (`AuroraGlobalDBReplicationLag`): 0 once applied, the lag setting while writes flow; in an
  outage of the primary's region it grows from the outage start.
Without modelled writes a replica reports its static setting, except in an outage of its source region.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dr.aws.lag_metrics import BROKEN
from dr.config.model import Engine
from dr.sandbox.data import copies
from dr.sandbox.data.model import DATA, Copy
from dr.sandbox.extensions.outage import down_since
from dr.sandbox.extensions.state import LagKey

MYSQL, POSTGRES, GLOBAL = "mysql", "postgres", "global"


def lag_series(key: LagKey, seconds: float, times: list[datetime]) -> list[float]:
    """The replica's lag (seconds, or -1) at each of `times`, for a setting of `seconds` (>= 0)."""
    obj = _object(key)
    if obj is None:
        return [seconds] * len(times)
    source = copies.source_of(obj)
    region = str(source.region) if source is not None else _arn_region(obj)
    kind = _kind(key, obj)
    with DATA.lock:
        copy = _tracked(obj)
        return [_value(kind, copy, seconds, t.timestamp(), region) for t in times]


def _value(kind: str, copy: Copy | None, lag: float, t: float, region: str | None) -> float:
    from datetime import UTC

    since = down_since(region, datetime.fromtimestamp(t, tz=UTC))
    if since is None:
        return _flowing(kind, copy, lag, t)
    start = since.timestamp()
    if kind == MYSQL:
        return BROKEN
    if kind == GLOBAL:
        return _flowing(kind, copy, lag, start) + (t - start)
    replay = _replay(copy, start - lag)
    return t - (replay if replay is not None else start - lag)


def _flowing(kind: str, copy: Copy | None, lag: float, t: float) -> float:
    """The lag at `t` with replication running."""
    if copy is None or DATA.position_at(copy.branch, t) == 0:
        return lag  # nothing modelled (yet): the static setting
    if kind == POSTGRES:
        replay = _replay(copy, t - lag)
        return t - replay if replay is not None else lag
    pending = DATA.position_at(copy.branch, t) > DATA.position_at(copy.branch, t - lag)
    return lag if pending else 0.0


def _replay(copy: Copy | None, until: float) -> float | None:
    """Wall time of the last write the replica had replayed by the time `until` (None: none)."""
    if copy is None:
        return None
    seq = DATA.position_at(copy.branch, until)
    return DATA.ts_of(copy.branch, seq) if seq else None


def _kind(key: LagKey, obj: Any) -> str:
    if key.engine == Engine.AURORA_GLOBAL.value:
        return GLOBAL
    if key.engine == Engine.RDS_INSTANCE.value and str(obj.engine).startswith("postgres"):
        return POSTGRES
    return MYSQL  # mysql, mariadb, and Aurora MySQL binlog replicas


def _object(key: LagKey) -> Any | None:
    from moto.rds.models import rds_backends

    backend = rds_backends[key.account_id][key.region]
    registry = backend.databases if key.engine == Engine.RDS_INSTANCE.value else backend.clusters
    return registry.get(key.identifier)


def _tracked(obj: Any) -> Copy | None:
    """The object's copy record when the model tracks it (never registers one: reading lag stays cheap)."""
    key = obj.__dict__.get(copies.KEY_ATTR)
    copy = DATA.copies.get(key) if key else None
    return copy if copy is not None and copy.obj is obj else None


def _arn_region(obj: Any) -> str | None:
    source = getattr(obj, "source_db_instance_identifier", None) or getattr(obj, "replication_source_identifier", None)
    if source and str(source).startswith("arn:"):
        return str(source).split(":")[3]
    return None
