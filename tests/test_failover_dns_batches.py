"""A zone larger than one Route53 change batch fails over completely, in as many batches as AWS's limits require
(1,000 ResourceRecord elements and 32,000 Value characters per request, an UPSERT's counting twice, both enforced
by the sandbox); a later batch that fails leaves the step failed, naming what moved, and resume sends only the rest."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from dr.config import Topology, load
from dr.engine.env import state_dir
from tests.conftest import EXAMPLE
from tests.failover_support import Harness, answer_of, harness, step

INTERNAL = "Z0EXAMPLEINTERNAL"


def with_internal_records(count: int, length: int | None = None, *, only_internal: bool = False) -> Topology:
    """The example plus `count` upsert records in its internal zone (qa values of `length` characters when given);
    `only_internal` drops the other zone's records."""
    example = load(EXAMPLE)
    payments = next(r for r in example.dns if r.zone_id == INTERNAL)

    def qa_value(i: int) -> str:
        plain = f"svc{i}.eu-west-1.internal.example.com"
        return plain if length is None else "x" * (length - len(plain) - 1) + "-" + plain

    extra = [payments.model_copy(update={
        "name": f"svc{i}.internal.example.com.", "health_checks": {}, "drill_name": None,
        "targets": {"prod": f"svc{i}.eu-central-1.internal.example.com", "qa": qa_value(i)}}) for i in range(count)]
    kept = [r for r in example.dns if r.zone_id == INTERNAL or not only_internal]
    return example.model_copy(update={"dns": [*kept, *extra]})


def required_batches(topology: Topology, zone: str) -> int:
    """The fewest ChangeResourceRecordSets a zone's UPSERTs toward qa need under both limits (each counted twice)."""
    values = [r.targets["qa"] for r in topology.dns if r.zone_id == zone]
    return max(math.ceil(2 * len(values) / 1000), math.ceil(2 * sum(len(v) for v in values) / 32000))


def zone_values(h: Harness, zone: str) -> dict[str, str]:
    """Name -> value of every simple record set of the zone, read through every page."""
    pages = h.route53().get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone)
    return {s["Name"]: s["ResourceRecords"][0]["Value"] for page in pages for s in page["ResourceRecordSets"]
            if s["Type"] == "CNAME" and "SetIdentifier" not in s}


def facts(run_id: str) -> dict[str, Any]:
    """The facts journaled by a run, as resume restores them."""
    lines = (state_dir() / "runs" / f"{run_id}.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    return {e["data"]["key"]: e["data"]["value"] for e in events if e["type"] == "fact"}


def assert_every_record_points_at_qa(h: Harness) -> None:
    internal_zone = next(r.zone_id for r in h.topology.dns if r.name.endswith("internal.example.com."))
    values = zone_values(h, internal_zone)
    for record in h.topology.dns:
        if record.zone_id == internal_zone:
            assert values[record.fqdn] == record.targets["qa"], record.fqdn
    for record in h.topology.dns[:3] + h.topology.dns[-3:]:  # what Route53 answers, not only what it lists
        assert answer_of(h.route53(), record) == record.targets["qa"], record.fqdn


class TestLargeZones:
    def failover(self, tmp_path: Path, topology: Topology) -> tuple[Harness, dict[str, int]]:
        with harness(tmp_path, topology) as h:
            outcome = h.run("failover", "qa")
            assert outcome.exit_code == 0, outcome.report
            assert_every_record_points_at_qa(h)
            per_zone = {z: required_batches(h.topology, z) for z in {r.zone_id for r in h.topology.dns}}
            return h, per_zone

    def test_504_records_of_85_characters_move_in_as_many_batches_as_the_character_limit_requires(
            self, tmp_path: Path) -> None:
        """505 UPSERTs weigh 1,010 elements but ~85,700 characters: 3 batches, not 2 (the sandbox refuses more)."""
        h, per_zone = self.failover(tmp_path, with_internal_records(504, 85))
        assert sorted(per_zone.values()) == [1, 3]
        assert h.faults.count("route53", "ChangeResourceRecordSets") == sum(per_zone.values())

    def test_1200_records_move_in_as_many_batches_as_the_limits_require(self, tmp_path: Path) -> None:
        """1,201 UPSERTs of ~38 characters: every record moves, in the fewest change calls both limits allow."""
        h, per_zone = self.failover(tmp_path, with_internal_records(1200))
        assert sorted(per_zone.values()) == [1, 3]
        assert h.faults.count("route53", "ChangeResourceRecordSets") == sum(per_zone.values())


class TestPartlyMovedZone:
    def test_a_failed_later_batch_names_what_moved_and_resume_sends_only_the_rest(self, tmp_path: Path) -> None:
        """Batch 2 of 3 refused: the step fails naming how many record sets moved and how many remain (the journal
        lists them all); resume sends only the remaining ones, never batch 1 again, and every record points at qa."""
        calls: list[str] = []

        def refuse_second_change(service: str, operation: str, region: str) -> None:
            if operation == "ChangeResourceRecordSets":
                calls.append(operation)
                if len(calls) == 2:
                    raise ClientError({"Error": {"Code": "InvalidChangeBatch", "Message": "refused by the test"}},
                                      "ChangeResourceRecordSets")

        with harness(tmp_path, with_internal_records(1200, only_internal=True)) as h:
            zone = h.topology.dns[0].zone_id
            h.faults.on_call = refuse_second_change
            failed = h.run("failover", "qa", run_id="partial")
            assert failed.exit_code == 1
            detail = step(failed.report, f"dns:{zone}")["detail"]
            assert "change batch 2 of 3" in detail
            assert "InvalidChangeBatch: refused by the test" in detail
            found = re.search(r"moved to qa: (\d+) record set\(s\).*not moved: (\d+) record set\(s\)", detail)
            assert found is not None, detail
            moved, remaining = int(found[1]), int(found[2])
            assert moved > 0
            assert moved + remaining == 1201
            journaled = facts("partial")
            assert len(journaled[f"dns.changes.{zone}"]) == 1
            assert len(journaled[f"dns.moved.{zone}"]) == moved
            assert len(journaled[f"dns.remaining.{zone}"]) == remaining
            assert not set(journaled[f"dns.moved.{zone}"]) & set(journaled[f"dns.remaining.{zone}"])

            resumed = h.run("failover", "qa", run_id="partial", resume=True)
            assert resumed.exit_code == 0, resumed.report
            assert (f"{remaining} record set(s) of 1201 -> qa in 2 change batch(es)"
                    in step(resumed.report, f"dns:{zone}")["detail"])
            assert len(calls) == 4  # 1 accepted + 1 refused + the 2 that hold what remained
            journaled = facts("partial")
            assert len(journaled[f"dns.changes.{zone}"]) == 3
            assert len(journaled[f"dns.moved.{zone}"]) == 1201
            assert journaled[f"dns.remaining.{zone}"] == []
            assert_every_record_points_at_qa(h)


class TestTooLargeForAnyBatch:
    def test_a_value_no_request_can_hold_is_refused_by_the_prechecks_before_anything_changes(
            self, tmp_path: Path) -> None:
        """A qa value of 16,001 characters weighs 32,002 as an UPSERT: exit 3 at prechecks, naming the record."""
        with harness(tmp_path, with_internal_records(1, 16001)) as h:
            outcome = h.run("failover", "qa")
            assert outcome.exit_code == 3, outcome.report
            detail = step(outcome.report, "prechecks")["detail"]
            assert "svc0.internal.example.com." in detail
            assert "32000" in detail.replace(",", "")
            assert h.mutating_calls() == []
