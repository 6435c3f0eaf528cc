"""The exporter's HTTP server: a deep listen backlog, a bounded worker pool, a timeout per connection.

Plain `http.server` rather than WSGI: a scrape is one GET answered from bytes already rendered, and wsgiref's
per-request environ building cost more than the answer itself when 200 scrapes arrive at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

log = logging.getLogger(__name__)

Answer = tuple[int, str, bytes]
"""HTTP status, content type, body."""
Responder = Callable[[str], Answer]


class PooledServer(HTTPServer):
    """Accepts with a deep backlog and answers on a bounded pool of worker threads, so a burst of scrapes
    queues instead of being refused, and a slow or idle client holds one worker until its timeout, no more."""

    def __init__(self, address: tuple[str, int], respond: Responder, *, backlog: int, workers: int,
                 timeout: float) -> None:
        self.request_queue_size = backlog
        self.respond = respond
        handler = type("_Handler", (_Handler,), {"timeout": timeout})
        # before binding: a failed bind calls server_close, which shuts the pool down
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="drctl-exporter-http")
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        self._pool.submit(self._answer, request, client_address)

    def _answer(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that timed out or hung up is its own problem: one debug line, never a traceback."""
        log.debug("exporter HTTP connection from %s failed", client_address, exc_info=True)

    def server_close(self) -> None:
        super().server_close()
        self._pool.shutdown(wait=False, cancel_futures=True)


class _Handler(BaseHTTPRequestHandler):
    """GET only; no access log on stderr for every scrape; `timeout` (set per server) bounds an idle connection."""

    server: PooledServer
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:
        status, content_type, body = self.server.respond(self.path.split("?", 1)[0])
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle(self) -> None:
        try:
            super().handle()
        except (TimeoutError, ConnectionError):  # idle or gone: close quietly
            self.close_connection = True
