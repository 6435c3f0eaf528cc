"""What Route53's authoritative name servers answer for a record: the data plane, without the API's rate limit.

Route53's control plane allows about 10 requests/s per account (5 on AWS's published quota), and
`TestDNSAnswer` is a control-plane call: verifying 50 failover-routing records that way costs 50 calls,
more while Route53's health checkers take their time to agree. A DNS query to the hosted zone's own name
servers (its delegation set, read once per zone with `GetHostedZone`) is what resolvers get, and costs no
API quota. By hand: `dig +norecurse @ns-123.awsdns-45.com api.example.com CNAME`.

`DRCTL_DNS_VERIFY` chooses:
- `auto` (default): the zone's name servers; a private zone, or name servers that cannot be resolved or do
  not answer, fall back to `TestDNSAnswer` for that zone for the rest of the run;
- `test-dns-answer`: always the control plane;
- `HOST:PORT[,HOST:PORT...]`: ask these servers for every zone (the sandbox's DNS responder).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dr.errors import UsageError

VERIFY_ENV = "DRCTL_DNS_VERIFY"
AUTO = "auto"
CONTROL_PLANE = "test-dns-answer"
QUERY_TIMEOUT = 1.0
"""Seconds to wait for one name server's answer before trying the next."""
RESOLVE_LIFETIME = 2.0
"""Seconds to resolve the name servers' own addresses."""


class DnsUnavailable(Exception):
    """The data plane cannot answer for this zone here (private zone, name servers unreachable)."""


@dataclass(frozen=True)
class DnsVerify:
    """How failover-routing answers are read: `servers` empty means the zone's own name servers."""

    control_plane: bool = False
    servers: tuple[tuple[str, int], ...] = ()

    def describe(self) -> str:
        if self.control_plane:
            return "route53:TestDNSAnswer"
        if self.servers:
            return "DNS query to " + ", ".join(f"{h}:{p}" for h, p in self.servers)
        return "DNS query to the zone's name servers (route53:GetHostedZone once), else route53:TestDNSAnswer"


def verify_mode(environ: dict[str, str] | None = None) -> DnsVerify:
    """`DRCTL_DNS_VERIFY` parsed; a value that is none of the three forms is a usage error (exit 2)."""
    value = (environ if environ is not None else dict(os.environ)).get(VERIFY_ENV, AUTO).strip()
    if value in ("", AUTO):
        return DnsVerify()
    if value == CONTROL_PLANE:
        return DnsVerify(control_plane=True)
    servers: list[tuple[str, int]] = []
    for part in value.split(","):
        host, sep, port = part.strip().rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise UsageError(f"{VERIFY_ENV}={value!r}: use '{AUTO}', '{CONTROL_PLANE}' or HOST:PORT[,HOST:PORT...] "
                             "(e.g. 127.0.0.1:5353, the sandbox's DNS responder)")
        servers.append((host.strip("[]"), int(port)))
    return DnsVerify(servers=tuple(servers))


def query(servers: tuple[tuple[str, int], ...], fqdn: str, rtype: str, timeout: float = QUERY_TIMEOUT) -> set[str]:
    """The values the first answering server gives for (fqdn, rtype), lower-case without the final dot; empty
    for NXDOMAIN or no data. No server answering raises DnsUnavailable."""
    import dns.exception
    import dns.flags
    import dns.message
    import dns.query
    import dns.rcode
    import dns.rdatatype

    request = dns.message.make_query(fqdn, rtype)
    request.flags &= ~dns.flags.RD  # ask the authority itself, as a resolver would
    failures: list[str] = []
    for host, port in servers:
        try:
            response = dns.query.udp(request, host, port=port, timeout=timeout)
            if response.flags & dns.flags.TC:
                response = dns.query.tcp(request, host, port=port, timeout=timeout)
        except (dns.exception.DNSException, OSError) as exc:
            failures.append(f"{host}:{port}: {exc or type(exc).__name__}")
            continue
        if response.rcode() not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
            failures.append(f"{host}:{port}: {dns.rcode.to_text(response.rcode())}")
            continue
        wanted = dns.rdatatype.from_text(rtype)
        return {_text(rdata) for rrset in response.answer if rrset.rdtype == wanted for rdata in rrset}
    raise DnsUnavailable("no name server answered: " + "; ".join(failures))


def _text(rdata: Any) -> str:
    value = getattr(rdata, "target", None) or getattr(rdata, "address", None) or rdata.to_text()
    return str(value).rstrip(".").lower()


class ZoneServers:
    """Each hosted zone's name server addresses, looked up once per run; a zone whose servers cannot be used is
    remembered too, so later polls go to the control plane at once instead of timing out again. Thread-safe."""

    def __init__(self, mode: DnsVerify) -> None:
        self.mode = mode
        self._found: dict[str, tuple[tuple[str, int], ...]] = {}
        self._failed: dict[str, str] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def servers(self, zone_id: str, get_zone: Callable[[], dict[str, Any]]) -> tuple[tuple[str, int], ...]:
        """Addresses to ask for `zone_id` (`get_zone` is its GetHostedZone, called once); DnsUnavailable with the
        reason when the data plane cannot be used for it."""
        if self.mode.control_plane:
            raise DnsUnavailable(f"{VERIFY_ENV}={CONTROL_PLANE}")
        with self._lock:
            zone_lock = self._locks.setdefault(zone_id, threading.Lock())
        with zone_lock:  # one lookup per zone; other zones' lookups run meanwhile
            if zone_id in self._failed:
                raise DnsUnavailable(self._failed[zone_id])
            if self.mode.servers:
                return self.mode.servers
            if zone_id not in self._found:
                try:
                    self._found[zone_id] = self._lookup(zone_id, get_zone())
                except DnsUnavailable as exc:
                    self._failed[zone_id] = str(exc)
                    raise
                except Exception as exc:  # GetHostedZone refused or failed: TestDNSAnswer may still work
                    from dr.aws.errors import describe

                    self._failed[zone_id] = f"GetHostedZone {zone_id}: {describe(exc)}"
                    raise DnsUnavailable(self._failed[zone_id]) from exc
            return self._found[zone_id]

    def unreachable(self, zone_id: str, reason: str) -> None:
        """The zone's servers did not answer: use the control plane for it from now on."""
        with self._lock:
            self._failed[zone_id] = reason

    def _lookup(self, zone_id: str, zone: dict[str, Any]) -> tuple[tuple[str, int], ...]:
        if (zone.get("HostedZone") or {}).get("Config", {}).get("PrivateZone"):
            raise DnsUnavailable(f"{zone_id} is a private zone: only resolvers in its VPCs see it")
        names = (zone.get("DelegationSet") or {}).get("NameServers") or []
        addresses: list[tuple[str, int]] = []
        for name in names:
            addresses += [(address, 53) for address in _addresses(name)]
        if not addresses:
            raise DnsUnavailable(f"the name servers of {zone_id} ({', '.join(names) or 'none listed'}) "
                                 "do not resolve from here")
        return tuple(addresses)


def _addresses(name: str) -> list[str]:
    """IPv4 addresses of one name server; [] when the name does not exist. A resolver that does not answer at
    all raises DnsUnavailable at once: trying the zone's other names would only wait as long again."""
    import dns.exception
    import dns.resolver

    try:
        return [str(r.address) for r in dns.resolver.resolve(name, "A", lifetime=RESOLVE_LIFETIME)]
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except (dns.exception.DNSException, OSError) as exc:
        raise DnsUnavailable(f"cannot resolve name server {name}: {exc or type(exc).__name__}") from exc
