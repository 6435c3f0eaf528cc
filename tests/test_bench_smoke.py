"""`python -m benchmarks --quick` (what scripts/bench --quick runs): every row of the table is printed, the
failovers succeed, and the call counts meet their targets. No timing is asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks.report import ROW_NAMES

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.e2e
Quick = tuple[subprocess.CompletedProcess[str], dict[str, Any]]


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> Quick:
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    env = {k: v for k, v in os.environ.items() if k != "DRCTL_BENCH_AWS"}
    env.update(PYTHONPATH=str(ROOT), XDG_CACHE_HOME=str(out.parent / "cache"))
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--json", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    return done, json.loads(out.read_text()) if out.exists() else {}


def rows(document: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {row["name"]: row for row in document["main"]}


class TestQuickBench:
    def test_prints_every_row_of_the_table(self, quick: Quick) -> None:
        """Exit 0 and the Markdown table on stdout names every measurement, in the JSON too."""
        done, document = quick
        assert done.returncode == 0, done.stderr[-3000:]
        for name in ROW_NAMES:
            assert f"| {name} |" in done.stdout
        assert list(rows(document)) == list(ROW_NAMES)
        assert "## Scaling" in done.stdout

    def test_both_failovers_succeed(self, quick: Quick) -> None:
        """The parallel and the sequential run of the quick estate end `succeeded`."""
        _, document = quick
        table = rows(document)
        assert "(exit 0, succeeded)" in table["failover wall (parallel)"]["value"]
        assert "(exit 0, succeeded)" in table["failover wall (sequential, concurrency 1)"]["value"]
        assert document["scaling"][0]["status"] == "succeeded"

    def test_planned_run_and_peers_move_the_estate(self, quick: Quick) -> None:
        """The planned failover succeeds with fence and catch-up reported; each peer exits 0 having promoted every
        replica and moved every record (checked in the sandbox), and the peer table carries drctl/peer ratios."""
        _, document = quick
        table = rows(document)
        assert "(exit 0, succeeded)" in table["failover wall (planned: fence + catch-up)"]["value"]
        assert table["planned: fence / catch-up"]["value"].startswith("fence ")
        for name in ("by hand (boto3 waiters)", "DR Orchestrator style"):
            assert "(exit 0, all moved)" in table[f"peer: {name}"]["value"]
        peers = {row["peer"]: row for row in document["peers"]}
        assert set(peers) == {"drctl (local engine)", "peer: by hand (boto3 waiters)", "peer: DR Orchestrator style"}
        assert all(row["api_calls"] > 0 and row["wall_s"] > 0 for row in peers.values())
        assert "not on this branch" in table["peer: drctl on Step Functions"]["value"]

    def test_call_counts_meet_their_targets(self, quick: Quick) -> None:
        """One Route53 change batch per zone and one GetMetricData per exporter refresh at this size."""
        _, document = quick
        table = rows(document)
        assert table["Route53 ChangeResourceRecordSets"]["verdict"] == "met"
        assert table["CloudWatch GetMetricData per refresh"]["verdict"] == "met"
        assert document["calls"]["route53"]["ChangeResourceRecordSets"] == 2

    def test_memory_and_scrape_burst_are_measured(self, quick: Quick) -> None:
        """The failover's peak RSS is read per size, and 200 simultaneous scrapes of the exporter's server all
        get an answer (none dropped)."""
        _, document = quick
        table = rows(document)
        assert table["peak RSS of the failover process"]["value"].startswith("6 db ")
        assert document["scaling"][0]["rss_mb"] > 0
        assert "200 at once" in table["scrapes at once (drctl exporter's server)"]["value"]
        assert document["scaling"][0]["burst_dropped"] == 0

    def test_aws_cli_row_says_why_it_is_skipped(self, quick: Quick) -> None:
        """--quick never installs the AWS CLI: without one the row explains itself, and no ratio is made up."""
        _, document = quick
        table = rows(document)
        assert table["aws --version"]["value"].startswith("skipped:")
        assert table["drctl --version / aws --version"]["verdict"] == "n/a"
