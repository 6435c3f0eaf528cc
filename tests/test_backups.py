"""The promoted Aurora clusters' backups steps (runbooks/steps/backups.py `KeepClusterBackups`) read AWS through one
shared listing per account, region and kind, and verify a ModifyDBCluster only from a listing begun after it.

The steps are driven by hand after a failover on the in-process sandbox; every AWS call advances the fake clock a
millisecond, as a real call takes time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.estate import EstateSize, build
from runbooks.steps._common import is_cluster, moves, region
from runbooks.steps.backups import KeepClusterBackups
from runbooks.steps.rds_watch import MAX_AGE, RdsWatch
from tests.failover_support import Harness, harness

ESTATE = EstateSize(databases=9, records=3, zones=1, eks_clusters=1, ecs_services=1, asgs=1)
"""Nine databases, three per engine: six promoted clusters (three Aurora, three Aurora global)."""


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    with harness(tmp_path, build(ESTATE)) as built:
        assert built.run("failover", "qa").exit_code == 0
        built.faults.on_call = lambda service, operation, region: built.clock.advance(0.001)
        yield built


def backup_steps(h: Harness) -> list[KeepClusterBackups]:
    ctx = h.context("failover", "qa")
    todo = [m for m in moves(ctx) if is_cluster(m.db.engine)]
    watch = RdsWatch(scope=[(m.db, m.new) for m in todo])
    return [KeepClusterBackups(m, watch) for m in todo]


class TestBackupsShareOneListing:
    def test_a_poll_of_six_clusters_costs_one_cluster_describe(self, h: Harness) -> None:
        """is_done of every promoted cluster reads one DescribeDBClusters in the DR region (a describe per cluster
        made 6), and all six already keep the topology's backups after the failover."""
        ctx = h.context("failover", "qa")
        steps = backup_steps(h)
        assert len(steps) == 6
        h.faults.calls.clear()
        assert all(s.is_done(ctx) for s in steps)
        dr_region = region(ctx, steps[0].move.new)
        assert h.faults.count("rds", "DescribeDBClusters") == 1
        assert {r for s, o, r in h.faults.calls if o == "DescribeDBClusters"} == {dr_region}

    def test_a_changed_retention_is_set_and_verified_from_a_listing_begun_after_the_modify(self, h: Harness) -> None:
        """A cluster whose retention was changed by hand: act sets the topology's back, and waiting_on, asked at
        once (the listing still young), reads AWS again and sees it set."""
        ctx = h.context("failover", "qa")
        steps = backup_steps(h)
        step = steps[0]
        settings = ctx.topology.settings_for(step.move.new)
        client = h.rds(region(ctx, step.move.new), step.move.new.env)
        client.modify_db_cluster(DBClusterIdentifier=step.move.new.id, ApplyImmediately=True,
                                 BackupRetentionPeriod=settings.retention_days + 3)
        h.clock.advance(MAX_AGE + 0.01)
        assert not step.is_done(ctx)
        assert all(s.is_done(ctx) for s in steps[1:])  # the same listing answers the others
        detail = step.act(ctx)
        assert detail is not None
        assert f"backup retention {settings.retention_days + 3} days, expected {settings.retention_days}" in detail
        h.faults.calls.clear()
        assert step.waiting_on(ctx) is None
        assert h.faults.count("rds", "DescribeDBClusters") == 1
        assert h.faults.count("rds", "ModifyDBCluster") == 0
        found = client.describe_db_clusters(DBClusterIdentifier=step.move.new.id)["DBClusters"][0]
        assert found["BackupRetentionPeriod"] == settings.retention_days
