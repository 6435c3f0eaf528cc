"""Route53's per-request limits of ChangeResourceRecordSets, and splitting a zone's changes into batches within them.

Route 53 Developer Guide, "Quotas" (quotas on ChangeResourceRecordSets requests): a request holds at most 1,000
ResourceRecord elements, and the Value elements of a request hold at most 32,000 characters in total (spaces
included); for an UPSERT each ResourceRecord element and each Value character counts twice. AWS refuses a request
beyond either limit with `InvalidChangeBatch`, and nothing of it is applied.
https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DNSLimitations.html
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dr.errors import DrError

MAX_RECORD_ELEMENTS = 1000
"""ResourceRecord elements per ChangeResourceRecordSets request (an UPSERT's count twice)."""
MAX_VALUE_CHARS = 32000
"""Characters of all Value elements per ChangeResourceRecordSets request (an UPSERT's count twice)."""
COUNTED_TWICE = frozenset({"UPSERT"})
"""Actions whose elements and characters count twice; CREATE and DELETE count once."""


@dataclass(frozen=True)
class Weight:
    """What a change (or a batch) counts against the two limits."""

    elements: int = 0
    chars: int = 0

    def __add__(self, other: Weight) -> Weight:
        return Weight(self.elements + other.elements, self.chars + other.chars)

    def fits(self) -> bool:
        return self.elements <= MAX_RECORD_ELEMENTS and self.chars <= MAX_VALUE_CHARS


class ChangeTooLarge(DrError):
    """One change alone is beyond a per-request limit: no batch can hold it."""


def weight(change: Mapping[str, Any]) -> Weight:
    """The change's ResourceRecord elements and Value characters as Route53 counts them (an alias record
    holds no ResourceRecord: it weighs nothing)."""
    records: Sequence[Mapping[str, Any]] = change["ResourceRecordSet"].get("ResourceRecords") or []
    factor = 2 if change["Action"] in COUNTED_TWICE else 1
    return Weight(factor * len(records), factor * sum(len(str(r["Value"])) for r in records))


def too_large(change: Mapping[str, Any]) -> str | None:
    """Why no request can hold this change alone, or None when one can."""
    size = weight(change)
    if size.fits():
        return None
    rrset = change["ResourceRecordSet"]
    twice = " (an UPSERT counts each twice)" if change["Action"] in COUNTED_TWICE else ""
    return (f"{change['Action']} {rrset['Name']} {rrset['Type']} weighs {size.elements} ResourceRecord element(s) "
            f"and {size.chars} Value character(s){twice}; Route53 accepts at most {MAX_RECORD_ELEMENTS:,} and "
            f"{MAX_VALUE_CHARS:,} per ChangeResourceRecordSets request, so no change batch can hold it")


def batches(changes: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Split changes, in order, into as few batches as both limits allow (a batch is closed when the next change
    would pass either). Raises ChangeTooLarge, naming the change, when one alone passes a limit."""
    out: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    total = Weight()
    for change in changes:
        reason = too_large(change)
        if reason is not None:
            raise ChangeTooLarge(reason)
        size = weight(change)
        if current and not (total + size).fits():
            out.append(current)
            current, total = [], Weight()
        current.append(change)
        total += size
    if current:
        out.append(current)
    return out
