"""The sandbox server's WSGI middleware: control endpoints, call counting, latency, Route53 throttling.

Off by default (no latency, no throttling); counting is always on. Route53 admission, per account:
1. the token bucket (`STATE.route53_throttle`: rate/s, burst) must have a token, else HTTP 400
   `Throttling`, as AWS answers when the account exceeds its Route53 API rate;
2. a `ChangeResourceRecordSets` is refused with HTTP 400 `PriorRequestNotComplete` while another
   `ChangeResourceRecordSets` for the same hosted zone is still being processed, i.e. between its
   arrival and its response (the injected latency counts as processing). A change that is merely
   PENDING (propagating) does not block the next one, as in AWS. Applied only while throttling is on.
RDS admission (`STATE.rds_throttle`), per account and region: a token bucket, else HTTP 400
`ThrottlingException` ("Rate exceeded"), as the RDS User Guide documents its API throttling.
Regional outage (`STATE.outages`, dr/sandbox/extensions/outage.py): a call whose SigV4 scope (or host)
names a region in outage waits `STATE.outage_hang_seconds`, then its connection is dropped without a
response. Every call first lets the modelled application load catch up (dr/sandbox/data/load.py).
Rejected calls are counted as calls and, separately, as rejections.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from dr.sandbox.calls import CallInfo, identify
from dr.sandbox.control import CONTROL_PREFIX, LocalControl, SandboxControlError, dispatch
from dr.sandbox.extensions import arc_endpoints
from dr.sandbox.extensions.inprocess_lock import MOTO_LOCK
from dr.sandbox.extensions.outage import before_call, region_of_request
from dr.sandbox.extensions.state import STATE, ThrottleSpec
from dr.sandbox.throttle import BucketsByKey

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

THROTTLING = "Throttling"
RDS_THROTTLING = "ThrottlingException"
ROUTE53_XMLNS = "https://route53.amazonaws.com/doc/2013-04-01/"
RDS_XMLNS = "http://rds.amazonaws.com/doc/2014-10-31/"
PRIOR_REQUEST_NOT_COMPLETE = "PriorRequestNotComplete"
CHANGE_OPERATION = "ChangeResourceRecordSets"
REGION_OUTAGE = "RegionOutage"
"""How calls dropped by a regional outage are counted in `stats().rejected`."""


class SandboxMiddleware:
    """Wraps moto's WSGI app; `monotonic` drives the token buckets and `sleep` the latency (tests inject fakes)."""

    def __init__(
        self,
        app: WsgiApp,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.app = app
        self.control = LocalControl()
        self._monotonic = monotonic
        self._sleep = sleep
        self._buckets: dict[str, tuple[ThrottleSpec, BucketsByKey]] = {}
        self._busy_zones: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            return self._control(path[len(CONTROL_PREFIX) :], environ, start_response)
        if path.startswith("/moto-api"):
            return self.app(environ, start_response)
        call = identify(environ)
        with STATE.lock:
            STATE.stats.add_call(call.service, call.operation)
        region = call.region if call.region != "unknown" else region_of_request("", environ.get("HTTP_HOST"))
        if before_call(region):
            self._drop(call, environ)
        if call.service == "route53":
            return self._route53(call, environ, start_response)
        if arc_endpoints.is_arc(environ):  # moto has no ARC: the sandbox answers it (after the outage check)
            self._delay()
            return arc_endpoints.wsgi(environ, start_response)
        spec = STATE.rds_throttle if call.service == "rds" else None
        if spec is not None and not self._bucket("rds", spec).take(f"{_account(call.access_key)}/{call.region}"):
            return self._reject(RDS_THROTTLING, "Rate exceeded", call, start_response, RDS_XMLNS)
        self._delay()
        return self._dispatch(environ, start_response)

    def _dispatch(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        """moto's answer, one request at a time: its models are not thread-safe, and the threaded server's parallel
        requests (a run's fences and promotions) raised "OrderedDict mutated during iteration" as HTTP 500s. The
        latency and the outage hang stay outside the lock, so a slow or dead region never holds up another."""
        with MOTO_LOCK:
            iterable = self.app(environ, start_response)
            response = list(iterable)
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
        return response

    def _route53(self, call: CallInfo, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        spec = STATE.route53_throttle
        if spec is not None and not self._bucket("route53", spec).take(_account(call.access_key)):
            return self._reject(THROTTLING, "Rate exceeded", call, start_response)
        zone = call.params.get("Id") if call.operation == CHANGE_OPERATION else None
        if zone is not None and spec is not None and not self._claim(zone):
            message = f"The request was rejected because Route 53 was still processing a prior request for {zone}."
            return self._reject(PRIOR_REQUEST_NOT_COMPLETE, message, call, start_response)
        try:
            self._delay()
            response = self._dispatch(environ, start_response)
        finally:
            if zone is not None and spec is not None:
                self._release(zone)
        if zone is not None:
            with STATE.lock:
                STATE.stats.add_zone_change(zone)
        return response

    def _drop(self, call: CallInfo, environ: dict[str, Any]) -> None:
        """A region in outage: hang, then drop the connection without a response (botocore raises
        ConnectionClosedError, a connection error it retries, like the connect timeout of a dead region)."""
        with STATE.lock:
            STATE.stats.add_rejection(REGION_OUTAGE, call.operation)
        self._sleep(STATE.outage_hang_seconds)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > 0:
            environ["wsgi.input"].read(length)  # consumed, so the server never reads it as a next request
        connection = environ.get("werkzeug.socket")
        if connection is not None:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        raise ConnectionAbortedError(f"sandbox outage of {call.region}: connection dropped")

    def _delay(self) -> None:
        seconds = STATE.latency_seconds
        if seconds > 0:
            self._sleep(seconds)

    def _bucket(self, service: str, spec: ThrottleSpec) -> BucketsByKey:
        """The service's buckets, new (full) whenever its throttle is set, even to the same values: setting it
        starts the API at rest."""
        with self._lock:
            current = self._buckets.get(service)
            if current is None or current[0] is not spec:
                current = self._buckets[service] = (spec, BucketsByKey(spec.rate, spec.burst, self._monotonic))
            return current[1]

    def _claim(self, zone: str) -> bool:
        with self._lock:
            if zone in self._busy_zones:
                return False
            self._busy_zones.add(zone)
            return True

    def _release(self, zone: str) -> None:
        with self._lock:
            self._busy_zones.discard(zone)

    def _reject(self, code: str, message: str, call: CallInfo, start_response: StartResponse,
                xmlns: str = ROUTE53_XMLNS) -> Iterable[bytes]:
        with STATE.lock:
            STATE.stats.add_rejection(code, call.operation)
        request_id = str(uuid.uuid4())
        body = (
            f'<?xml version="1.0"?>\n<ErrorResponse xmlns="{xmlns}">'
            f"<Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        start_response(
            "400 Bad Request",
            [("Content-Type", "text/xml"), ("Content-Length", str(len(body))), ("x-amzn-RequestId", request_id)],
        )
        return [body]

    def _control(self, method: str, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length > 0 else b""
            kwargs = json.loads(raw or b"{}")
            if not isinstance(kwargs, dict):
                raise SandboxControlError("a control request body is a JSON object of arguments")
            status, payload = "200 OK", {"result": dispatch(self.control, method, kwargs)}
        except (SandboxControlError, TypeError, ValueError) as err:
            status, payload = "400 Bad Request", {"error": str(err)}
        body = json.dumps(payload).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def _account(access_key: str) -> str:
    """The AWS account behind an access key (moto tracks assumed-role keys), for the per-account bucket."""
    try:
        from moto.iam.models import get_account_id_from

        return str(get_account_id_from(access_key))
    except (ImportError, KeyError, AttributeError):
        return access_key
