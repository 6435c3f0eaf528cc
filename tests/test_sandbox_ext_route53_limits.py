"""The sandbox refuses a Route53 change batch beyond either per-request limit, as AWS does (Developer Guide,
"Quotas"): 32,000 Value characters (the extension) and 1,000 ResourceRecord elements (moto), an UPSERT's twice."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from dr.sandbox.extensions.route53_batch_limits import MESSAGE, value_chars


def value(i: int, length: int) -> str:
    """A CNAME value of exactly `length` characters, distinct per record."""
    tail = f"-{i:04d}.eu-west-1.example.net"
    return "a" * (length - len(tail)) + tail


def changes(action: str, count: int, length: int) -> list[dict[str, Any]]:
    return [{"Action": action, "ResourceRecordSet": {"Name": f"r{i}.example.com", "Type": "CNAME", "TTL": 60,
                                                     "ResourceRecords": [{"Value": value(i, length)}]}}
            for i in range(count)]


def send(r53: Any, zone: str, batch: list[dict[str, Any]]) -> dict[str, Any]:
    return r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": batch})  # type: ignore[no-any-return]


def cnames(r53: Any, zone: str) -> int:
    """The zone's CNAME record sets, every page."""
    pages = r53.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone)
    return sum(1 for page in pages for s in page["ResourceRecordSets"] if s["Type"] == "CNAME")


class TestValueCharacterLimit:
    def test_upserts_over_32000_weighted_characters_are_refused_and_nothing_changes(
        self, r53: Any, example_zone: str
    ) -> None:
        """200 UPSERTs of 81 characters weigh 32,400 (each character twice): InvalidChangeBatch, no record made."""
        with pytest.raises(ClientError) as refused:
            send(r53, example_zone, changes("UPSERT", 200, 81))
        assert refused.value.response["Error"]["Code"] == "InvalidChangeBatch"
        assert refused.value.response["Error"]["Message"] == MESSAGE == "RDATA character limit of 32000 exceeded."
        assert cnames(r53, example_zone) == 0

    def test_upserts_of_exactly_32000_weighted_characters_are_accepted(self, r53: Any, example_zone: str) -> None:
        """200 UPSERTs of 80 characters weigh 32,000: accepted, every record made."""
        assert send(r53, example_zone, changes("UPSERT", 200, 80))["ChangeInfo"]["Status"] == "PENDING"
        assert cnames(r53, example_zone) == 200

    def test_creates_count_each_character_once(self, r53: Any, example_zone: str) -> None:
        """200 CREATEs of 150 characters (30,000) are accepted; the same values as UPSERTs (60,000) are not."""
        with pytest.raises(ClientError, match="RDATA character limit"):
            send(r53, example_zone, changes("UPSERT", 200, 150))
        send(r53, example_zone, changes("CREATE", 200, 150))
        assert cnames(r53, example_zone) == 200

    def test_the_weight_counts_every_value_of_a_record_set(self) -> None:
        """A record set's values all count: two values of 10 characters UPSERTed weigh 40, DELETEd 20."""
        rrset = {"Name": "a.example.com", "Type": "A", "TTL": 60,
                 "ResourceRecords": [{"Value": "10.0.0.100"}, {"Value": "10.0.0.101"}]}
        assert value_chars([{"Action": "UPSERT", "ResourceRecordSet": rrset}]) == 40
        assert value_chars([{"Action": "DELETE", "ResourceRecordSet": rrset}]) == 20


class TestResourceRecordElementLimit:
    def test_moto_refuses_over_1000_weighted_elements_as_before(self, r53: Any, example_zone: str) -> None:
        """501 short UPSERTs weigh 1,002 elements: moto's own check refuses them (the extension leaves it be)."""
        with pytest.raises(ClientError) as refused:
            send(r53, example_zone, changes("UPSERT", 501, 30))
        assert refused.value.response["Error"]["Code"] == "InvalidChangeBatch"
        assert "1000" in refused.value.response["Error"]["Message"]
        send(r53, example_zone, changes("UPSERT", 500, 30))
        assert cnames(r53, example_zone) == 500
