"""Every engine x every DNS strategy, planned and unplanned, on its own one-database topology."""

from __future__ import annotations

from pathlib import Path

import pytest

from dr.config import Topology, load
from dr.config.model import DnsStrategy, Engine
from tests.conftest import EXAMPLE
from tests.failover_support import answer_of, harness, step

CASES = [
    (Engine.RDS_INSTANCE, DnsStrategy.UPSERT, True),
    (Engine.RDS_INSTANCE, DnsStrategy.FAILOVER_ROUTING, False),
    (Engine.AURORA_CLUSTER, DnsStrategy.UPSERT, False),
    (Engine.AURORA_CLUSTER, DnsStrategy.FAILOVER_ROUTING, True),
    (Engine.AURORA_GLOBAL, DnsStrategy.UPSERT, True),
    (Engine.AURORA_GLOBAL, DnsStrategy.FAILOVER_ROUTING, False),
]


def one_of_each(engine: Engine, strategy: DnsStrategy) -> Topology:
    example = load(EXAMPLE)
    return example.model_copy(update={
        "databases": [next(d for d in example.databases if d.engine is engine)],
        "dns": [next(r for r in example.dns if r.strategy is strategy)],
    })


class TestEngineByStrategy:
    @pytest.mark.parametrize(("engine", "strategy", "planned"), CASES,
                             ids=[f"{e}-{s}-{'planned' if p else 'unplanned'}" for e, s, p in CASES])
    def test_failover_moves_the_database_and_the_record(
        self, tmp_path: Path, engine: Engine, strategy: DnsStrategy, planned: bool
    ) -> None:
        """The DR copy ends a writer and Route53 answers the qa target, whatever engine and strategy."""
        with harness(tmp_path, one_of_each(engine, strategy)) as h:
            record = h.topology.dns[0]
            outcome = h.run("failover", "qa", planned=None if planned else False)
            assert outcome.exit_code == 0, outcome.report
            db = h.topology.databases[0]
            assert step(outcome.report, f"promote:{db.name}")["status"] == "succeeded"
            assert ("unplanned" in step(outcome.report, "prechecks")["detail"]) is not planned
            assert answer_of(h.route53(), record) == record.targets["qa"]
            if engine is Engine.AURORA_GLOBAL:
                glob = h.rds("eu-west-1").describe_global_clusters(
                    GlobalClusterIdentifier=db.global_cluster_id)["GlobalClusters"][0]
                writer = next(m for m in glob["GlobalClusterMembers"] if m["IsWriter"])
                assert writer["DBClusterArn"].endswith(f":cluster:{db.replica.id}")
            else:
                kind = "db_clusters" if engine is Engine.AURORA_CLUSTER else "db_instances"
                found = getattr(h.rds("eu-west-1"), f"describe_{kind}")(
                    **({"DBClusterIdentifier": db.replica.id} if kind == "db_clusters"
                       else {"DBInstanceIdentifier": db.replica.id}))
                member = (found.get("DBClusters") or found.get("DBInstances"))[0]
                assert not member.get("ReplicationSourceIdentifier")
                assert not member.get("ReadReplicaSourceDBInstanceIdentifier")
