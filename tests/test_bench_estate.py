"""The benchmark's estate generator and the sandbox's per-database promotion times it relies on."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from benchmarks.estate import EstateSize, PromotionTimes, build, promoted_ids, scaled
from dr.clock import FakeClock
from dr.config import load
from dr.config.model import DnsStrategy, Engine
from dr.sandbox.topology_file import write_topology
from dr.testing.sandbox import in_process_sandbox

SMALL = EstateSize(databases=3, records=4, zones=2, eks_clusters=1, ecs_services=1, asgs=1)


class TestEstate:
    def test_default_estate_has_the_seed_scale(self) -> None:
        """Defaults: 60 databases over three engines, 200 records in 4 zones of both Route53 strategies (upsert,
        failover routing: the estate models no ARC cluster), 100/50/20."""
        topology = build(EstateSize())
        assert Counter(db.engine for db in topology.databases) == dict.fromkeys(Engine, 20)
        assert len(topology.dns) == 200
        assert len({r.zone_id for r in topology.dns}) == 4
        assert {r.strategy for r in topology.dns} == {DnsStrategy.UPSERT, DnsStrategy.FAILOVER_ROUTING}
        ready = topology.readiness["qa"]
        assert (len(ready.eks_clusters), len(ready.ecs_services), len(ready.autoscaling_groups)) == (100, 50, 20)

    def test_written_estate_passes_drctl_validation(self, tmp_path: Path) -> None:
        """The generated topology, written as YAML, loads with drctl's full validation."""
        path = write_topology(build(scaled(10)), tmp_path / "dr.yaml")
        assert len(load(path).databases) == 10

    def test_promotion_times_are_reproducible_and_in_range(self) -> None:
        """The same seed draws the same times, all between low and high."""
        ids = promoted_ids(build(EstateSize()))
        first, second = PromotionTimes().draw(ids), PromotionTimes().draw(ids)
        assert first == second
        assert all(2.0 <= t <= 6.0 for t in first.values())
        assert len(set(first.values())) > 10

    def test_scaled_estate_keeps_the_proportions(self) -> None:
        """200 databases: records, EKS, ECS and ASGs grow by the same factor; zones stay at 4."""
        size = scaled(200)
        assert (size.records, size.zones, size.eks_clusters, size.ecs_services, size.asgs) == (667, 4, 333, 167, 67)


class TestPerDatabasePromotionTime:
    def test_each_database_settles_after_its_own_promotion_time(self, tmp_path: Path) -> None:
        """A per-id time overrides the global one for that replica only (all three engines)."""
        clock = FakeClock()
        with in_process_sandbox(build(SMALL), tmp_path, clock=clock) as sbx:
            sbx.control.set_promotion_seconds(100.0)
            dbs = {db.engine: db for db in sbx.topology.databases}
            sbx.control.set_promotion_seconds_for(dbs[Engine.RDS_INSTANCE].replica.id, 5.0)
            sbx.control.set_promotion_seconds_for(dbs[Engine.AURORA_CLUSTER].replica.id, 10.0)
            west = sbx.clients.client("rds", "prod", "eu-west-1")
            west.promote_read_replica(DBInstanceIdentifier=dbs[Engine.RDS_INSTANCE].replica.id)
            west.promote_read_replica_db_cluster(DBClusterIdentifier=dbs[Engine.AURORA_CLUSTER].replica.id)
            events = {e.identifier: (e.done_at - e.requested_at).total_seconds()
                      for e in sbx.control.promotion_events()}
            assert events == {dbs[Engine.RDS_INSTANCE].replica.id: 5.0, dbs[Engine.AURORA_CLUSTER].replica.id: 10.0}
            clock.advance(6.0)
            instance = west.describe_db_instances(DBInstanceIdentifier=dbs[Engine.RDS_INSTANCE].replica.id)
            cluster = west.describe_db_clusters(DBClusterIdentifier=dbs[Engine.AURORA_CLUSTER].replica.id)
            assert instance["DBInstances"][0]["DBInstanceStatus"] == "available"
            assert cluster["DBClusters"][0]["Status"] == "promoting"

    def test_clearing_a_per_id_time_falls_back_to_the_global_time(self, tmp_path: Path) -> None:
        """set_promotion_seconds_for(id, None) removes the override."""
        with in_process_sandbox(build(SMALL), tmp_path, clock=FakeClock()) as sbx:
            replica = next(db for db in sbx.topology.databases if db.engine is Engine.AURORA_GLOBAL)
            sbx.control.set_promotion_seconds(7.0)
            sbx.control.set_promotion_seconds_for(replica.replica.id, 2.0)
            sbx.control.set_promotion_seconds_for(replica.replica.id, None)
            west = sbx.clients.client("rds", "prod", "eu-west-1")
            arn = west.describe_db_clusters(DBClusterIdentifier=replica.replica.id)["DBClusters"][0]["DBClusterArn"]
            west.switchover_global_cluster(GlobalClusterIdentifier=replica.global_cluster_id,
                                           TargetDbClusterIdentifier=arn)
            (event,) = sbx.control.promotion_events()
            assert (event.done_at - event.requested_at).total_seconds() == 7.0


class TestBenchOptions:
    def test_promotions_option_sets_the_drawn_range(self) -> None:
        """--promotions LOW MODE HIGH replaces the default 2-3-6 s distribution for every size."""
        from benchmarks.run import parser, plan_from

        plan = plan_from(parser().parse_args(["--sizes", "10", "--promotions", "20", "30", "60"]))
        times = plan.scenario.promotions
        assert (times.low, times.mode, times.high) == (20.0, 30.0, 60.0)
        assert all(20.0 <= t <= 60.0 for t in times.draw([f"db{i}" for i in range(50)]).values())

    def test_an_impossible_range_is_a_usage_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        """LOW > MODE is refused with exit 2 and a message naming the option, before anything starts."""
        from benchmarks.run import main

        with pytest.raises(SystemExit) as exited:
            main(["--promotions", "30", "20", "60"])
        assert exited.value.code == 2
        assert "--promotions LOW MODE HIGH needs 0 < LOW <= MODE <= HIGH" in capsys.readouterr().err
