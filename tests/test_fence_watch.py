"""The fences of a run read AWS through one shared listing per account, region and kind (runbooks/steps/fence.py,
`fence_watch`): a poll of any number of fences costs one describe per kind, and each fence still acts on what AWS
answered once it decided to act and is verified only from what AWS answered after its rename (or stop) returned.

The steps are driven by hand on the in-process sandbox; every AWS call advances the fake clock a millisecond, as
a real call takes time, so "a listing begun after the rename returned" means what it means on AWS.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.estate import EstateSize, build
from dr.config.model import Engine
from dr.engine.step import RunContext
from runbooks.steps._common import Move, moves
from runbooks.steps.fence import FenceLeftBehind, FenceSource, FenceStale, StopFenced, fence_watch, fenced_id
from runbooks.steps.rds_watch import MAX_AGE
from runbooks.steps.reprotect import CreateReplica
from tests.failover_support import Harness, harness, instance

SOURCE = "eu-central-1"
DESCRIBES = ("DescribeDBInstances", "DescribeDBClusters")
ESTATE = EstateSize(databases=9, records=3, zones=1, eks_clusters=1, ecs_services=1, asgs=1)
"""Nine databases, three per engine: six fences (three instances, three Aurora clusters)."""


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    with harness(tmp_path, build(ESTATE)) as built:
        built.faults.on_call = lambda service, operation, region: built.clock.advance(0.001)
        yield built


def source_describes(h: Harness) -> dict[str, int]:
    """Describes made in the source region since the calls were last cleared, by operation."""
    return {op: sum(1 for s, o, r in h.faults.calls if s == "rds" and o == op and r == SOURCE) for op in DESCRIBES}


def plain_moves(ctx: RunContext) -> list[Move]:
    return [m for m in moves(ctx) if m.db.engine is not Engine.AURORA_GLOBAL]


def source_fences(h: Harness) -> tuple[RunContext, list[FenceSource]]:
    ctx = h.context("failover", "qa")
    todo = plain_moves(ctx)
    watch = fence_watch(ctx.run_id, [(m, m.old) for m in todo])
    return ctx, [FenceSource(m, watch) for m in todo]


class TestFencesShareOneListing:
    def test_a_poll_of_six_fences_costs_one_describe_per_kind(self, h: Harness) -> None:
        """is_done of every fence, then each verify round, read one DescribeDBInstances and one DescribeDBClusters
        in the source region (a describe per fence per poll made 12 a round before)."""
        ctx, fences = source_fences(h)
        assert len(fences) == 6
        h.faults.calls.clear()
        assert not any(f.is_done(ctx) for f in fences)
        assert source_describes(h) == {"DescribeDBInstances": 1, "DescribeDBClusters": 1}
        for fence in fences:
            fence.act(ctx)
        h.clock.advance(MAX_AGE + 0.01)
        for _ in range(2):  # two polls
            h.faults.calls.clear()
            assert all(f.verify(ctx) for f in fences)
            assert source_describes(h) == {"DescribeDBInstances": 1, "DescribeDBClusters": 1}
            h.clock.advance(MAX_AGE + 0.01)
        for move in plain_moves(ctx):
            assert move.old.id not in {i["DBInstanceIdentifier"] for i in
                                       h.rds(SOURCE).describe_db_instances()["DBInstances"]}

    def test_the_rename_is_verified_only_from_a_listing_begun_after_it_returned(self, h: Harness) -> None:
        """A listing read just before the rename (younger than max_age) still names the copy: verify does not
        trust it, reads AWS again and sees the copy renamed away."""
        ctx, fences = source_fences(h)
        fence = next(f for f in fences if f.move.db.engine is Engine.RDS_INSTANCE)
        assert not fence.is_done(ctx)
        fence.act(ctx)
        h.faults.calls.clear()
        assert fence.verify(ctx)
        assert source_describes(h)["DescribeDBInstances"] == 1
        assert instance(h, SOURCE, fence.move.old.id) is None

    def test_a_fence_waits_while_aws_shows_the_copy_renaming(self, h: Harness) -> None:
        """The renamed copy reads `renaming` (its reboot has not ended the sessions yet): not verified, poll after
        poll, until AWS shows it past the rename."""
        ctx, fences = source_fences(h)
        fence = next(f for f in fences if f.move.db.engine is Engine.RDS_INSTANCE)
        account = h.topology.environments["prod"].account_id
        fence.act(ctx)
        renamed = fenced_id(fence.move.old, ctx.run_id)
        h.sbx.control.set_db_status(account, SOURCE, renamed, "renaming")
        for _ in range(3):
            h.clock.advance(MAX_AGE + 0.01)
            assert not fence.verify(ctx)
        h.sbx.control.set_db_status(account, SOURCE, renamed, "available")
        h.clock.advance(MAX_AGE + 0.01)
        assert fence.verify(ctx)

    def test_a_fence_acts_on_a_listing_begun_once_it_decided_to_act(self, h: Harness) -> None:
        """A copy renamed by someone else after the fence's last (still young) read: the fence reads AWS again
        before acting, finds it gone and renames nothing."""
        ctx, fences = source_fences(h)
        fence = next(f for f in fences if f.move.db.engine is Engine.RDS_INSTANCE)
        assert not fence.is_done(ctx)
        h.rds(SOURCE).modify_db_instance(DBInstanceIdentifier=fence.move.old.id,
                                         NewDBInstanceIdentifier=f"{fence.move.old.id}-by-hand", ApplyImmediately=True)
        h.faults.calls.clear()
        assert fence.act(ctx) == f"{fence.move.old.id} is already renamed away"
        assert [c for c in h.mutating_calls() if c[1].startswith("Modify")] == []


    def test_a_retried_fence_of_a_former_writer_already_renamed_calls_nothing(self, h: Harness) -> None:
        """fence-old-writer's act after its rename took effect (a retry after a failed-looking call): the fresh read
        finds the copy gone and the step renames nothing, instead of failing on a missing id."""
        ctx = h.context("failover", "qa")
        move = next(m for m in plain_moves(ctx) if m.db.engine is Engine.RDS_INSTANCE)
        fence = FenceLeftBehind(move, fence_watch(ctx.run_id, [(move, move.old)]))
        assert fence.listings(ctx).member(ctx, move.db, move.old).exists
        h.rds(SOURCE).modify_db_instance(DBInstanceIdentifier=move.old.id, NewDBInstanceIdentifier=fenced_id(
            move.old, ctx.run_id), ApplyImmediately=True)
        h.faults.calls.clear()
        assert fence.act(ctx) == f"{move.old.id} is already renamed away"
        assert h.mutating_calls() == []
        h.clock.advance(MAX_AGE + 0.01)
        assert fence.verify(ctx)


class TestStaleFencesAndStops:
    def test_drctl_fence_and_its_stops_poll_one_listing_per_kind(self, h: Harness) -> None:
        """After an unplanned failover during an outage: the stale prod copies are fenced and then stopped by
        steps sharing one watch; each verify round of the stops reads one unfiltered listing per kind, and the
        stops are verified from listings begun after the stop calls returned (AWS shows them stopped)."""
        h.faults.outage_regions.add(SOURCE)
        assert h.run("failover", "qa", run_id="outage").exit_code == 0
        h.faults.outage_regions.clear()
        ctx = h.context("fence", "prod")
        todo = plain_moves(ctx)
        watch = fence_watch(ctx.run_id, [(m, m.new) for m in todo])
        fences = [FenceStale(m, prefix="fence", watch=watch) for m in todo]
        for fence in fences:
            fence.check(ctx)
            fence.act(ctx)
        h.clock.advance(MAX_AGE + 0.01)
        assert all(f.verify(ctx) for f in fences)
        stops = [StopFenced(m.db, m.new, watch=watch) for m in todo]
        h.faults.calls.clear()
        assert not any(s.is_done(ctx) for s in stops)
        assert source_describes(h) == {"DescribeDBInstances": 1, "DescribeDBClusters": 1}
        for stop in stops:
            stop.act(ctx)
        h.faults.calls.clear()
        assert all(s.verify(ctx) for s in stops)
        assert source_describes(h) == {"DescribeDBInstances": 1, "DescribeDBClusters": 1}
        fenced = [i for i in h.rds(SOURCE).describe_db_instances()["DBInstances"]
                  if "-fenced-" in i["DBInstanceIdentifier"]]
        assert len(fenced) == 3
        assert {i["DBInstanceStatus"] for i in fenced} <= {"stopped", "stopping"}


class TestReprotectSharesTheWatch:
    def test_a_poll_of_every_new_replica_costs_one_describe_per_region_and_kind(self, h: Harness) -> None:
        """Failback's re-protect after a failover: the three instance replicas it creates are waited for through
        the run's watch, one DescribeDBInstances per region a poll (two describes per database per poll before),
        and each ends a replica of the current writer. (The estate's Aurora clusters have binary logging off, so
        AWS lets no cross-Region replica of them be made.)"""
        assert h.run("failover", "qa", run_id="over").exit_code == 0
        ctx = h.context("failback", "prod")
        todo = [m for m in moves(ctx) if m.db.engine is Engine.RDS_INSTANCE]
        watch = fence_watch(ctx.run_id, [(m, m.new) for m in todo])
        creates = [CreateReplica(m, watch) for m in todo]
        for create in creates:
            create.check(ctx)
            create.act(ctx)
        h.clock.advance(60.0)
        h.faults.calls.clear()
        assert all(c.waiting_on(ctx) is None for c in creates)
        per_region = Counter((o, r) for s, o, r in h.faults.calls if s == "rds")
        assert per_region == {("DescribeDBInstances", SOURCE): 1, ("DescribeDBInstances", "eu-west-1"): 1}
        for create in creates:
            assert create.is_done(ctx)
