"""Discovery at the seed's scale: the benchmark estate (60 databases, 200 records) comes back, every listing is
paged, the calls stay inside Route53's burst, and drift names a removed replica and an added database."""

from __future__ import annotations

from pathlib import Path

from test_discover_support import as_topology, database_facts, record_facts

from benchmarks.estate import EstateSize, build
from dr.aws.factory import ClientFactory
from dr.discover import DriftKind, detect_drift, discover
from dr.discover.drift import specs_of
from dr.discover.inputs import skeleton
from dr.testing import in_process_sandbox

PAGE = 20
"""The smallest page RDS serves (MaxRecords 20): the estate's 60 instances per account and region take 3 pages."""
ROUTE53_BURST = 50
"""Route53 answers a burst of 50 requests per account before throttling to 10 per second."""


def test_estate_is_reproduced_paged_within_route53_burst_and_drift_is_reported(tmp_path: Path) -> None:
    """The estate's databases, records and health checks come back through 20-item pages; then a deleted replica
    and a new database with a replica are the drift reported, and nothing else."""
    with in_process_sandbox(build(EstateSize()), tmp_path) as box:
        specs = specs_of(box.topology)
        zones = sorted({r.zone_id for r in box.topology.dns})
        found = discover(specs, ClientFactory(skeleton(specs, "drctl"), run_id="estate"), zones=zones, page_size=PAGE)
        assert database_facts(as_topology(found)) == database_facts(box.topology)
        assert record_facts(as_topology(found)) == record_facts(box.topology)
        # prod's 60 instances (20 RDS, 40 Aurora members) per region take 3 pages each; qa's empty listings one
        assert found.calls["rds"]["DescribeDBInstances"] == 3 + 3 + 1 + 1
        assert found.calls["rds"]["DescribeDBClusters"] == 2 + 2 + 1 + 1  # prod's 40 clusters per region: 2 pages
        assert sum(found.calls["route53"].values()) <= ROUTE53_BURST

        west, central = box.clients.client("rds", "prod", "eu-west-1"), box.clients.client("rds", "prod")
        west.delete_db_instance(DBInstanceIdentifier="app000-db-euw1", SkipFinalSnapshot=True)
        primary = central.create_db_instance(
            DBInstanceIdentifier="app900-db", Engine="postgres", EngineVersion="16.3", DBInstanceClass="db.t3.micro",
            AllocatedStorage=20, MasterUsername="app", MasterUserPassword="sandbox-password-1",
            BackupRetentionPeriod=7)["DBInstance"]
        west.create_db_instance_read_replica(DBInstanceIdentifier="app900-db-euw1", SourceRegion="eu-central-1",
                                             SourceDBInstanceIdentifier=primary["DBInstanceArn"])
        drift, _ = detect_drift(box.topology, box.clients)
        assert [(d.kind, d.path) for d in drift] == [(DriftKind.UNLISTED_DATABASE, "databases"),
                                                     (DriftKind.MISSING_COPY, "databases[0].replica")]
        assert "app900-db" in drift[0].message
