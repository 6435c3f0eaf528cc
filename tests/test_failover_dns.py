"""DNS steps: change batches within Route53's limits, throttling retried with backoff, one batch per zone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runbooks.steps.dns_upsert import MAX_BATCH_CHARS, batches
from tests.failover_support import Harness, answer_of, harness, step


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


def with_failover_records(count: int) -> Any:
    """The example plus `count` more failover-routing records (own health checks) in its public zone."""
    from dr.config import load
    from tests.conftest import EXAMPLE

    example = load(EXAMPLE)
    www = next(r for r in example.dns if r.fqdn == "www.example.com.")
    extra = [www.model_copy(update={
        "name": f"svc{i}.example.com.",
        "targets": {"prod": f"svc{i}.eu-central-1.example.com", "qa": f"svc{i}.eu-west-1.example.com"},
        "health_checks": {"prod": f"hc-svc{i}-prod", "qa": f"hc-svc{i}-qa"}}) for i in range(count)]
    return example.model_copy(update={"dns": [*example.dns, *extra]})


class TestFailoverRoutingAtScale:
    def route53_calls(self, tmp_path: Path, extra: int) -> dict[str, int]:
        with harness(tmp_path / str(extra), with_failover_records(extra)) as h:
            outcome = h.run("failover", "qa", run_id=f"failover-routing-{extra}")
            assert outcome.exit_code == 0, outcome.report
            for record in h.topology.dns:
                assert answer_of(h.route53(), record) == record.targets["qa"], record.fqdn
            return {op: h.faults.count("route53", op) for op in
                    ("ListResourceRecordSets", "GetHealthCheck", "UpdateHealthCheck", "ChangeResourceRecordSets")}

    def test_zone_listings_do_not_grow_with_the_number_of_failover_records(self, tmp_path: Path) -> None:
        """Route53 allows ~10 requests/s: 1 or 6 failover records in a zone cost the same listings and change
        calls (one batch per zone re-points every PRIMARY), no per-check GetHealthCheck or UpdateHealthCheck;
        every record answers qa."""
        one = self.route53_calls(tmp_path, 0)
        six = self.route53_calls(tmp_path, 5)
        assert six == one
        assert one["GetHealthCheck"] == one["UpdateHealthCheck"] == 0
        assert one["ChangeResourceRecordSets"] == 2
