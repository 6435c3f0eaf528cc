"""The sandbox server: moto's server app behind the sandbox middleware, on loopback, in a thread.

`start_server()` installs the fidelity extensions, serves moto's WSGI app wrapped in
`SandboxMiddleware` (control endpoints, call counts, latency, Route53 throttling) with werkzeug's
threaded server, and returns a handle with the endpoint and an `HttpControl` for it. Beside it, on the
same host, a UDP DNS responder answers for the sandbox's hosted zones (`dr/sandbox/dns_responder.py`).
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType
from typing import Any

from dr.sandbox.control import HttpControl
from dr.sandbox.dns_responder import DnsResponder
from dr.sandbox.extensions import _guard


class SandboxServer:
    """A running sandbox server. `endpoint` is what `AWS_ENDPOINT_URL` should be set to."""

    def __init__(self, server: Any, thread: threading.Thread, dns: DnsResponder) -> None:
        self._server = server
        self._thread = thread
        host, port = server.server_address[:2]
        self.host: str = str(host)
        self.port: int = int(port)
        self.endpoint = f"http://{self.host}:{self.port}"
        self.control = HttpControl(self.endpoint)
        self.dns = dns
        """The sandbox's authoritative DNS (UDP, same host): `dns.address` is for DRCTL_DNS_VERIFY."""

    def stop(self) -> None:
        """Stop serving and wait for the thread (idempotent)."""
        from dr.sandbox.extensions import sfn_tasks

        sfn_tasks.stop_serving(self.endpoint)
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=10)
        self._server.server_close()
        self.dns.stop()

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_server(host: str = "127.0.0.1", port: int = 0) -> SandboxServer:
    """Install the extensions and start serving on `host:port` (0 = a free port)."""
    from dr.sandbox.extensions import install

    install()
    app = build_app()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="drctl-sandbox", daemon=True)
    thread.start()
    served = SandboxServer(server, thread, DnsResponder(host))
    from dr.sandbox.extensions import sfn_tasks

    sfn_tasks.serve_at(served.endpoint)  # the Step Functions interpreter's Tasks call this server back
    return served


def build_app() -> Any:
    """moto's domain-dispatching WSGI app (resolving each host once) wrapped in the sandbox middleware."""
    from moto.moto_server import werkzeug_app

    from dr.sandbox._moto_speedups import memo_dispatcher
    from dr.sandbox.middleware import SandboxMiddleware

    _guard.require_attrs(
        werkzeug_app, ["DomainDispatcherApplication", "create_backend_app", "MotoRequestHandler"], "moto server"
    )
    return SandboxMiddleware(memo_dispatcher(werkzeug_app.create_backend_app))
