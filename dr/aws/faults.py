"""Client-side fault injection through botocore events: regional outages, latency, throttling.

Registered on each client the factory makes, so the code under test is unchanged. An outage makes every
request to a region fail as a dead region does (connect timeout) before anything is sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

OUTAGE_ENV_VAR = "DRCTL_SIMULATE_OUTAGE"


@dataclass
class Faults:
    """What to inject. `outage_regions` fail; `latency` seconds are added to every request; `throttle`
    maps an operation name (e.g. "ChangeResourceRecordSets") to how many of its next calls get a
    Throttling error without reaching AWS."""

    outage_regions: set[str] = field(default_factory=set)
    latency: float = 0.0
    throttle: dict[str, int] = field(default_factory=dict)
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    on_call: Callable[[str, str, str], None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def attach(self, client: Any, region: str) -> None:
        """Register the hooks on one client (its region is fixed at creation)."""
        service = client.meta.service_model.service_name
        events = client.meta.events
        events.register(f"before-call.{service}", self._before_call(service, region))
        events.register(f"before-send.{service}", self._before_send())

    def _before_call(self, service: str, region: str) -> Callable[..., Any]:
        def hook(model: Any, **_: Any) -> Any:
            if region in self.outage_regions:
                # Raised before botocore's own retry loop: the failure is immediate and drctl's retry
                # policy, not botocore's backoff, decides what happens next.
                from botocore.exceptions import ConnectTimeoutError

                with self._lock:
                    self.calls.append((service, model.name, region))
                raise ConnectTimeoutError(endpoint_url=f"{service}.{region} (simulated outage of {region})")
            with self._lock:
                self.calls.append((service, model.name, region))
                remaining = self.throttle.get(model.name, 0)
                if remaining > 0:
                    self.throttle[model.name] = remaining - 1
            if self.on_call:
                self.on_call(service, model.name, region)
            if remaining > 0:
                return _error_response(400, "Throttling", "Rate exceeded (injected by drctl faults)")
            return None

        return hook

    def _before_send(self) -> Callable[..., Any]:
        def hook(**_: Any) -> None:
            if self.latency > 0:
                time.sleep(self.latency)

        return hook

    def count(self, service: str | None = None, operation: str | None = None) -> int:
        with self._lock:
            return sum(1 for s, o, _ in self.calls if (service in (None, s)) and (operation in (None, o)))


def _error_response(status: int, code: str, message: str) -> tuple[Any, dict[str, Any]]:
    """A parsed (http_response, parsed) pair that makes botocore raise ClientError(code)."""

    class _Http:
        status_code = status
        headers: dict[str, str] = {}
        content = b""

    return _Http(), {"Error": {"Code": code, "Message": message},
                     "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}}}
