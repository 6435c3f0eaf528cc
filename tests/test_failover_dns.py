"""DNS steps: change batches within Route53's limits, throttling retried with backoff, one batch per zone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dr.aws.route53_batches import MAX_RECORD_ELEMENTS, MAX_VALUE_CHARS, ChangeTooLarge
from runbooks.steps.dns_upsert import batches
from tests.failover_support import Harness, answer_of, harness, step


def upsert(name: str, value: str = "target.example.com", action: str = "UPSERT", values: int = 1) -> dict[str, Any]:
    return {"Action": action, "ResourceRecordSet": {"Name": name, "Type": "CNAME", "TTL": 60,
                                                    "ResourceRecords": [{"Value": value}] * values}}


def weighed(batch: list[dict[str, Any]]) -> tuple[int, int]:
    """(ResourceRecord elements, Value characters) of a batch as the Route53 Developer Guide's "Quotas" counts
    them: each of an UPSERT's twice. Written out here, apart from the code under test."""
    elements = chars = 0
    for change in batch:
        factor = 2 if change["Action"] == "UPSERT" else 1
        records = change["ResourceRecordSet"]["ResourceRecords"]
        elements += factor * len(records)
        chars += factor * sum(len(r["Value"]) for r in records)
    return elements, chars


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
        """Long values split a batch before Route53's 32,000-character limit, each UPSERT character counting twice.

        This test used to pin the undoubled sum (2 batches of up to 128 x 250 = 32,000 characters); AWS counts
        an UPSERT's characters twice ("Quotas" in the Route 53 Developer Guide), so such a batch weighs 64,000 and
        is refused with InvalidChangeBatch. 250 characters weigh 500: 64 UPSERTs a batch, 4 batches for 200."""
        long_value = "x" * 250
        parts = batches([upsert(f"r{i}.example.com.", long_value) for i in range(200)])
        assert all(weighed(p)[1] <= MAX_VALUE_CHARS for p in parts)
        assert [len(p) for p in parts] == [64, 64, 64, 8]

    def test_elements_weigh_by_the_number_of_resource_records(self) -> None:
        """An UPSERT of a record set with 3 values weighs 6 elements: 166 of them fill a batch (996), not 500."""
        parts = batches([upsert(f"r{i}.example.com.", "10.0.0.1", values=3) for i in range(200)])
        assert [len(p) for p in parts] == [166, 34]
        assert all(weighed(p)[0] <= MAX_RECORD_ELEMENTS for p in parts)

    def test_create_and_delete_count_once(self) -> None:
        """1,000 DELETEs of one value fit one batch (only an UPSERT counts twice)."""
        assert [len(p) for p in batches([upsert(f"r{i}.example.com.", action="DELETE") for i in range(1000)])] == [
            1000]

    def test_a_change_too_large_for_any_batch_is_an_error_naming_it(self) -> None:
        """A value of 16,001 characters weighs 32,002 as an UPSERT: no request holds it, and the error says so."""
        with pytest.raises(ChangeTooLarge, match=r"big\.example\.com\. CNAME .* 32002 Value character"):
            batches([upsert("ok.example.com."), upsert("big.example.com.", "v" * 16001)])

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
