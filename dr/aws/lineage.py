"""Who is the writer of a database: a recorded fact, not a guess.

Every move drctl makes tags the copy it makes the writer with `drctl:generation` (one more than the writer it
replaces) in that copy's own region, before asking AWS to promote it; a copy fenced by drctl carries
`drctl:fenced-by-run`. An untagged standalone copy is generation 0 (the original primary). So, per database:

- a *writable* copy is one that exists, replicates from nothing, is not stopped and is not fenced;
- the *current writer* is the writable copy of the highest generation (for Aurora global: the global cluster's
  writer member, which AWS itself keeps unique);
- every other writable copy is *stale*: it holds writes only up to the move that left it behind. A stale copy is
  never promoted, never a DNS target, never the source of a new replica, and no fence touches the current writer;
- a *dormant* copy is a stopped standalone copy that no fence renamed: it takes no writes today, but AWS starts a
  stopped DB instance or cluster again by itself after seven days (StopDBInstance / StopDBCluster, Amazon RDS API
  Reference), and then it serves writes under its old endpoint. Beside a current writer it is a stale writer in
  waiting.

Pure functions over `DbView`s (the tags come with every DescribeDBInstances/DescribeDBClusters answer): no call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dr.aws.rds import DbView, Role, same_resource
from dr.config.model import Engine

GENERATION_TAG = "drctl:generation"
"""The move number that made this copy the writer (0, or absent, for the original primary)."""
DATABASE_TAG = "drctl:database"
"""The topology's name of the database this copy belongs to (found again after a rename)."""
FENCED_TAG = "drctl:fenced-by-run"
"""Set by the fence: the run that fenced this former writer (it was renamed away from its endpoint)."""
FENCE_HOW_TAG = "drctl:fence"
"""How the copy was fenced (`renamed`), so `drctl status` and the undo instructions can say it."""
SOURCE_GENERATION_TAG = "drctl:source-generation"
"""On a replica drctl created: the generation of the writer it replicates from."""
ROLE_TAG = "drctl:role"

NOT_SERVING = frozenset({"stopped", "stopping", "deleting", "inaccessible-encryption-credentials"})
"""States in which a copy takes no writes."""
STOPPED = frozenset({"stopped", "stopping"})
"""States AWS leaves by itself: a stopped instance or cluster is started again automatically after seven days."""
AUTO_START_DAYS = 7


def generation(found: DbView) -> int:
    """The copy's generation tag (0 when absent or unreadable)."""
    text = found.tag(GENERATION_TAG)
    try:
        return int(text) if text is not None else 0
    except ValueError:
        return 0


def is_fenced(found: DbView) -> bool:
    """Tagged by a drctl fence *and* renamed away (`<id>-fenced-<run>`): a tag alone, on a copy still under its
    own id (a fence interrupted before its rename), keeps the endpoint and takes writes."""
    return found.tag(FENCED_TAG) is not None and "-fenced-" in found.id


def writable(found: DbView) -> bool:
    """Exists, replicates from nothing, serves, and no fence stands in the way: applications can write to it."""
    if not found.exists or found.source_arn or found.role is Role.REPLICA:
        return False
    return (found.status or "") not in NOT_SERVING and not is_fenced(found)


def dormant(found: DbView) -> bool:
    """Stopped (or stopping), replicates from nothing and not fenced: writable again once AWS restarts it."""
    if not found.exists or found.source_arn or found.role is Role.REPLICA:
        return False
    return (found.status or "") in STOPPED and not is_fenced(found)


@dataclass(frozen=True)
class Lineage:
    """The copies of one database that could be read (`unread` counts those whose region did not answer)."""

    database: str
    engine: Engine
    copies: tuple[DbView, ...]
    unread: int = 0

    @property
    def writers(self) -> list[DbView]:
        """Every writable copy: more than one is a split-brain risk."""
        return [c for c in self.copies if writable(c)]

    @property
    def current(self) -> DbView | None:
        """The current writer, or None: no writable copy, or two of the same highest generation (ambiguous)."""
        writers = self.writers
        if self.engine is Engine.AURORA_GLOBAL:
            primary = [c for c in writers if c.role is Role.PRIMARY]
            return primary[0] if len(primary) == 1 else (writers[0] if len(writers) == 1 else None)
        if not writers:
            return None
        top = max(generation(c) for c in writers)
        best = [c for c in writers if generation(c) == top]
        return best[0] if len(best) == 1 else None

    @property
    def ambiguous(self) -> bool:
        """Two or more writable copies, none of which can be told to be the writer."""
        return len(self.writers) > 1 and self.current is None

    @property
    def stale(self) -> list[DbView]:
        """Writable copies that are not the current writer."""
        current = self.current
        return [c for c in self.writers if current is None or c.arn != current.arn or c.id != current.id]

    @property
    def dormant_stale(self) -> list[DbView]:
        """Dormant copies beside a current writer of at least their generation: stale writers once restarted."""
        current = self.current
        if current is None:
            return []
        return [c for c in self.copies if dormant(c) and generation(c) <= generation(current)]

    def is_current(self, found: DbView) -> bool:
        current = self.current
        return current is not None and current.id == found.id and current.region == found.region

    def replicates_from_writer(self, found: DbView) -> bool:
        """`found` is a replica whose source is the current writer."""
        current = self.current
        return bool(current is not None and current.arn and found.exists and found.source_arn
                    and same_resource(found.source_arn, current.arn))

    def next_generation(self, *known: int) -> int:
        """The generation a promotion now makes: one more than any generation seen (copies, tags, journal)."""
        seen = [generation(c) for c in self.copies] + [int(s) for c in self.copies
                                                       if (s := c.tag(SOURCE_GENERATION_TAG)) and s.isdigit()]
        return max([0, *seen, *known]) + 1

    def describe(self) -> str:
        """One line for humans: who writes, who is stale."""
        current = self.current
        if current is None:
            if not self.writers:
                return f"{self.database}: no writable copy"
            return f"{self.database}: {len(self.writers)} writable copies, none tagged as the newest writer"
        text = f"{self.database}: writer {current.id} ({current.region}, generation {generation(current)})"
        if self.stale:
            text += "; stale writable " + ", ".join(f"{c.id} ({c.region}, generation {generation(c)})"
                                                    for c in self.stale)
        if self.dormant_stale:
            text += "; stopped, not fenced " + ", ".join(f"{c.id} ({c.region}, generation {generation(c)})"
                                                         for c in self.dormant_stale)
        return text


def lineage_of(database: str, engine: Engine, views: Sequence[DbView | None]) -> Lineage:
    """A Lineage from the views that could be read (None: its region did not answer)."""
    read = tuple(v for v in views if v is not None)
    return Lineage(database, engine, read, unread=len(views) - len(read))


def generation_tags(database: str, gen: int, run_id: str) -> list[dict[str, str]]:
    """The tags a promotion writes on the copy it makes the writer."""
    return [{"Key": DATABASE_TAG, "Value": database}, {"Key": GENERATION_TAG, "Value": str(gen)},
            {"Key": "drctl:promoted-by-run", "Value": run_id}, {"Key": ROLE_TAG, "Value": "writer"}]
