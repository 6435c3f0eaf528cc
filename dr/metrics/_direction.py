"""The direction replication runs in now, read from AWS: which copy's lag the exporter reads, and whether the
database is protected (`drctl_replication_up`).

The direction is not the one written in dr.yaml: after a failover the writer is the promoted copy, and the lag
worth reading is that of a copy replicating from it (the replicas re-protect creates toward the other region),
or none until re-protect. From the lineage of the configured copies (`dr.checks.writers`):

- the current writer is known and a copy in another region replicates from it: read that copy's lag
  (`source_region` = the writer's region, `replica_region` = the copy's);
- the current writer is not known (its region did not answer, or no copy is writable): read the lag of a
  readable replica, whatever it replicates from (a regional outage shows there as lag -1), but it protects
  nothing that can be told;
- a configured copy in another region could not be read (its region does not answer): read its lag anyway,
  so that the failure is counted and the sample age grows, as for any unreadable lag;
- otherwise there is no lag to read: the lag series of the database disappears instead of going stale.

`drctl_replication_up` is 1 exactly when a copy in another region replicates from the current writer, AWS
reports its replication state as replicating (or none, as for Aurora), and this refresh read its lag >= 0; else
0. Only when no copy of the database could be read at all is it not told (the error is counted instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dr.aws.rds import Role
from dr.checks.lag import LagSample, LagTarget
from dr.checks.writers import RUNNING, DatabaseCopies

if TYPE_CHECKING:
    from dr.aws.rds import DbView


@dataclass(frozen=True)
class Direction:
    """Where to read one database's lag now, and whether that copy follows the current writer."""

    database: str
    target: LagTarget | None
    """The copy to read the lag on (None: no copy replicates now)."""
    known: bool
    """False when no copy of the database could be read: nothing can be said, the old values are kept."""
    following: bool
    """`target` replicates from the current writer, from another region, with no replication error."""


def direction_of(found: DatabaseCopies) -> Direction:
    """The direction of one database from the copies read in this refresh."""
    lineage, name = found.lineage, found.db.name
    if not lineage.copies:
        return Direction(name, None, known=False, following=False)
    current = lineage.current
    if current is not None:
        for copy in lineage.copies:
            if copy.role is Role.REPLICA and copy.region != current.region and lineage.replicates_from_writer(copy):
                ok = copy.replication_state in (None, RUNNING)
                return Direction(name, _target(found, copy, current.region), known=True, following=ok)
        unread = next((c for c in found.unread() if c.region != current.region), None)
        if unread is not None:  # its region did not answer: read (and fail on) its lag, never drop the series
            lost = LagTarget(name, found.db.engine, unread.loc.env, unread.region, unread.loc.id, current.region)
            return Direction(name, lost, known=True, following=False)
        return Direction(name, None, known=True, following=False)
    replica = next((c for c in lineage.copies if c.role is Role.REPLICA and c.exists), None)
    target = _target(found, replica, _region_of_arn(replica.source_arn, replica.region)) if replica else None
    return Direction(name, target, known=True, following=False)


def replication_up(direction: Direction, sample: LagSample | None) -> float | None:
    """1.0 when the copy following the current writer has a lag datapoint >= 0 in this refresh, else 0.0;
    None when no copy could be read."""
    if not direction.known:
        return None
    fresh = sample is not None and sample.error is None and sample.seconds is not None and sample.seconds >= 0
    return 1.0 if direction.following and fresh else 0.0


def _target(found: DatabaseCopies, copy: DbView, source_region: str) -> LagTarget:
    return LagTarget(found.db.name, found.db.engine, copy.env, copy.region, copy.id, source_region)


def _region_of_arn(arn: str | None, default: str) -> str:
    """The region of an RDS ARN (arn:aws:rds:REGION:ACCOUNT:...); a plain id names a copy in `default`."""
    parts = (arn or "").split(":")
    return parts[3] if len(parts) > 4 and parts[0] == "arn" and parts[3] else default
