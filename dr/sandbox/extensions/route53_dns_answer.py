"""`TestDNSAnswer`: what Route53 would answer for a record, so drctl can verify a data-plane failover.

moto does not implement it. Simple records answer their values; failover records answer PRIMARY
while its health check is healthy (or it has none), else SECONDARY when that one is healthy; when both
are unhealthy Route53 answers PRIMARY. Other routing policies answer the values of every healthy
record. Alias records answer the alias target's DNS name (the sandbox resolves no further).
"""

from __future__ import annotations

from typing import Any

from dr.sandbox.extensions import _guard
from dr.sandbox.extensions.route53_health import effective_health, find_health_check

URL_PATH = r"{0}/(?P<api_version>[\d_-]+)/testdnsanswer$"
NAMESERVER = "ns-1.awsdns-01.org"


def install() -> None:
    from moto.route53 import urls
    from moto.route53.responses import Route53

    _guard.require_attrs(urls, ["url_paths"], "moto.route53.urls")
    _guard.add(Route53, "test_dns_answer", _test_dns_answer)
    if URL_PATH not in urls.url_paths:
        urls.url_paths[URL_PATH] = Route53.dispatch


def answer(records: list[Any]) -> list[str]:
    """The values Route53 answers for these record sets (same name and type)."""
    failover = {r.failover: r for r in records if r.failover}
    if failover:
        chosen = _failover_choice(failover)
        return _values(chosen) if chosen is not None else []
    healthy = [r for r in records if _healthy(r)] or records
    return [value for r in healthy for value in _values(r)]


def _failover_choice(by_role: dict[str, Any]) -> Any | None:
    primary, secondary = by_role.get("PRIMARY"), by_role.get("SECONDARY")
    if primary is not None and _healthy(primary):
        return primary
    if secondary is not None and _healthy(secondary):
        return secondary
    return primary if primary is not None else secondary


def _healthy(record: Any) -> bool:
    if not record.health_check_id:
        return True
    check = find_health_check(record.health_check_id)
    return True if check is None else effective_health(check)


def _values(record: Any) -> list[str]:
    if record.alias_target:
        return [str(record.alias_target.get("DNSName", ""))]
    return [str(v) for v in record.records or []]


def _normalise(name: str) -> str:
    return name.lower().rstrip(".") + "."


def _test_dns_answer(self: Any) -> Any:
    from moto.core.responses import ActionResult

    zone = self.backend.get_hosted_zone(self._get_param("HostedZoneId"))  # NoSuchHostedZone when missing
    name = self._get_param("RecordName")
    rtype = self._get_param("RecordType")
    records = [r for r in zone.rrsets if _normalise(r.name) == _normalise(name) and r.type == rtype]
    names_exist = any(_normalise(r.name) == _normalise(name) for r in zone.rrsets)
    return ActionResult(
        {
            "Nameserver": NAMESERVER,
            "RecordName": name,
            "RecordType": rtype,
            "RecordData": answer(records),
            "ResponseCode": "NOERROR" if names_exist else "NXDOMAIN",
            "Protocol": "UDP",
        }
    )
