"""The exporter against moto: the seeded sandbox read through the real adapters, batching, promtool lint."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_support import promtool

from benchmarks.exporter_bench import create_rds_pairs as seed_pairs
from benchmarks.exporter_bench import topology_of
from dr.aws.factory import ClientFactory
from dr.aws.faults import Faults
from dr.aws.lag_metrics import lag_metric
from dr.clock import SYSTEM_CLOCK
from dr.config.model import Topology
from dr.metrics.exporter import Exporter

pytestmark = pytest.mark.usefixtures("aws")


def put_lag(clients: ClientFactory, topology: Topology, database: str, seconds: float) -> None:
    """Publish one lag datapoint for `database`'s replica, stamped now: newer than any datapoint seeding put
    (an older one could share or not share a one-minute period with seeding's, depending on the clock)."""
    db = next(d for d in topology.databases if d.name == database)
    metric = lag_metric(db.engine)
    clients.client("cloudwatch", db.replica.env, topology.region_of(db.replica)).put_metric_data(
        Namespace=metric.namespace,
        MetricData=[{"MetricName": metric.metric, "Value": seconds / metric.to_seconds,
                     "Timestamp": datetime.now(UTC),
                     "Dimensions": metric.cloudwatch_dimensions(db.replica.id)}])


def create_rds_pairs(topology: Topology) -> None:
    """The benchmark's RDS pairs (primary in eu-central-1, replica in eu-west-1), each with lag 3 s stamped now."""
    clients = ClientFactory(topology, run_id="seed")
    seed_pairs(topology, clients)
    for db in topology.databases:
        put_lag(clients, topology, db.name, 3.0)


@pytest.fixture(scope="module")
def seeded_exposition(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Exporter]:
    """The example topology seeded into the in-process sandbox (moto with the extensions the seed needs),
    orders' lag at 42 s, read by one exporter refresh."""
    from dr.testing.sandbox import in_process_sandbox

    with pytest.MonkeyPatch.context() as env:
        for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
            env.delenv(var, raising=False)
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        path = Path(__file__).resolve().parent.parent / "dr" / "examples" / "dr.yaml"
        with in_process_sandbox(path, tmp_path_factory.mktemp("seeded")) as box:
            orders = next(d for d in box.topology.databases if d.name == "orders")
            box.control.set_replica_lag("111111111111", "eu-west-1", str(orders.engine), orders.replica.id, 42.0)
            exporter = Exporter(box.topology, clients=box.clients)
            exporter.refresh_once()
            return generate_latest(exporter.registry).decode(), exporter


def sample(text: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return float(s.value)
    return None


class TestSeededSandbox:
    def test_lag_is_read_from_cloudwatch(self, seeded_exposition: tuple[str, Exporter]) -> None:
        """The replica lag published in the replica's account and region is exported in seconds."""
        text, _ = seeded_exposition
        assert sample(text, "drctl_replication_lag_seconds", database="orders", source_region="eu-central-1",
                      replica_region="eu-west-1") == 42.0
        age = sample(text, "drctl_replication_lag_sample_age_seconds", database="orders")
        assert age is not None
        assert 0 <= age < 300

    def test_health_checks_and_active_sites_are_read_from_route53(
            self, seeded_exposition: tuple[str, Exporter]) -> None:
        """Every seeded health check is healthy (not the RECOVERY_CONTROL ones, which follow routing controls) and
        every record serves prod after seeding."""
        text, _ = seeded_exposition
        families = {f.name: f for f in text_string_to_metric_families(text)}
        health = families["drctl_health_check_healthy"].samples
        assert len(health) == 6
        assert all(s.value == 1.0 for s in health)
        active = {(s.labels["record"], s.labels["env"]) for s in families["drctl_active_site_info"].samples}
        assert active == {("api.example.com.", "prod"), ("www.example.com.", "prod"),
                          ("payments.internal.example.com.", "prod"), ("shop.example.com.", "prod")}

    def test_readiness_is_exported_per_environment_and_check(self, seeded_exposition: tuple[str, Exporter]) -> None:
        """Readiness of both DR sides is exported with the checks engineer's check kinds."""
        text, _ = seeded_exposition
        envs = {s.labels["env"] for f in text_string_to_metric_families(text) if f.name == "drctl_readiness_ok"
                for s in f.samples}
        assert envs == {"prod", "qa"}
        assert sample(text, "drctl_readiness_ok", env="qa", check="eks-cluster") == 1.0

    def test_each_database_has_one_writer_replicated_from(self, seeded_exposition: tuple[str, Exporter]) -> None:
        """In the seeded steady state every database has one writable copy and a replica following it."""
        text, _ = seeded_exposition
        for database in ("orders", "customers", "inventory", "payments"):
            assert sample(text, "drctl_writers", database=database) == 1.0
            assert sample(text, "drctl_replication_up", database=database) == 1.0

    def test_no_source_failed(self, seeded_exposition: tuple[str, Exporter]) -> None:
        """A healthy sandbox gives zero exporter errors and a last-refresh timestamp."""
        text, _ = seeded_exposition
        for source in ("lag", "readiness", "health", "dns", "writers"):
            assert sample(text, "drctl_exporter_errors_total", source=source) == 0.0
        assert sample(text, "drctl_exporter_last_refresh_timestamp_seconds") is not None

    @pytest.mark.promtool
    def test_exposition_passes_promtool_check_metrics(self, seeded_exposition: tuple[str, Exporter]) -> None:
        """`promtool check metrics` finds no problem in the exporter's real output."""
        text, _ = seeded_exposition
        result = promtool("check", "metrics", stdin=text)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.strip() == ""


class TestBatching:
    @pytest.mark.parametrize(("replicas", "calls"), [(200, 1), (500, 1), (501, 2)])
    def test_lag_of_all_replicas_takes_one_get_metric_data_call_per_500(self, replicas: int, calls: int) -> None:
        """Reading N replicas' lag in one region makes ceil(N / 500) GetMetricData calls, never one per database."""
        from dr.checks.lag import read_lags

        topology = topology_of(replicas)
        faults = Faults()
        samples = read_lags(topology, ClientFactory(topology, run_id="exporter", faults=faults), SYSTEM_CLOCK)
        assert len(samples) == replicas
        assert faults.count("cloudwatch", "GetMetricData") == calls

    def test_whole_refresh_reads_each_lag_series_once(self) -> None:
        """A refresh of seeded replicas (lag read + readiness of both sides + writers) makes one GetMetricData
        call and one DescribeDBInstances per account and region, whatever the number of databases."""
        topology = topology_of(12)
        create_rds_pairs(topology)
        faults = Faults()
        exporter = Exporter(topology, clients=ClientFactory(topology, run_id="exporter", faults=faults))
        assert exporter.refresh_once()
        assert faults.count("cloudwatch", "GetMetricData") == 1
        assert faults.count("rds", "DescribeDBInstances") == 2
        text = generate_latest(exporter.registry).decode()
        assert sample(text, "drctl_readiness_ok", env="qa", check="lag-within-rpo") == 1.0
        assert sample(text, "drctl_writers", database="db0003") == 1.0

    def test_regional_outage_counts_an_error_and_keeps_age_growing(self) -> None:
        """With the replicas' region unreachable the lag read fails: errors_total{source=lag} rises, readiness's
        failed reads count for readiness, and replication is not up."""
        topology = topology_of(3)
        topology = topology.model_copy(update={"aws": topology.aws.model_copy(update={"max_attempts": 1})})
        create_rds_pairs(topology)
        faults = Faults(outage_regions={"eu-west-1"})
        exporter = Exporter(topology, clients=ClientFactory(topology, run_id="exporter", faults=faults))
        exporter.refresh_once()
        text = generate_latest(exporter.registry).decode()
        assert sample(text, "drctl_exporter_errors_total", source="lag") == 1.0
        assert sample(text, "drctl_replication_lag_sample_age_seconds", database="db0000") == float("inf")
        assert sample(text, "drctl_exporter_errors_total", source="writers") == 1.0
        assert sample(text, "drctl_exporter_errors_total", source="readiness") == 1.0  # read failures, not verdicts
        assert sample(text, "drctl_replication_up", database="db0000") == 0.0
        assert sample(text, "drctl_writers", database="db0000") is None  # unknown, never a made-up count


class TestOutageLogging:
    def test_both_regions_unreachable_log_at_most_one_line_per_source_per_refresh(
            self, caplog: pytest.LogCaptureFixture) -> None:
        """AWS unreachable in both regions, 12 databases: each refresh logs at most one warning per source
        (never one per database or check) and no traceback; every source counts its error."""
        topology = topology_of(12)
        topology = topology.model_copy(update={"aws": topology.aws.model_copy(update={"max_attempts": 1})})
        create_rds_pairs(topology)
        faults = Faults(outage_regions={"eu-central-1", "eu-west-1", "us-east-1"})
        exporter = Exporter(topology, clients=ClientFactory(topology, run_id="exporter", faults=faults))
        with caplog.at_level("DEBUG", logger="dr"):
            exporter.refresh_once()
            exporter.refresh_once()
        warnings = [r for r in caplog.records if r.levelname == "WARNING"]
        assert 0 < len(warnings) <= 2 * 5
        assert all(r.exc_info is None for r in caplog.records)
        text = generate_latest(exporter.registry).decode()
        assert sample(text, "drctl_exporter_errors_total", source="writers") == 2.0
        assert sample(text, "drctl_exporter_errors_total", source="readiness") == 2.0
