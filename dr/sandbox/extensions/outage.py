"""A regional outage as clients see it: every AWS call to the region hangs, then its connection fails.

AWS documents no "outage" API; what a client sees of a dead Region is its SDK's connect timeout: boto3's
`connect_timeout` (botocore `Config`, default 60 s) elapses, botocore raises `ConnectTimeoutError` and
retries it as a transient connection error (boto3 guide "Retries": "Transient errors ... connection
errors"). In-process (`mock_aws`) the sandbox sits where botocore would send: a call to a region in
outage waits `STATE.outage_hang_seconds` on the sandbox clock, then raises exactly that error. A sandbox
server cannot refuse a TCP connect per region (one port serves all), so its middleware waits, then drops
the connection without a response: botocore reports `ConnectionClosedError`, its closest connection error.

The region of a call is its SigV4 credential scope (or the `<service>.<region>.amazonaws.com` host). The
other faces of an outage follow the same `STATE.outages`: replication from the region breaks
(`rds_replication_state`, `replica_lag`), health checks tagged `drctl:region` with it fail
(`route53_health`), and the modelled databases there take no writes (`dr.sandbox.data`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from dr.sandbox.extensions import _guard
from dr.sandbox.extensions.state import STATE, Outage

REGION_TAG = "drctl:region"
"""Route53 health-check tag naming the region whose endpoint the check watches (the seed writes it)."""
_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/]+)/[^/]+/aws4_request")
_HOST = re.compile(r"^[a-z0-9-]+\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com")


_INTERCEPTORS: list[Callable[[Any], Any]] = []
"""Answerers of requests moto has no service for (e.g. `arc_endpoints`), asked after the outage check."""


def add_interceptor(answer: Callable[[Any], Any]) -> None:
    """Ask `answer(request)` about every in-process request that passed the outage check: a response it returns
    is the answer (moto is not asked); None lets moto handle the request. Idempotent."""
    if answer not in _INTERCEPTORS:
        _INTERCEPTORS.append(answer)


def install() -> None:
    from moto.core.botocore_stubber import BotocoreStubber

    _guard.replace(BotocoreStubber, "__call__", _stubbed_call, ["event_name", "request", "kwargs"])


def set_outage(region: str, down: bool) -> None:
    """Take `region` down (from now) or bring it back; idempotent. The data model catches up first, so
    writes before this instant are judged by the world as it was."""
    from dr.sandbox.data.load import catch_up_if_running

    catch_up_if_running()
    with STATE.lock:
        current = STATE.outages.get(region)
        if down and current is None:
            STATE.outages[region] = Outage(STATE.now(), STATE.mark())
        elif not down and current is not None:
            del STATE.outages[region]
            STATE.outage_history.append((region, current.since, STATE.now()))


def outages() -> dict[str, datetime]:
    """Regions down now, with the sandbox time each went down."""
    with STATE.lock:
        return {region: outage.since for region, outage in STATE.outages.items()}


def is_down(region: str | None) -> bool:
    with STATE.lock:
        return region is not None and region in STATE.outages


def down_since(region: str | None, at: datetime) -> datetime | None:
    """When the outage that covers instant `at` in `region` began (None: the region was up at `at`)."""
    if region is None:
        return None
    with STATE.lock:
        current = STATE.outages.get(region)
        if current is not None and current.since <= at:
            return current.since
        for past_region, start, end in STATE.outage_history:
            if past_region == region and start <= at < end:
                return start
    return None


def region_of_request(authorization: str, host: str | None) -> str | None:
    """The region an AWS request is for: its SigV4 credential scope, else a regional AWS host name."""
    found = _SCOPE.search(authorization)
    if found:
        return found.group(1)
    hosted = _HOST.match(host or "")
    return hosted.group(1) if hosted else None


def before_call(region: str | None) -> bool:
    """Every AWS call the sandbox receives passes here first: the modelled application load catches up
    to now (the call may change what accepts writes), then the answer is whether the region is down."""
    from dr.sandbox.data.load import catch_up_if_running

    catch_up_if_running()
    return is_down(region)


def _stubbed_call(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
    if self.enabled:
        auth = request.headers.get("Authorization", "")
        auth = auth.decode("utf-8", "replace") if isinstance(auth, bytes) else str(auth)
        if before_call(region_of_request(auth, urlsplit(request.url).hostname)):
            from botocore.exceptions import ConnectTimeoutError

            STATE.clock.sleep(STATE.outage_hang_seconds)
            raise ConnectTimeoutError(endpoint_url=request.url)
        for intercept in list(_INTERCEPTORS):
            answered = intercept(request)
            if answered is not None:
                return answered
    original = _guard.original(type(self), "__call__")
    return original(self, event_name, request, **kwargs)
