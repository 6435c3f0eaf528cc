"""The exporter's direction: the lag is read on the copy replicating from the current writer, and
drctl_replication_up is 1 only for such a copy in another region, replicating, with lag >= 0."""

from __future__ import annotations

from pathlib import Path

import pytest

from dr.aws.lineage import FENCED_TAG, GENERATION_TAG
from dr.aws.rds import DbView, Role
from dr.checks.lag import LagSample
from dr.checks.writers import Copy, DatabaseCopies
from dr.config import load
from dr.config.model import Database, Engine, Topology
from dr.metrics._direction import direction_of, replication_up

CENTRAL, WEST = "eu-central-1", "eu-west-1"


def view(db_id: str, region: str, *, role: Role, gen: int | None = None, source: str | None = None,
         state: str | None = "replicating", tags: tuple[tuple[str, str], ...] = ()) -> DbView:
    all_tags = (*tags, (GENERATION_TAG, str(gen))) if gen is not None else tags
    return DbView(db_id, Engine.RDS_INSTANCE, "prod", region, exists=True, status="available", role=role,
                  arn=f"arn:aws:rds:{region}:111111111111:db:{db_id}", source_arn=source,
                  replication_state=state if role is Role.REPLICA else None, tags=all_tags)


def arn(db_id: str, region: str) -> str:
    return f"arn:aws:rds:{region}:111111111111:db:{db_id}"


@pytest.fixture
def orders(example_path: Path) -> Database:
    topology: Topology = load(example_path)
    return next(d for d in topology.databases if d.name == "orders")


def copies(db: Database, primary: DbView | None, replica: DbView | None) -> DatabaseCopies:
    error = ConnectionError("region down")
    return DatabaseCopies(db, (Copy("primary", db.primary, CENTRAL, primary, None if primary else error),
                               Copy("replica", db.replica, WEST, replica, None if replica else error)))


def sample(seconds: float | None, error: str | None = None) -> LagSample:
    return LagSample("orders", CENTRAL, WEST, seconds, 30.0 if seconds is not None else None, error=error)


class TestDirection:
    def test_steady_state_reads_the_declared_replica(self, orders: Database) -> None:
        """Primary in eu-central-1 with its replica in eu-west-1: lag eu-central-1 -> eu-west-1, following."""
        found = copies(orders, view("orders-db", CENTRAL, role=Role.PRIMARY),
                       view("orders-db-euw1", WEST, role=Role.REPLICA, source=arn("orders-db", CENTRAL)))
        d = direction_of(found)
        assert d.target is not None
        assert (d.target.source_region, d.target.region, d.target.member_id) == (CENTRAL, WEST, "orders-db-euw1")
        assert d.following
        assert replication_up(d, sample(2.0)) == 1.0

    def test_after_a_failover_there_is_no_lag_to_read_and_replication_is_down(self, orders: Database) -> None:
        """The promoted copy is the writer (generation 1), the old primary fenced: no target, up 0."""
        fenced = view("orders-db-fenced-r1", CENTRAL, role=Role.STANDALONE, tags=((FENCED_TAG, "r1"),))
        found = copies(orders, fenced, view("orders-db-euw1", WEST, role=Role.STANDALONE, gen=1))
        d = direction_of(found)
        assert d.target is None
        assert d.known
        assert replication_up(d, None) == 0.0

    def test_after_reprotect_the_lag_runs_the_other_way(self, orders: Database) -> None:
        """A new replica at prod's location replicating from the promoted writer: lag eu-west-1 -> eu-central-1."""
        writer = view("orders-db-euw1", WEST, role=Role.PRIMARY, gen=1)
        replica = view("orders-db", CENTRAL, role=Role.REPLICA, source=arn("orders-db-euw1", WEST))
        d = direction_of(copies(orders, replica, writer))
        assert d.target is not None
        assert (d.target.source_region, d.target.region, d.target.member_id) == (WEST, CENTRAL, "orders-db")
        assert replication_up(d, sample(1.0)) == 1.0

    def test_a_replica_of_a_stale_copy_protects_nothing(self, orders: Database) -> None:
        """The DR copy replicates from a copy that is not the current writer: no target, up 0."""
        writer = view("orders-db", CENTRAL, role=Role.STANDALONE, gen=2)
        stale_child = view("orders-db-euw1", WEST, role=Role.REPLICA, source=arn("orders-db-old", CENTRAL))
        d = direction_of(copies(orders, writer, stale_child))
        assert d.target is None
        assert replication_up(d, None) == 0.0

    @pytest.mark.parametrize(("state", "lag", "up"), [
        ("replicating", 0.0, 1.0), ("error", 2.0, 0.0), ("replicating", -1.0, 0.0), ("replicating", None, 0.0)])
    def test_up_needs_a_replicating_state_and_a_lag_of_at_least_zero(
            self, orders: Database, state: str, lag: float | None, up: float) -> None:
        """Replication error, lag -1 or no lag datapoint: 0."""
        found = copies(orders, view("orders-db", CENTRAL, role=Role.PRIMARY),
                       view("orders-db-euw1", WEST, role=Role.REPLICA, source=arn("orders-db", CENTRAL), state=state))
        assert replication_up(direction_of(found), sample(lag)) == up

    def test_a_failed_lag_read_is_not_up(self, orders: Database) -> None:
        """A lag sample whose read failed is no evidence of replication: 0."""
        found = copies(orders, view("orders-db", CENTRAL, role=Role.PRIMARY),
                       view("orders-db-euw1", WEST, role=Role.REPLICA, source=arn("orders-db", CENTRAL)))
        assert replication_up(direction_of(found), sample(None, error="timeout")) == 0.0

    def test_an_unreadable_dr_region_still_reads_its_lag_and_is_not_up(self, orders: Database) -> None:
        """The writer answers, its DR copy's region does not: the lag target stays (its read fails), up 0."""
        d = direction_of(copies(orders, view("orders-db", CENTRAL, role=Role.PRIMARY), None))
        assert d.target is not None
        assert (d.target.source_region, d.target.region) == (CENTRAL, WEST)
        assert replication_up(d, sample(None, error="timeout")) == 0.0

    def test_an_unreadable_writer_region_reads_the_replica_it_can(self, orders: Database) -> None:
        """The writer's region does not answer: the readable replica's lag is read (an outage shows -1), up 0."""
        replica = view("orders-db-euw1", WEST, role=Role.REPLICA, source=arn("orders-db", CENTRAL))
        d = direction_of(copies(orders, None, replica))
        assert d.target is not None
        assert (d.target.source_region, d.target.region) == (CENTRAL, WEST)
        assert replication_up(d, sample(-1.0)) == 0.0

    def test_nothing_read_tells_nothing(self, orders: Database) -> None:
        """No copy could be read: up is not told (the old value is held, the error counted)."""
        d = direction_of(copies(orders, None, None))
        assert not d.known
        assert replication_up(d, None) is None
