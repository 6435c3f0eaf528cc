"""The exporter benchmark stays runnable and importable (scripts/bench calls `run_benchmark`)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "exporter_bench.py"


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("exporter_bench", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


class TestExporterBenchmark:
    def test_small_run_reports_calls_and_scrape_latency(self) -> None:
        """A 6-replica run reports one GetMetricData per refresh, every lag series, and scrape percentiles."""
        result = load_bench().run_benchmark(replicas=6, scrapes=5)
        assert result.get_metric_data_calls_lag == 1
        assert result.get_metric_data_calls_refresh == 1
        assert result.series >= 6
        assert 0 < result.scrape_p50_ms <= result.scrape_p99_ms <= result.scrape_max_ms
