"""The exporter's refresher, state and collector, with fake sources and a fake clock (no AWS, no sleeping)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_support import http_get

from dr.checks.lag import LagSample
from dr.clock import FakeClock
from dr.config import load
from dr.config.model import Topology
from dr.metrics._state import Labels, Reading
from dr.metrics.exporter import Exporter

INTERVAL = 60.0


class FakeSources:
    """Sources whose next answers the test sets; raising `fail` makes a read fail as AWS would."""

    def __init__(self) -> None:
        self.lag: dict[str, LagSample | None] = {}
        self.readings: dict[str, Reading] = {"readiness": Reading(), "health": Reading(), "dns": Reading(),
                                             "writers": Reading()}
        self.fail: set[str] = set()
        self.calls = 0
        self.refreshes = 0
        self.readiness_lags: list[Mapping[str, LagSample] | None] = []
        self.writers_lags: list[Mapping[str, LagSample | None] | None] = []

    def _read(self, source: str) -> Reading:
        self.calls += 1
        if source in self.fail:
            raise ConnectionError(f"{source}: simulated outage")
        return self.readings[source]

    def begin_refresh(self) -> None:
        self.refreshes += 1

    def lags(self) -> dict[str, LagSample | None]:
        self.calls += 1
        if "lag" in self.fail:
            return {name: LagSample(name, s.source_region, s.replica_region, None, None, error="timeout")
                    for name, s in self.lag.items() if s is not None}
        return self.lag

    def readiness(self, lags: Mapping[str, LagSample] | None = None) -> Reading:
        self.readiness_lags.append(lags)
        return self._read("readiness")

    def health(self) -> Reading:
        return self._read("health")

    def dns(self) -> Reading:
        return self._read("dns")

    def writers(self, lags: Mapping[str, LagSample | None] | None = None) -> Reading:
        self.writers_lags.append(lags)
        return self._read("writers")


def lag(database: str, seconds: float | None, age: float | None = 30.0) -> LagSample:
    return LagSample(database, "eu-central-1", "eu-west-1", seconds, age if seconds is not None else None)


def reading(values: dict[Labels, float], covered: list[Labels] | None = None) -> Reading:
    return Reading(values, frozenset(covered if covered is not None else values))


@pytest.fixture
def topology(example_path: Path) -> Topology:
    return load(example_path)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sources() -> FakeSources:
    return FakeSources()


@pytest.fixture
def exporter(topology: Topology, sources: FakeSources, clock: FakeClock) -> Exporter:
    return Exporter(topology, sources=sources, clock=clock, interval=INTERVAL)


def scrape(exporter: Exporter) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = generate_latest(exporter.registry).decode()
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def get(exporter: Exporter, name: str, **labels: str) -> float | None:
    return scrape(exporter).get((name, frozenset(labels.items())))


ORDERS = {"database": "orders", "source_region": "eu-central-1", "replica_region": "eu-west-1"}


class TestLag:
    def test_lag_and_sample_age_come_from_the_datapoint(
            self, exporter: Exporter, sources: FakeSources, clock: FakeClock) -> None:
        """The lag is the datapoint's value; its age grows with time between refreshes."""
        sources.lag = {"orders": lag("orders", 42.0, age=30.0)}
        assert exporter.refresh_once()
        assert get(exporter, "drctl_replication_lag_seconds", **ORDERS) == 42.0
        assert get(exporter, "drctl_replication_lag_sample_age_seconds", database="orders") == 30.0
        clock.advance(45)
        assert get(exporter, "drctl_replication_lag_sample_age_seconds", database="orders") == 75.0

    def test_broken_replication_is_minus_one(self, exporter: Exporter, sources: FakeSources) -> None:
        """A replica whose replication is not running exports -1."""
        sources.lag = {"orders": lag("orders", -1.0)}
        exporter.refresh_once()
        assert get(exporter, "drctl_replication_lag_seconds", **ORDERS) == -1.0

    def test_database_never_read_has_infinite_age_and_no_lag(self, exporter: Exporter) -> None:
        """Before any datapoint, the age is +Inf (so the stale alert can fire) and no lag value is invented."""
        age = get(exporter, "drctl_replication_lag_sample_age_seconds", database="payments")
        assert age is not None
        assert math.isinf(age)
        assert get(exporter, "drctl_replication_lag_seconds", database="payments", source_region="eu-central-1",
                   replica_region="eu-west-1") is None

    def test_failed_read_keeps_value_with_growing_age_and_counts_an_error(
            self, exporter: Exporter, sources: FakeSources, clock: FakeClock) -> None:
        """A failed lag read keeps the last value, its age keeps growing, errors_total{source=lag} counts it."""
        sources.lag = {"orders": lag("orders", 12.0, age=0.0)}
        exporter.refresh_once()
        first_refresh = get(exporter, "drctl_exporter_last_refresh_timestamp_seconds")
        sources.fail = {"lag"}
        clock.advance(600)
        assert not exporter.refresh_once()
        assert get(exporter, "drctl_replication_lag_seconds", **ORDERS) == 12.0
        assert get(exporter, "drctl_replication_lag_sample_age_seconds", database="orders") == 600.0
        assert get(exporter, "drctl_exporter_errors_total", source="lag") == 1.0
        assert get(exporter, "drctl_exporter_last_refresh_timestamp_seconds") == first_refresh

    def test_readiness_reuses_the_lag_read_of_the_same_refresh(
            self, exporter: Exporter, sources: FakeSources) -> None:
        """Readiness gets this refresh's lag samples, so CloudWatch is not read twice per refresh."""
        sources.lag = {"orders": lag("orders", 7.0)}
        exporter.refresh_once()
        assert sources.readiness_lags == [sources.lag]

    def test_empty_read_keeps_the_previous_datapoint(
            self, exporter: Exporter, sources: FakeSources, clock: FakeClock) -> None:
        """No datapoint in the window keeps the older one and its growing age, without counting an error."""
        sources.lag = {"orders": lag("orders", 5.0, age=0.0)}
        exporter.refresh_once()
        sources.lag = {"orders": lag("orders", None)}
        clock.advance(900)
        assert exporter.refresh_once()
        assert get(exporter, "drctl_replication_lag_sample_age_seconds", database="orders") == 900.0
        assert get(exporter, "drctl_exporter_errors_total", source="lag") == 0.0


    def test_lag_labels_follow_the_direction_and_never_keep_the_old_datapoint(
            self, exporter: Exporter, sources: FakeSources, clock: FakeClock) -> None:
        """After re-protect the lag is read the other way: the series carries the new regions, and an empty
        read in the new direction does not resurrect the old direction's value."""
        sources.lag = {"orders": lag("orders", 2.0, age=0.0)}
        exporter.refresh_once()
        sources.lag = {"orders": LagSample("orders", "eu-west-1", "eu-central-1", None, None)}
        clock.advance(INTERVAL)
        exporter.refresh_once()
        assert get(exporter, "drctl_replication_lag_seconds", **ORDERS) is None
        age = get(exporter, "drctl_replication_lag_sample_age_seconds", database="orders")
        assert age is not None
        assert math.isinf(age)
        sources.lag = {"orders": LagSample("orders", "eu-west-1", "eu-central-1", 4.0, 10.0)}
        exporter.refresh_once()
        assert get(exporter, "drctl_replication_lag_seconds", database="orders", source_region="eu-west-1",
                   replica_region="eu-central-1") == 4.0

    def test_a_database_without_a_replicating_copy_has_no_lag_series(
            self, exporter: Exporter, sources: FakeSources) -> None:
        """None from the lag source (no copy replicates from the writer after a failover): the lag and its age
        disappear instead of showing the old direction's healthy value."""
        sources.lag = {"orders": lag("orders", 2.0)}
        exporter.refresh_once()
        sources.lag = {"orders": None}
        assert exporter.refresh_once()
        assert get(exporter, "drctl_replication_lag_seconds", **ORDERS) is None
        assert get(exporter, "drctl_replication_lag_sample_age_seconds", database="orders") is None

    def test_writers_gets_the_lag_read_of_the_same_refresh(self, exporter: Exporter, sources: FakeSources) -> None:
        """replication_up needs this refresh's lag: the writers source receives it (None when it failed)."""
        sources.lag = {"orders": lag("orders", 7.0), "customers": None}
        exporter.refresh_once()
        assert sources.writers_lags == [sources.lag]


class TestLogging:
    def test_many_failures_of_one_source_log_one_line_per_refresh(
            self, exporter: Exporter, sources: FakeSources, caplog: pytest.LogCaptureFixture) -> None:
        """An AWS outage failing every read: one warning per failing source per refresh, no traceback."""
        sources.readings["health"] = Reading({}, frozenset(), tuple(f"health check hc-{i}: timeout" for i in range(50)))
        sources.fail = {"readiness", "dns", "writers"}
        with caplog.at_level("DEBUG", logger="dr.metrics"):
            exporter.refresh_once()
            exporter.refresh_once()
        warnings = [r for r in caplog.records if r.levelname == "WARNING"]
        assert len(warnings) == 2 * 4
        assert all(r.exc_info is None for r in caplog.records)
        health = [r.getMessage() for r in warnings if "read health" in r.getMessage()]
        assert health[0] == "exporter could not read health: health check hc-0: timeout (and 49 more)"

    def test_debug_logs_the_traceback(self, topology: Topology, sources: FakeSources, clock: FakeClock,
                                      caplog: pytest.LogCaptureFixture) -> None:
        """With debug on, a source that raises logs its traceback."""
        exporter = Exporter(topology, sources=sources, clock=clock, interval=INTERVAL, debug=True)
        sources.fail = {"dns"}
        with caplog.at_level("WARNING", logger="dr.metrics"):
            exporter.refresh_once()
        assert [r.exc_info is not None for r in caplog.records] == [True]


class TestReadinessHealthDns:
    def test_values_are_exported_with_contract_labels(self, exporter: Exporter, sources: FakeSources) -> None:
        """Readiness per (env, check), health per (env, health_check), active site per (record, env)."""
        sources.readings["readiness"] = reading({("qa", "ecs-service"): 0.0, ("qa", "eks-cluster"): 1.0},
                                                [("qa",)])
        sources.readings["health"] = reading({("qa", "hc-1"): 1.0})
        sources.readings["dns"] = reading({("api.example.com.", "prod"): 1.0}, [("api.example.com.",)])
        exporter.refresh_once()
        assert get(exporter, "drctl_readiness_ok", env="qa", check="ecs-service") == 0.0
        assert get(exporter, "drctl_readiness_ok", env="qa", check="eks-cluster") == 1.0
        assert get(exporter, "drctl_health_check_healthy", env="qa", health_check="hc-1") == 1.0
        assert get(exporter, "drctl_active_site_info", record="api.example.com.", env="prod") == 1.0

    def test_active_site_moves_when_the_record_switches(self, exporter: Exporter, sources: FakeSources) -> None:
        """After a failover the state gauge flips 1/0 per side; the deprecated _info keeps only the serving side."""
        api = ("api.example.com.",)
        sources.readings["dns"] = reading({(*api, "prod"): 1.0, (*api, "qa"): 0.0}, [api])
        exporter.refresh_once()
        assert get(exporter, "drctl_active_site", record="api.example.com.", env="prod") == 1.0
        sources.readings["dns"] = reading({(*api, "prod"): 0.0, (*api, "qa"): 1.0}, [api])
        exporter.refresh_once()
        assert get(exporter, "drctl_active_site", record="api.example.com.", env="prod") == 0.0
        assert get(exporter, "drctl_active_site", record="api.example.com.", env="qa") == 1.0
        assert get(exporter, "drctl_active_site_info", record="api.example.com.", env="prod") is None
        assert get(exporter, "drctl_active_site_info", record="api.example.com.", env="qa") == 1.0

    def test_failed_reads_hold_values_for_three_intervals_then_drop_them(
            self, exporter: Exporter, sources: FakeSources, clock: FakeClock) -> None:
        """One flaky read keeps the last value; after three intervals of failures the series disappears."""
        sources.readings["health"] = reading({("qa", "hc-1"): 0.0})
        exporter.refresh_once()
        sources.fail = {"health"}
        clock.advance(INTERVAL)
        exporter.refresh_once()
        assert get(exporter, "drctl_health_check_healthy", env="qa", health_check="hc-1") == 0.0
        clock.advance(3 * INTERVAL)
        exporter.refresh_once()
        assert get(exporter, "drctl_health_check_healthy", env="qa", health_check="hc-1") is None
        assert get(exporter, "drctl_exporter_errors_total", source="health") == 2.0

    def test_partial_failure_counts_an_error_and_keeps_what_was_read(
            self, exporter: Exporter, sources: FakeSources) -> None:
        """A reading with some failed items still updates the rest, and counts one error for the source."""
        sources.readings["health"] = Reading({("qa", "hc-1"): 1.0}, frozenset({("qa", "hc-1")}),
                                             ("health check hc-2: timeout",))
        assert not exporter.refresh_once()
        assert get(exporter, "drctl_health_check_healthy", env="qa", health_check="hc-1") == 1.0
        assert get(exporter, "drctl_exporter_errors_total", source="health") == 1.0


class TestWriters:
    def test_writers_and_replication_up_are_exported_per_database(
            self, exporter: Exporter, sources: FakeSources) -> None:
        """The writers source's (metric, database) values become drctl_writers and drctl_replication_up."""
        sources.readings["writers"] = reading({("drctl_writers", "orders"): 2.0,
                                               ("drctl_replication_up", "orders"): 0.0,
                                               ("drctl_writers", "customers"): 1.0,
                                               ("drctl_replication_up", "customers"): 1.0})
        assert exporter.refresh_once()
        assert get(exporter, "drctl_writers", database="orders") == 2.0
        assert get(exporter, "drctl_writers", database="customers") == 1.0
        assert get(exporter, "drctl_replication_up", database="orders") == 0.0
        assert get(exporter, "drctl_replication_up", database="customers") == 1.0

    def test_failed_writers_read_counts_an_error_and_holds_the_value(
            self, exporter: Exporter, sources: FakeSources, clock: FakeClock) -> None:
        """A writers read that raises never crashes the refresh: errors_total{source=writers} counts it and the
        last value is held (a split brain does not vanish from the alert on one failed read)."""
        sources.readings["writers"] = reading({("drctl_writers", "orders"): 2.0})
        exporter.refresh_once()
        sources.fail = {"writers"}
        clock.advance(INTERVAL)
        assert not exporter.refresh_once()
        assert get(exporter, "drctl_writers", database="orders") == 2.0
        assert get(exporter, "drctl_exporter_errors_total", source="writers") == 1.0


class TestTargetsAndSelf:
    def test_objectives_are_exported(self, exporter: Exporter) -> None:
        """RPO and RTO targets come from the topology (5m and 15m in the example)."""
        assert get(exporter, "drctl_rpo_target_seconds") == 300.0
        assert get(exporter, "drctl_rto_target_seconds") == 900.0

    def test_scrapes_never_read_aws(self, exporter: Exporter, sources: FakeSources) -> None:
        """Scraping serves from memory: the sources are called by refreshes only."""
        exporter.refresh_once()
        calls = sources.calls
        for _ in range(5):
            scrape(exporter)
        assert sources.calls == calls

    def test_successful_refresh_sets_timestamp_and_duration(
            self, exporter: Exporter, clock: FakeClock) -> None:
        """A refresh in which every source was read advances the last-refresh timestamp."""
        assert get(exporter, "drctl_exporter_last_refresh_timestamp_seconds") is None
        exporter.refresh_once()
        assert get(exporter, "drctl_exporter_last_refresh_timestamp_seconds") == clock.now().timestamp()
        assert get(exporter, "drctl_exporter_refresh_duration_seconds") == 0.0

    def test_build_info_and_drill_targets_are_exported(self, exporter: Exporter) -> None:
        """drctl_build_info{version} is 1; every DR side of the topology (dr_for) is a drill target."""
        from dr import __version__

        assert get(exporter, "drctl_build_info", version=__version__) == 1.0
        assert get(exporter, "drctl_drill_target_info", target="qa") == 1.0
        assert get(exporter, "drctl_drill_target_info", target="prod") is None

    def test_every_source_has_an_error_counter_from_the_start(self, exporter: Exporter) -> None:
        """errors_total exists at 0 for each source, so rate() and increase() work from the first scrape."""
        for source in ("lag", "readiness", "health", "dns", "writers"):
            assert get(exporter, "drctl_exporter_errors_total", source=source) == 0.0


@pytest.fixture
def served(exporter: Exporter) -> Iterator[str]:
    _, port = exporter.start("127.0.0.1", 0)
    yield f"http://127.0.0.1:{port}"
    exporter.stop()


class TestHttp:
    def test_metrics_endpoint_serves_the_exposition(self, served: str) -> None:
        """GET /metrics returns the drctl families."""
        status, body = http_get(f"{served}/metrics")
        assert status == 200
        assert b"drctl_rpo_target_seconds 300.0" in body

    def test_healthz_is_ok_while_the_refresher_runs(self, served: str) -> None:
        """/healthz answers 200 while the refresher thread is alive and recent."""
        status, body = http_get(f"{served}/healthz")
        assert status == 200
        assert b'"status": "ok"' in body

    def test_healthz_fails_when_the_refresher_has_stopped(self, served: str, exporter: Exporter) -> None:
        """/healthz answers 503 once the refresher thread is gone."""
        exporter.refresher.stop()
        status, _ = http_get(f"{served}/healthz")
        assert status == 503

    def test_unknown_path_is_404(self, served: str) -> None:
        """Paths other than /, /metrics and /healthz are not found."""
        assert http_get(f"{served}/nope")[0] == 404

    def test_many_simultaneous_scrapes_are_all_answered(self, served: str) -> None:
        """200 scrapes opened at once (more than the old backlog of 5 and than the workers) all get a 200."""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=200) as pool:
            statuses = list(pool.map(lambda _: http_get(f"{served}/metrics", timeout=30)[0], range(200)))
        assert statuses == [200] * 200

    def test_idle_connections_neither_pin_threads_nor_block_scrapes(
            self, topology: Topology, sources: FakeSources, clock: FakeClock) -> None:
        """Idle connections beyond the worker count: the thread count stays bounded, a scrape is still answered
        once the idle ones time out, and then the workers are free again."""
        import socket
        import threading

        exporter = Exporter(topology, sources=sources, clock=clock, interval=INTERVAL, workers=4,
                            connection_timeout=0.5)
        _, port = exporter.serve("127.0.0.1", 0)
        before = threading.active_count()
        idle = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(50)]
        try:
            status, _ = http_get(f"http://127.0.0.1:{port}/metrics", timeout=30)
            assert status == 200
            assert threading.active_count() <= before + 4
            assert all(conn.recv(1) == b"" for conn in idle)  # closed by the server after its timeout
        finally:
            for conn in idle:
                conn.close()
            exporter.stop()
