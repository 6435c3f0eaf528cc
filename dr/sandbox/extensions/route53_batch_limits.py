"""Route53 refuses a change batch whose Value elements hold more than 32,000 characters, an UPSERT's counting twice.

AWS, Route 53 Developer Guide, "Quotas" (quotas on ChangeResourceRecordSets requests,
https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DNSLimitations.html): "The sum of the number of
characters (including spaces) in all Value elements in a request cannot exceed 32,000 characters. When the value
of the Action element is UPSERT, each character in a Value element is counted twice." A request beyond it fails
as a whole with `InvalidChangeBatch` ("RDATA character limit of 32000 exceeded.") and changes nothing.

moto 5.2 enforces only the other half of that quota (1,000 ResourceRecord elements, an UPSERT's counting twice,
in `moto.route53.responses.Route53.change_resource_record_sets`, before the backend is called). This extension
checks the characters in the same way, one step further: in the backend's `change_resource_record_sets`,
before any change of the batch is applied. CREATE and DELETE count once, as moto counts their elements.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dr.sandbox.extensions import _guard

MAX_VALUE_CHARS = 32000
COUNTED_TWICE = ("UPSERT",)
MESSAGE = f"RDATA character limit of {MAX_VALUE_CHARS} exceeded."
"""AWS's message for this rejection (as AWS answers it; moto's element check answers in the same style)."""


def install() -> None:
    from moto.route53.models import Route53Backend

    _guard.replace(Route53Backend, "change_resource_record_sets", _change_resource_record_sets,
                   ["zoneid", "change_list"])


def value_chars(change_list: Sequence[Mapping[str, Any]]) -> int:
    """The batch's Value characters as Route53 counts them: an UPSERT's twice, a CREATE's or DELETE's once."""
    total = 0
    for change in change_list:
        records = change.get("ResourceRecordSet", {}).get("ResourceRecords") or []
        chars = sum(len(str(r.get("Value", "") if isinstance(r, Mapping) else r)) for r in records)
        total += chars * (2 if change.get("Action") in COUNTED_TWICE else 1)
    return total


def _change_resource_record_sets(self: Any, zoneid: str, change_list: list[dict[str, Any]]) -> Any:
    from moto.route53.exceptions import Route53ClientError

    if value_chars(change_list) > MAX_VALUE_CHARS:
        raise Route53ClientError("InvalidChangeBatch", MESSAGE)
    return _guard.original(type(self), "change_resource_record_sets")(self, zoneid, change_list)
