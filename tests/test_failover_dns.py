"""DNS steps: change batches within Route53's limits, throttling retried with backoff, one batch per zone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runbooks.steps.dns_upsert import MAX_BATCH_CHARS, batches
from tests.failover_support import Harness, harness, step


def upsert(name: str, value: str = "target.example.com") -> dict[str, Any]:
    return {"Action": "UPSERT", "ResourceRecordSet": {"Name": name, "Type": "CNAME", "TTL": 60,
                                                      "ResourceRecords": [{"Value": value}]}}


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    with harness(tmp_path) as built:
        yield built


class TestBatches:
    def test_upserts_split_at_500_because_each_counts_twice(self) -> None:
        """1,200 UPSERTs make batches of 500, 500 and 200 (1,000 changes per batch, UPSERT counts two)."""
        sizes = [len(b) for b in batches([upsert(f"r{i}.example.com.") for i in range(1200)])]
        assert sizes == [500, 500, 200]

    def test_batches_also_respect_the_value_length_limit(self) -> None:
        """Long values split a batch before Route53's 32,000-character limit."""
        long_value = "x" * 250
        parts = batches([upsert(f"r{i}.example.com.", long_value) for i in range(200)])
        assert all(sum(len(c["ResourceRecordSet"]["ResourceRecords"][0]["Value"]) for c in p) <= MAX_BATCH_CHARS
                   for p in parts)
        assert sum(len(p) for p in parts) == 200
        assert len(parts) == 2

    def test_order_is_preserved(self) -> None:
        """Changes keep their order across batches."""
        names = [f"r{i}.example.com." for i in range(700)]
        flat = [c["ResourceRecordSet"]["Name"] for b in batches([upsert(n) for n in names]) for c in b]
        assert flat == names


class TestZoneChanges:
    def test_one_change_batch_per_hosted_zone(self, h: Harness) -> None:
        """The example's two zones with upsert records get exactly one ChangeResourceRecordSets each."""
        outcome = h.run("failover", "qa")
        assert outcome.exit_code == 0, outcome.report
        assert h.faults.count("route53", "ChangeResourceRecordSets") == 2

    def test_route53_throttling_is_retried_with_backoff(self, h: Harness) -> None:
        """Throttled change calls are retried (on the fake clock) and the DNS step still succeeds."""
        h.faults.throttle["ChangeResourceRecordSets"] = 3
        outcome = h.run("failover", "qa")
        assert outcome.exit_code == 0, outcome.report
        assert h.faults.count("route53", "ChangeResourceRecordSets") == 5
        zones = [s for s in outcome.report["steps"] if s["name"].startswith("dns:") and s["name"].count(":") == 1]
        assert all(step(outcome.report, z["name"])["status"] == "succeeded" for z in zones)
