"""Prechecks read the promotion requirements and both sides of every move through shared listings
(runbooks/steps/requirements.py `promotion_requirements`, runbooks/steps/prechecks.py `prechecks_watch`): their RDS
calls do not grow with the number of databases, and a refusal or advice still names its database."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from benchmarks.estate import EstateSize, build
from dr.config.model import Engine
from runbooks.steps._common import Move, moves, region
from runbooks.steps.prechecks import Prechecks, prechecks_watch
from runbooks.steps.requirements import promotion_requirements
from tests.failover_support import Harness, harness


def estate(databases: int) -> EstateSize:
    return EstateSize(databases=databases, records=3, zones=1, eks_clusters=1, ecs_services=1, asgs=1)


def rds_calls_of_prechecks(tmp_path: Path, databases: int) -> Counter[tuple[str, str]]:
    """RDS calls (operation, region) of one prechecks run of a failover to qa over `databases` databases."""
    with harness(tmp_path / str(databases), build(estate(databases))) as h:
        ctx = h.context("failover", "qa")
        assert len(moves(ctx)) == databases
        h.faults.calls.clear()
        verdict = Prechecks().act(ctx)
        assert verdict is not None
        assert verdict.startswith("planned move")
        return Counter((op, reg) for service, op, reg in h.faults.calls if service == "rds")


def a_cluster_move(h: Harness) -> tuple[Move, str]:
    ctx = h.context("failover", "qa")
    move = next(m for m in moves(ctx) if m.db.engine is Engine.AURORA_CLUSTER)
    return move, region(ctx, move.new)


class TestRequirementReadsAreShared:
    def test_the_rds_calls_of_prechecks_do_not_grow_with_the_databases(self, tmp_path: Path) -> None:
        """6 and 24 databases cost the same few RDS calls in prechecks: one listing per account, region and kind,
        which the requirements and the lineage share (a describe per copy made 17 and 47 calls). An instance
        listing may be read twice: when the lineage reads it before the requirements ask for the Aurora members."""
        for databases in (6, 24):
            calls = rds_calls_of_prechecks(tmp_path, databases)
            assert set(calls) <= {(op, reg) for op in ("DescribeDBInstances", "DescribeDBClusters",
                                                       "DescribeGlobalClusters")
                                  for reg in ("eu-central-1", "eu-west-1")}
            assert max(calls.values()) <= 2  # the source's two: the reachability probe and the listing
            assert sum(calls.values()) <= 8, calls

    def test_a_headless_cluster_is_refused_by_its_database_name(self, tmp_path: Path) -> None:
        """The DR cluster's only instance deleted: the refusal names the database and the cluster, as before."""
        with harness(tmp_path, build(estate(6))) as h:
            move, reg = a_cluster_move(h)
            client = h.rds(reg, move.new.env)
            cluster = client.describe_db_clusters(DBClusterIdentifier=move.new.id)["DBClusters"][0]
            for member in cluster["DBClusterMembers"]:
                client.delete_db_instance(DBInstanceIdentifier=member["DBInstanceIdentifier"], SkipFinalSnapshot=True)
            ctx = h.context("failover", "qa")
            check = promotion_requirements(ctx, prechecks_watch(ctx))
            assert len(check.refusals) == 1
            assert check.refusals[0].startswith(f"{move.db.name}: {move.new.id} in {reg} has no DB instance "
                                                "(headless): promoted, it could serve nothing.")
            assert f"--db-cluster-identifier {move.new.id} " in check.refusals[0]

    def test_an_unreadable_listing_advises_each_copy_by_name_and_refuses_none(self, tmp_path: Path) -> None:
        """The DR region does not answer: every copy gets the "could not check" advice naming its database, read
        from one failed listing per kind, not a describe per copy."""
        with harness(tmp_path, build(estate(6))) as h:
            _, reg = a_cluster_move(h)
            ctx = h.context("failover", "qa")
            h.faults.outage_regions.add(reg)
            h.faults.calls.clear()
            check = promotion_requirements(ctx)
            assert check.refusals == []
            assert len(check.advice) == len(moves(ctx))
            for m, advice in zip(moves(ctx), check.advice, strict=True):
                assert advice.startswith(f"{m.db.name}: could not check {m.new.id} before promotion: ")
            assert h.faults.count("rds") <= 2
