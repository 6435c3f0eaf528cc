"""How Route53 decides a health check's status from its configuration, for the reads that must decide it.

CloudWatch's `AWS/Route53` `HealthCheckStatus` already carries Route53's verdict. Its fallback,
GetHealthCheckStatus, does not: each observation is "the status of the health check endpoint as reported by one
of the Route 53 health checkers" (Route 53 API Reference, StatusReport), and a calculated check has none ("You
can't use GetHealthCheckStatus to get the status of a calculated health check", GetHealthCheckStatus). So the
fallback applies the check's configuration as Route53 does (Route 53 API Reference, HealthCheckConfig):

- `Disabled`: "Route 53 considers the status of the health check to always be healthy"; to stop traffic to a
  disabled check's resource AWS says to change `Inverted`, so a disabled inverted check is unhealthy;
- `Inverted`: Route53 considers the check unhealthy when it would otherwise be healthy, and vice versa;
- `CALCULATED`: healthy when at least `HealthThreshold` of its child checks are healthy (0: always healthy; more
  than it has children: never), then Disabled and Inverted as above.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

CALCULATED = "CALCULATED"
MAX_NESTING = 3
"""Calculated checks of calculated checks followed this deep at most; deeper counts as unreadable."""


@dataclass(frozen=True)
class CheckConfig:
    """The parts of a health check's configuration that decide how Route53 considers its status."""

    id: str
    type: str
    inverted: bool = False
    disabled: bool = False
    health_threshold: int = 0
    children: tuple[str, ...] = ()

    @classmethod
    def parse(cls, check: Mapping[str, Any]) -> CheckConfig:
        """From one `HealthCheck` of GetHealthCheck or ListHealthChecks."""
        config = check.get("HealthCheckConfig") or {}
        return cls(
            id=str(check["Id"]),
            type=str(config.get("Type", "")),
            inverted=bool(config.get("Inverted", False)),
            disabled=bool(config.get("Disabled", False)),
            health_threshold=int(config.get("HealthThreshold") or 0),
            children=tuple(str(c) for c in config.get("ChildHealthChecks") or ()),
        )

    @property
    def calculated(self) -> bool:
        return self.type == CALCULATED

    def considered(self, measured: bool) -> bool:
        """Route53's verdict from what was measured: a disabled check is healthy, then Inverted flips."""
        return (True if self.disabled else measured) != self.inverted

    def calculated_verdict(self, healthy_children: int) -> bool:
        """A calculated check's verdict from how many of its children are healthy."""
        return self.considered(healthy_children >= self.health_threshold)

    def describe(self) -> str:
        """What in the configuration decided the verdict, for reasons ('' when nothing special)."""
        flags = [name for name, on in (("disabled", self.disabled), ("inverted", self.inverted)) if on]
        return " and ".join(flags)


class ConfigReader:
    """Health-check configurations of one account, each read at most once while this object is used.

    Several at once come from ListHealthChecks (up to 1,000 a page) rather than one GetHealthCheck each:
    Route53's control plane allows only a few requests a second per account.
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self._configs: dict[str, CheckConfig] = {}
        self._lock = threading.Lock()

    def prefetch(self, ids: Iterable[str]) -> None:
        """Read the configurations of `ids` in as few calls as possible; failures are left to `get`."""
        missing = {hc for hc in ids if hc not in self._configs}
        if len(missing) < 2:
            return
        request: dict[str, str] = {"MaxItems": "1000"}
        try:
            while missing:
                page = self._client.list_health_checks(**request)
                with self._lock:
                    for check in page.get("HealthChecks", []):
                        config = CheckConfig.parse(check)
                        self._configs[config.id] = config
                        missing.discard(config.id)
                if not page.get("IsTruncated") or not page.get("NextMarker"):
                    return
                request["Marker"] = str(page["NextMarker"])
        except Exception:  # each check is then read on its own, and its error reported there
            return

    def get(self, hc_id: str) -> CheckConfig:
        """The configuration of `hc_id` (GetHealthCheck unless already read); raises AWS's error."""
        with self._lock:
            known = self._configs.get(hc_id)
        if known is not None:
            return known
        config = CheckConfig.parse(self._client.get_health_check(HealthCheckId=hc_id)["HealthCheck"])
        with self._lock:
            self._configs[hc_id] = config
        return config
