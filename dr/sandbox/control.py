"""Control the sandbox: set health, lag, timings, faults (throttling, regional outages), the application
load; read call counts, promotion events and the data report.

`LocalControl` acts on moto's backends in this process (tests under `mock_aws`); `HttpControl` talks
to a sandbox server's `/_drctl/<method>` JSON endpoints, which run `LocalControl` in the server
process. Settings are process-global there: every client of the server sees them.
"""

from __future__ import annotations

import json
from typing import Any

from dr.clock import Clock, iso
from dr.errors import DrError
from dr.sandbox.control_protocol import DEFAULT_WRITE_INTERVAL, SandboxControl
from dr.sandbox.extensions.state import CallStats, LagSetting, PromotionEvent, ThrottleSpec

__all__ = ["CONTROL_PREFIX", "DEFAULT_WRITE_INTERVAL", "HttpControl", "LocalControl", "SandboxControl",
           "SandboxControlError", "dispatch"]

CONTROL_PREFIX = "/_drctl/"


class SandboxControlError(DrError):
    """A control request named something the sandbox does not have, or the server refused it."""

    exit_code = 2


class LocalControl:
    """Acts on this process's moto backends and sandbox state. `clock` drives every timed transition."""

    def __init__(self, clock: Clock | None = None) -> None:
        from dr.sandbox.extensions import STATE, install

        install()
        self._state = STATE
        self._clock = clock
        if clock is not None:
            STATE.clock = clock

    def set_health(self, health_check_id: str, healthy: bool) -> None:
        from dr.sandbox.extensions.route53_health import find_health_check, set_health

        if find_health_check(health_check_id) is None:
            raise SandboxControlError(f"no Route53 health check {health_check_id!r} in the sandbox")
        set_health(health_check_id, bool(healthy))

    def set_replica_lag(  # noqa: PLR0917 - the control API's documented positional signature
        self,
        account_id: str,
        region: str,
        engine: str,
        identifier: str,
        seconds: float | None,
        age_seconds: float = 0.0,
    ) -> None:
        from dr.config.model import Engine
        from dr.sandbox.extensions.replica_lag import register

        if engine not in {e.value for e in Engine}:
            raise SandboxControlError(f"unknown engine {engine!r}; one of {', '.join(e.value for e in Engine)}")
        value = None if seconds is None else float(seconds)
        _world_changes()
        register(account_id, region, engine, identifier, LagSetting(value, float(age_seconds)))

    def set_default_lag(self, seconds: float | None) -> None:
        _world_changes()
        self._state.default_lag_seconds = None if seconds is None else float(seconds)

    def set_promotion_seconds(self, seconds: float) -> None:
        self._state.promotion_seconds = _non_negative(seconds, "promotion seconds")

    def set_promotion_seconds_for(self, identifier: str, seconds: float | None) -> None:
        with self._state.lock:
            if seconds is None:
                self._state.promotion_seconds_by_id.pop(identifier, None)
            else:
                self._state.promotion_seconds_by_id[identifier] = _non_negative(seconds, "promotion seconds")

    def set_change_pending_seconds(self, seconds: float) -> None:
        self._state.change_pending_seconds = _non_negative(seconds, "change pending seconds")

    def set_metric_period_seconds(self, seconds: float) -> None:
        if float(seconds) <= 0:
            raise SandboxControlError(f"metric period seconds must be > 0, got {seconds}")
        self._state.metric_period_seconds = float(seconds)

    def set_replication_state(
        self, account_id: str, region: str, identifier: str, state: str, message: str | None = None
    ) -> None:
        from moto.rds.models import rds_backends

        from dr.sandbox.extensions.rds_replication_state import STATES, set_state

        if state not in STATES:
            raise SandboxControlError(f"unknown replication state {state!r}; one of {', '.join(STATES)}")
        if identifier not in rds_backends[account_id][region].databases:
            raise SandboxControlError(f"no DB instance {identifier!r} in account {account_id} {region}")
        _world_changes()
        set_state(account_id, region, identifier, state, message)

    def set_db_status(self, account_id: str, region: str, identifier: str, status: str) -> None:
        from moto.rds.models import rds_backends

        backend = rds_backends[account_id][region]
        globals_ = rds_backends[account_id]["us-east-1"].global_clusters
        for registry in (backend.databases, backend.clusters, globals_):
            target = registry.get(identifier)
            if target is not None:
                _world_changes()
                target.status = status
                return
        raise SandboxControlError(f"no DB instance or cluster {identifier!r} in account {account_id} {region}")

    def set_dr_backup(self, account_id: str, region: str, source_arn: str, age_seconds: float | None) -> None:
        from datetime import timedelta

        from dr.sandbox.extensions.rds_dr_backups import set_replicated_backup

        if age_seconds is None:
            set_replicated_backup(account_id, region, source_arn, None)
            return
        latest = self._state.now() - timedelta(seconds=_non_negative(age_seconds, "backup age"))
        set_replicated_backup(account_id, region, source_arn, (latest - timedelta(days=7), latest))

    def set_recovery_point(self, account_id: str, region: str, vault: str, resource_arn: str,
                           age_seconds: float | None) -> None:
        from datetime import timedelta

        from dr.sandbox.extensions.backup_recovery_points import set_recovery_point

        created = (None if age_seconds is None
                   else self._state.now() - timedelta(seconds=_non_negative(age_seconds, "recovery point age")))
        set_recovery_point(account_id, region, vault, resource_arn, created)

    def set_rds_quota(self, account_id: str, region: str, name: str, maximum: int) -> None:
        from dr.sandbox.extensions.rds_dr_backups import DEFAULT_QUOTAS

        if name not in DEFAULT_QUOTAS:
            raise SandboxControlError(f"unknown RDS quota {name!r}; one of {', '.join(DEFAULT_QUOTAS)}")
        with self._state.lock:
            self._state.rds_quotas[(account_id, region, name)] = int(_non_negative(maximum, "quota"))

    def set_latency(self, seconds: float) -> None:
        self._state.latency_seconds = _non_negative(seconds, "latency")

    def set_route53_throttle(self, rate: float | None, burst: int = 50) -> None:
        self._state.route53_throttle = _throttle(rate, burst)

    def set_rds_throttle(self, rate: float | None, burst: int = 300) -> None:
        self._state.rds_throttle = _throttle(rate, burst)

    def set_outage(self, region: str, down: bool = True) -> None:
        from dr.sandbox.extensions.outage import set_outage

        if not region or not isinstance(region, str):
            raise SandboxControlError(f"set_outage needs a region name, got {region!r}")
        set_outage(region, bool(down))

    def outages(self) -> dict[str, str]:
        from dr.sandbox.extensions.outage import outages

        return {region: iso(since) for region, since in outages().items()}

    def set_outage_hang_seconds(self, seconds: float) -> None:
        self._state.outage_hang_seconds = _non_negative(seconds, "outage hang seconds")

    def start_writes(self, interval_seconds: float = DEFAULT_WRITE_INTERVAL) -> None:
        from dr.sandbox.data.load import start_writes

        if not float(interval_seconds) > 0:
            raise SandboxControlError(f"the write interval must be > 0 seconds, got {interval_seconds}")
        start_writes(float(interval_seconds))

    def stop_writes(self) -> None:
        from dr.sandbox.data.load import stop_writes

        stop_writes()

    def data_report(self) -> dict[str, Any]:
        from dr.sandbox.data.report import data_report

        return data_report()

    def stats(self) -> CallStats:
        with self._state.lock:
            return CallStats.from_json(json.loads(json.dumps(self._state.stats.to_json())))

    def promotion_events(self) -> list[PromotionEvent]:
        with self._state.lock:
            return list(self._state.events)

    def reset(self) -> None:
        self._state.reset(self._clock)


def _world_changes() -> None:
    """The modelled writes up to now were made in the world as it was: catch them up before changing it."""
    from dr.sandbox.data.load import catch_up_if_running

    catch_up_if_running()


def _throttle(rate: float | None, burst: int) -> ThrottleSpec | None:
    if rate is None:
        return None
    if rate <= 0 or burst < 1:
        raise SandboxControlError(f"throttle needs rate > 0 and burst >= 1, got rate={rate} burst={burst}")
    return ThrottleSpec(float(rate), int(burst))


def _non_negative(seconds: float, what: str) -> float:
    value = float(seconds)
    if value < 0:
        raise SandboxControlError(f"{what} must be >= 0, got {value}")
    return value


_SETTERS = frozenset(
    {
        "set_health",
        "set_replica_lag",
        "set_default_lag",
        "set_promotion_seconds",
        "set_promotion_seconds_for",
        "set_change_pending_seconds",
        "set_metric_period_seconds",
        "set_replication_state",
        "set_db_status",
        "set_dr_backup",
        "set_rds_quota",
        "set_recovery_point",
        "set_latency",
        "set_route53_throttle",
        "set_rds_throttle",
        "set_outage",
        "set_outage_hang_seconds",
        "start_writes",
        "stop_writes",
        "reset",
    }
)


def dispatch(control: LocalControl, method: str, kwargs: dict[str, Any]) -> Any:
    """Run one control request (the server side of `HttpControl`); returns a JSON-able result."""
    if method in _SETTERS:
        getattr(control, method)(**kwargs)
        return None
    if method == "stats":
        return control.stats().to_json()
    if method == "promotion_events":
        return [event.to_json() for event in control.promotion_events()]
    if method == "outages":
        return control.outages()
    if method == "data_report":
        return control.data_report()
    raise SandboxControlError(f"unknown sandbox control method {method!r}")


class HttpControl:
    """Controls a sandbox server at `endpoint_url` (e.g. `http://127.0.0.1:5000`)."""

    def __init__(self, endpoint_url: str, timeout: float = 10.0) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, **kwargs: Any) -> Any:
        import urllib.error
        import urllib.request

        request = urllib.request.Request(
            f"{self.endpoint_url}{CONTROL_PREFIX}{method}",
            data=json.dumps(kwargs).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null").get("result")
        except urllib.error.HTTPError as err:
            raise SandboxControlError(_error_text(err)) from None
        except (urllib.error.URLError, OSError) as err:
            raise SandboxControlError(f"sandbox server at {self.endpoint_url} unreachable: {err}") from None

    def set_health(self, health_check_id: str, healthy: bool) -> None:
        self._call("set_health", health_check_id=health_check_id, healthy=healthy)

    def set_replica_lag(  # noqa: PLR0917 - the control API's documented positional signature
        self,
        account_id: str,
        region: str,
        engine: str,
        identifier: str,
        seconds: float | None,
        age_seconds: float = 0.0,
    ) -> None:
        self._call(
            "set_replica_lag",
            account_id=account_id,
            region=region,
            engine=str(engine),
            identifier=identifier,
            seconds=seconds,
            age_seconds=age_seconds,
        )

    def set_default_lag(self, seconds: float | None) -> None:
        self._call("set_default_lag", seconds=seconds)

    def set_promotion_seconds(self, seconds: float) -> None:
        self._call("set_promotion_seconds", seconds=seconds)

    def set_promotion_seconds_for(self, identifier: str, seconds: float | None) -> None:
        self._call("set_promotion_seconds_for", identifier=identifier, seconds=seconds)

    def set_change_pending_seconds(self, seconds: float) -> None:
        self._call("set_change_pending_seconds", seconds=seconds)

    def set_metric_period_seconds(self, seconds: float) -> None:
        self._call("set_metric_period_seconds", seconds=seconds)

    def set_replication_state(
        self, account_id: str, region: str, identifier: str, state: str, message: str | None = None
    ) -> None:
        self._call(
            "set_replication_state",
            account_id=account_id,
            region=region,
            identifier=identifier,
            state=state,
            message=message,
        )

    def set_db_status(self, account_id: str, region: str, identifier: str, status: str) -> None:
        self._call("set_db_status", account_id=account_id, region=region, identifier=identifier, status=status)

    def set_dr_backup(self, account_id: str, region: str, source_arn: str, age_seconds: float | None) -> None:
        self._call("set_dr_backup", account_id=account_id, region=region, source_arn=source_arn,
                   age_seconds=age_seconds)

    def set_recovery_point(self, account_id: str, region: str, vault: str, resource_arn: str,
                           age_seconds: float | None) -> None:
        self._call("set_recovery_point", account_id=account_id, region=region, vault=vault,
                   resource_arn=resource_arn, age_seconds=age_seconds)

    def set_rds_quota(self, account_id: str, region: str, name: str, maximum: int) -> None:
        self._call("set_rds_quota", account_id=account_id, region=region, name=name, maximum=maximum)

    def set_latency(self, seconds: float) -> None:
        self._call("set_latency", seconds=seconds)

    def set_route53_throttle(self, rate: float | None, burst: int = 50) -> None:
        self._call("set_route53_throttle", rate=rate, burst=burst)

    def set_rds_throttle(self, rate: float | None, burst: int = 300) -> None:
        self._call("set_rds_throttle", rate=rate, burst=burst)

    def set_outage(self, region: str, down: bool = True) -> None:
        self._call("set_outage", region=region, down=down)

    def outages(self) -> dict[str, str]:
        return dict(self._call("outages"))

    def set_outage_hang_seconds(self, seconds: float) -> None:
        self._call("set_outage_hang_seconds", seconds=seconds)

    def start_writes(self, interval_seconds: float = DEFAULT_WRITE_INTERVAL) -> None:
        self._call("start_writes", interval_seconds=interval_seconds)

    def stop_writes(self) -> None:
        self._call("stop_writes")

    def data_report(self) -> dict[str, Any]:
        return dict(self._call("data_report"))

    def stats(self) -> CallStats:
        return CallStats.from_json(self._call("stats"))

    def promotion_events(self) -> list[PromotionEvent]:
        return [PromotionEvent.from_json(item) for item in self._call("promotion_events")]

    def reset(self) -> None:
        self._call("reset")


def _error_text(err: Any) -> str:
    """The server's error message from an HTTPError (JSON `{"error": ...}`), else the HTTP status."""
    try:
        return str(json.loads(err.read()).get("error") or err)
    except (ValueError, AttributeError):
        return f"sandbox control request failed: HTTP {err.code}"
