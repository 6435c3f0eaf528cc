"""The sandbox's process-global knobs and registries, shared by every extension and the control API.

One `STATE` per process: in server mode it lives in the server process and `HttpControl` reaches it
through the `/_drctl/` endpoints; under `mock_aws` it lives in the test process (`LocalControl`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dr.clock import SYSTEM_CLOCK, Clock, iso


@dataclass(frozen=True)
class LagSetting:
    """What the CloudWatch backend answers for one replica's lag metric.

    `seconds` None means "no data" (no datapoints at all); -1 means replication is broken (published as -1
    for every engine). `age_seconds` is how old the newest datapoint is (a stale metric).
    """

    seconds: float | None
    age_seconds: float = 0.0


@dataclass(frozen=True)
class LagKey:
    account_id: str
    region: str
    engine: str
    identifier: str


@dataclass(frozen=True)
class PromotionEvent:
    """A promotion the sandbox performed: `done_at` is the wall time its status reads final (available)."""

    kind: str  # db-instance | db-cluster | global-switchover | global-failover
    account_id: str
    region: str
    identifier: str
    requested_at: datetime
    done_at: datetime

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PromotionEvent:
        from dr.clock import parse_iso

        return cls(
            data["kind"],
            data["account_id"],
            data["region"],
            data["identifier"],
            parse_iso(data["requested_at"]),
            datetime.fromtimestamp(float(data["done_at_epoch"]), tz=UTC),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "account_id": self.account_id,
            "region": self.region,
            "identifier": self.identifier,
            "requested_at": iso(self.requested_at),
            "done_at": iso(self.done_at),
            "done_at_epoch": self.done_at.timestamp(),
        }


@dataclass(frozen=True)
class Outage:
    """A region that is down since `since` (sandbox time); `mark` orders it against explicit health settings."""

    since: datetime
    mark: int


@dataclass(frozen=True)
class ThrottleSpec:
    """An API's token bucket (Route53's control plane, RDS): `rate` tokens/s refill, `burst` capacity."""

    rate: float = 10.0
    burst: int = 50


@dataclass
class CallStats:
    """What the server's middleware counted: calls per service and operation, Route53 changes per
    hosted zone, and rejections it injected (`Throttling`, `PriorRequestNotComplete`) per operation."""

    calls: dict[str, dict[str, int]] = field(default_factory=dict)
    route53_changes_by_zone: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, dict[str, int]] = field(default_factory=dict)

    def add_call(self, service: str, operation: str) -> None:
        per_service = self.calls.setdefault(service, {})
        per_service[operation] = per_service.get(operation, 0) + 1

    def add_zone_change(self, zone_id: str) -> None:
        self.route53_changes_by_zone[zone_id] = self.route53_changes_by_zone.get(zone_id, 0) + 1

    def add_rejection(self, code: str, operation: str) -> None:
        per_code = self.rejected.setdefault(code, {})
        per_code[operation] = per_code.get(operation, 0) + 1

    def total(self, service: str | None = None) -> int:
        return sum(n for svc, ops in self.calls.items() if service in (None, svc) for n in ops.values())

    def to_json(self) -> dict[str, Any]:
        return {"calls": self.calls, "route53_changes_by_zone": self.route53_changes_by_zone, "rejected": self.rejected}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CallStats:
        return cls(
            calls={k: dict(v) for k, v in data.get("calls", {}).items()},
            route53_changes_by_zone=dict(data.get("route53_changes_by_zone", {})),
            rejected={k: dict(v) for k, v in data.get("rejected", {}).items()},
        )


@dataclass
class SandboxState:
    """Everything the control API can set. `reset()` returns to the defaults (all faults off)."""

    clock: Clock = SYSTEM_CLOCK
    promotion_seconds: float = 0.0
    promotion_seconds_by_id: dict[str, float] = field(default_factory=dict)
    """Per-database promotion times (by the promoted instance's or cluster's id), overriding the global one."""
    change_pending_seconds: float = 0.0
    metric_period_seconds: float = 60.0
    """How far apart the sandbox's metric datapoints are and how long a CloudWatch `Period` of 60 lasts: AWS's
    minute (RDS and Route53 send metrics every minute); a benchmark scales it as it scales promotions."""
    default_lag_seconds: float | None = None
    """Lag every replica without its own setting publishes (AWS publishes lag for every replica); None: only
    replicas given a setting publish (plain moto tests that put their own datapoints)."""
    latency_seconds: float = 0.0
    route53_throttle: ThrottleSpec | None = None
    rds_throttle: ThrottleSpec | None = None
    """RDS API token bucket per account and region (AWS: 12 requests/s sustained, burst 300)."""
    health: dict[str, bool] = field(default_factory=dict)
    health_marks: dict[str, int] = field(default_factory=dict)
    """When each explicit health setting was made, on the `mark()` counter (an outage overrides older ones)."""
    outage_hang_seconds: float = 2.0
    """How long a call to a region in outage hangs before its connection fails."""
    outages: dict[str, Outage] = field(default_factory=dict)
    """Regions currently down, with when (sandbox time, `mark()` counter) each went down."""
    outage_history: list[tuple[str, datetime, datetime]] = field(default_factory=list)
    """Outages that ended: (region, start, end), for metrics that look back in time."""
    lag: dict[LagKey, LagSetting] = field(default_factory=dict)
    replication_states: dict[tuple[str, str, str], tuple[str, str | None]] = field(default_factory=dict)
    """Read-replication state per (account, region, lower-case instance id), when not `replicating`."""
    changes: dict[str, datetime] = field(default_factory=dict)
    dr_backups: dict[tuple[str, str, str], tuple[datetime, datetime]] = field(default_factory=dict)
    """Replicated automated backups per (account, destination region, source instance ARN): (earliest, latest)
    restorable time (`dr.sandbox.extensions.rds_dr_backups`)."""
    recovery_points: dict[tuple[str, str, str], list[dict[str, Any]]] = field(default_factory=dict)
    """AWS Backup recovery points per (account, region, vault) (`dr.sandbox.extensions.backup_recovery_points`)."""
    rds_quotas: dict[tuple[str, str, str], int] = field(default_factory=dict)
    """RDS account quota maximums per (account, region, quota name) set through the control API."""
    events: list[PromotionEvent] = field(default_factory=list)
    stats: CallStats = field(default_factory=CallStats)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _marks: int = 0

    def mark(self) -> int:
        """A counter that orders settings and faults (explicit health set after an outage began wins)."""
        with self.lock:
            self._marks += 1
            return self._marks

    def reset(self, clock: Clock | None = None) -> None:
        with self.lock:
            self.clock = clock or SYSTEM_CLOCK
            self.promotion_seconds = 0.0
            self.promotion_seconds_by_id.clear()
            self.change_pending_seconds = 0.0
            self.metric_period_seconds = 60.0
            self.default_lag_seconds = None
            self.latency_seconds = 0.0
            self.route53_throttle = None
            self.rds_throttle = None
            self.health.clear()
            self.health_marks.clear()
            self.outage_hang_seconds = 2.0
            self.outages.clear()
            self.outage_history.clear()
            self.lag.clear()
            self.changes.clear()
            self.replication_states.clear()
            self.dr_backups.clear()
            self.recovery_points.clear()
            self.rds_quotas.clear()
            self.events.clear()
            self.stats = CallStats()
        _data_model_reset()  # outside the lock: the data model takes STATE.lock inside its own

    def forget_resources(self) -> None:
        """Drop what the sandbox knows about individual resources (health, lag, replication states, changes,
        promotions, modelled writes and the application load), keeping the knobs (timings, faults, clock) and
        call counts. Called whenever moto resets its backends, so one test's seeded resources never leak into
        the next test's fresh world."""
        with self.lock:
            self.promotion_seconds_by_id.clear()
            self.default_lag_seconds = None  # set by seeding: belongs to the seeded world
            self.health.clear()
            self.health_marks.clear()
            self.lag.clear()
            self.changes.clear()
            self.replication_states.clear()
            self.dr_backups.clear()
            self.recovery_points.clear()
            self.rds_quotas.clear()
            self.events.clear()
        _data_model_reset()

    def promotion_seconds_for(self, identifier: str) -> float:
        """How long promoting `identifier` (an instance, a cluster, a global cluster's target member) takes."""
        with self.lock:
            return self.promotion_seconds_by_id.get(identifier, self.promotion_seconds)

    def now(self) -> datetime:
        return self.clock.now()

    def record_promotion(self, kind: str, account_id: str, region: str, identifier: str, done_at: datetime) -> None:
        event = PromotionEvent(kind, account_id, region, identifier, self.now(), done_at)
        with self.lock:
            self.events.append(event)


def _data_model_reset() -> None:
    """Stop the application load and forget the modelled write histories (they belong to the old world)."""
    from dr.sandbox.data.model import DATA

    DATA.clear()


STATE = SandboxState()
