"""Route53's list operations page as AWS pages them: record sets with SetIdentifier resume where they stopped,
health checks come in pages of MaxItems.

AWS, Route 53 API Reference, "ListResourceRecordSets"
(https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListResourceRecordSets.html): results are sorted by
DNS name with the labels reversed, then by type; when a page ends inside a group of record sets of one name and type
that have a routing policy other than simple, the response's `NextRecordIdentifier` is the SetIdentifier of the next
one, and a request with `StartRecordIdentifier` resumes there. At most 300 per page.
"ListHealthChecks" (https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListHealthChecks.html): `marker`
is the previous response's `NextMarker`, "the ID of the first health check that Amazon Route 53 will return";
`MaxItems` at most 1000 (a larger value returns the first 1000).

moto 5.2 ignores `StartRecordIdentifier` and never answers `NextRecordIdentifier`: a page boundary between the
PRIMARY and SECONDARY sets of a failover record repeats the same resume point (botocore's paginator then fails,
"same next token received twice") or lists a set twice. Its `list_health_checks` returns every check in one answer,
whatever MaxItems says, so a paging reader is never exercised. These replace both responses.
"""

from __future__ import annotations

from typing import Any

from dr.sandbox.extensions import _guard

MAX_RECORD_SETS = 300
MAX_HEALTH_CHECKS = 1000


def install() -> None:
    from moto.route53.responses import Route53

    _guard.replace(Route53, "list_resource_record_sets", _list_resource_record_sets, [])
    _guard.replace(Route53, "list_health_checks", _list_health_checks, [])


def _order(rrset: Any) -> tuple[str, str, str]:
    from moto.route53.models import reverse_domain_name

    return reverse_domain_name(rrset.name), str(rrset.type), str(rrset.set_identifier or "")


def _list_resource_record_sets(self: Any) -> Any:
    from moto.core.responses import ActionResult
    from moto.route53.exceptions import InvalidInput

    zone_id = self._get_param("HostedZoneId")
    start_name, start_type = self._get_param("StartRecordName"), self._get_param("StartRecordType")
    start_ident = self._get_param("StartRecordIdentifier") or ""
    max_items = min(self._get_int_param("MaxItems", MAX_RECORD_SETS), MAX_RECORD_SETS)
    if start_type and not start_name:
        raise InvalidInput("The input is not valid")
    ordered = sorted(self.backend.get_hosted_zone(zone_id).rrsets, key=_order)
    if start_name:
        from moto.route53.models import reverse_domain_name

        start = (reverse_domain_name(start_name), start_type or "", start_ident)
        ordered = [r for r in ordered if _order(r) >= start]
    page, rest = ordered[:max_items], ordered[max_items:]
    result: dict[str, Any] = {"ResourceRecordSets": page, "IsTruncated": bool(rest), "MaxItems": max_items}
    if rest:
        result.update(NextRecordName=rest[0].name, NextRecordType=rest[0].type)
        if rest[0].set_identifier:
            result["NextRecordIdentifier"] = rest[0].set_identifier
    return ActionResult(result)


def _list_health_checks(self: Any) -> Any:
    from moto.core.responses import ActionResult

    checks = self.backend.list_health_checks()
    marker = self._get_param("Marker")
    max_items = min(self._get_int_param("MaxItems", MAX_HEALTH_CHECKS), MAX_HEALTH_CHECKS)
    ids = [c.id for c in checks]
    start = ids.index(marker) if marker in ids else 0
    page, rest = checks[start:start + max_items], checks[start + max_items:]
    result: dict[str, Any] = {"HealthChecks": page, "IsTruncated": bool(rest), "MaxItems": str(max_items),
                              "Marker": marker or ""}
    if rest:
        result["NextMarker"] = rest[0].id
    return ActionResult(result)
