"""The sandbox's authoritative DNS: answers queries for the hosted zones in moto's Route53, as Route53's name
servers would, so drctl can verify failover-routing records in the data plane against the sandbox.

Answers come from the same rules as the sandbox's `TestDNSAnswer` (failover records by effective health,
inverted and disabled checks included): one truth for both planes. A name in no sandbox zone is REFUSED
(not authoritative); a name in a zone without records is NXDOMAIN; a name with records of other types
answers no data. UDP only, on loopback by default; `DRCTL_DNS_VERIFY=HOST:PORT` points drctl at it.
"""

from __future__ import annotations

import socketserver
import threading
from typing import Any

DEFAULT_TTL = 60


def _normalise(name: str) -> str:
    return name.lower().rstrip(".") + "."


def find_zone(qname: str) -> Any | None:
    """The public sandbox zone with the longest name that `qname` belongs to (any account), else None."""
    from moto.route53.models import route53_backends

    qname = _normalise(qname)
    best: Any | None = None
    for _account, per_partition in list(route53_backends.items()):
        for backend in list(per_partition.values()):
            for zone in list(backend.zones.values()):
                name = _normalise(zone.name)
                if getattr(zone, "private_zone", False) or not (qname == name or qname.endswith("." + name)):
                    continue
                if best is None or len(name) > len(_normalise(best.name)):
                    best = zone
    return best


def respond(wire: bytes) -> bytes:
    """The answer to one DNS query message, as bytes."""
    import dns.flags
    import dns.message
    import dns.rcode
    import dns.rdatatype
    import dns.rrset

    from dr.sandbox.extensions.route53_dns_answer import answer

    request = dns.message.from_wire(wire)
    response = dns.message.make_response(request)
    if len(request.question) != 1:
        response.set_rcode(dns.rcode.FORMERR)
        return bytes(response.to_wire())
    question = request.question[0]
    qname, rtype = question.name.to_text(), dns.rdatatype.to_text(question.rdtype)
    zone = find_zone(qname)
    if zone is None:
        response.set_rcode(dns.rcode.REFUSED)
        return bytes(response.to_wire())
    response.flags |= dns.flags.AA
    named = [r for r in zone.rrsets if _normalise(r.name) == _normalise(qname)]
    if not named:
        response.set_rcode(dns.rcode.NXDOMAIN)
        return bytes(response.to_wire())
    matching = [r for r in named if r.type == rtype]
    values = [v if rtype != "CNAME" or v.endswith(".") else v + "." for v in answer(matching)]
    if values:
        ttl = int(next((r.ttl for r in matching if r.ttl), DEFAULT_TTL))
        response.answer.append(dns.rrset.from_text_list(qname, ttl, "IN", rtype, values))
    return bytes(response.to_wire())


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = self.request
        try:
            reply = respond(data)
        except Exception:  # a malformed query gets no answer, as from a real server
            return
        sock.sendto(reply, self.client_address)


class DnsResponder:
    """A UDP DNS server in a thread; `address` is what DRCTL_DNS_VERIFY should name."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = socketserver.ThreadingUDPServer((host, port), _Handler)
        self._server.daemon_threads = True
        host_bound, port_bound = self._server.server_address[:2]
        self.host, self.port = str(host_bound), int(port_bound)
        self.address = f"{self.host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="sandbox-dns", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=10)
        self._server.server_close()
