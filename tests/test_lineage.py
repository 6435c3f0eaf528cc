"""Lineage: the current writer is the writable copy of the highest generation; every other writable copy is stale."""

from __future__ import annotations

from dr.aws.lineage import FENCED_TAG, GENERATION_TAG, SOURCE_GENERATION_TAG, lineage_of
from dr.aws.rds import DbView, Role
from dr.config.model import Engine


def copy(db_id: str, region: str, *, gen: int | None = None, role: Role = Role.STANDALONE, status: str = "available",
         source: str | None = None, fenced: bool = False, extra: tuple[tuple[str, str], ...] = ()) -> DbView:
    tags = list(extra)
    if gen is not None:
        tags.append((GENERATION_TAG, str(gen)))
    if fenced:
        tags.append((FENCED_TAG, "run-1"))
    return DbView(db_id, Engine.RDS_INSTANCE, "prod", region, exists=True, status=status, role=role,
                  arn=f"arn:aws:rds:{region}:111111111111:db:{db_id}", source_arn=source, tags=tuple(tags))


PRIMARY = copy("orders-db", "eu-central-1", role=Role.PRIMARY)


class TestCurrentWriter:
    def test_untagged_primary_with_a_replica_is_the_writer(self) -> None:
        """Before any move: the original primary (generation 0) writes, its replica does not count."""
        replica = copy("orders-db-euw1", "eu-west-1", role=Role.REPLICA, source=PRIMARY.arn)
        lineage = lineage_of("orders", Engine.RDS_INSTANCE, [PRIMARY, replica])
        assert lineage.current == PRIMARY
        assert lineage.replicates_from_writer(replica)
        assert lineage.stale == []

    def test_a_promoted_copy_outranks_the_copy_it_left_behind(self) -> None:
        """After an unplanned failover the old primary is standalone and writable, but stale (generation 0 < 1)."""
        old = copy("orders-db", "eu-central-1")
        new = copy("orders-db-euw1", "eu-west-1", gen=1)
        lineage = lineage_of("orders", Engine.RDS_INSTANCE, [old, new])
        assert lineage.current == new
        assert lineage.stale == [old]
        assert len(lineage.writers) == 2
        assert not lineage.is_current(old)

    def test_fenced_and_stopped_copies_are_not_writers(self) -> None:
        """A fenced copy and a stopped one take no writes: they are neither writer nor stale."""
        fenced = copy("orders-db-fenced-run1", "eu-central-1", fenced=True)
        stopped = copy("orders-db-old", "eu-central-1", status="stopped")
        new = copy("orders-db-euw1", "eu-west-1", gen=1)
        lineage = lineage_of("orders", Engine.RDS_INSTANCE, [fenced, stopped, new])
        assert lineage.writers == [new]
        assert lineage.stale == []

    def test_a_fence_tag_on_a_copy_still_under_its_own_id_does_not_fence_it(self) -> None:
        """A fence interrupted between its tag and its rename left the endpoint in place: still a writer."""
        tagged = copy("orders-db", "eu-central-1", fenced=True)
        lineage = lineage_of("orders", Engine.RDS_INSTANCE, [tagged, copy("orders-db-euw1", "eu-west-1", gen=1)])
        assert len(lineage.writers) == 2
        assert lineage.stale == [tagged]

    def test_two_writers_of_one_generation_are_ambiguous(self) -> None:
        """Two untagged standalone copies (a promotion by hand): nobody can tell the writer; it says so."""
        lineage = lineage_of("orders", Engine.RDS_INSTANCE,
                             [copy("orders-db", "eu-central-1"), copy("orders-db-euw1", "eu-west-1")])
        assert lineage.current is None
        assert lineage.ambiguous
        assert "none tagged" in lineage.describe()

    def test_next_generation_is_above_every_generation_seen(self) -> None:
        """Copies' tags, a replica's source generation and journal values all raise the next generation."""
        replica = copy("orders-db", "eu-central-1", role=Role.REPLICA, source="x",
                       extra=((SOURCE_GENERATION_TAG, "3"),))
        lineage = lineage_of("orders", Engine.RDS_INSTANCE, [replica, copy("orders-db-euw1", "eu-west-1", gen=2)])
        assert lineage.next_generation() == 4
        assert lineage.next_generation(7) == 8

    def test_an_unreadable_copy_is_counted_not_guessed(self) -> None:
        """A copy whose region did not answer is left out and counted as unread."""
        lineage = lineage_of("orders", Engine.RDS_INSTANCE, [None, copy("orders-db-euw1", "eu-west-1", gen=1)])
        assert lineage.unread == 1
        assert lineage.current is not None
        assert lineage.current.id == "orders-db-euw1"


class TestDormantCopies:
    def test_a_stopped_unfenced_copy_beside_a_newer_writer_is_dormant_stale(self) -> None:
        """Stopped takes no writes today, but AWS restarts it within 7 days: it is listed as a stale writer in
        waiting; a fenced stopped copy and a stopped replica are not."""
        stopped = copy("orders-db", "eu-central-1", status="stopped")
        fenced = copy("orders-db-fenced-run1", "eu-central-1", status="stopped", fenced=True)
        new = copy("orders-db-euw1", "eu-west-1", gen=1)
        lineage = lineage_of("orders", Engine.RDS_INSTANCE, [stopped, fenced, new])
        assert lineage.writers == [new]
        assert lineage.dormant_stale == [stopped]
        assert "stopped, not fenced orders-db (eu-central-1, generation 0)" in lineage.describe()

    def test_no_dormant_stale_copy_without_a_current_writer(self) -> None:
        """With nothing writable there is no writer to be stale against: the stopped copy is the database."""
        stopped = copy("orders-db", "eu-central-1", status="stopped")
        lineage = lineage_of("orders", Engine.RDS_INSTANCE, [stopped])
        assert lineage.current is None
        assert lineage.dormant_stale == []
