"""The sandbox control API as a Protocol: what `LocalControl` and `HttpControl` (dr/sandbox/control.py) both do."""

from __future__ import annotations

from typing import Any, Protocol

from dr.sandbox.extensions.state import CallStats, PromotionEvent

DEFAULT_WRITE_INTERVAL = 0.05
"""Seconds between two writes of the application load (`start_writes`)."""


class SandboxControl(Protocol):
    """What tests, seeding and benchmarks can change in the sandbox. All settings start off/zero."""

    def set_health(self, health_check_id: str, healthy: bool) -> None:
        """Make a Route53 health check's raw status healthy or unhealthy (Inverted/Disabled still apply)."""
        ...

    def set_replica_lag(  # noqa: PLR0917 - the control API's documented positional signature
        self,
        account_id: str,
        region: str,
        engine: str,
        identifier: str,
        seconds: float | None,
        age_seconds: float = 0.0,
    ) -> None:
        """Publish `seconds` of lag for a replica (-1 broken, None no data), newest datapoint `age_seconds` old."""
        ...

    def set_default_lag(self, seconds: float | None) -> None:
        """Lag published by every replica without its own setting (e.g. one failback creates); None: none."""
        ...

    def set_promotion_seconds(self, seconds: float) -> None:
        """How long a promotion / global switchover stays in its transitional status."""
        ...

    def set_promotion_seconds_for(self, identifier: str, seconds: float | None) -> None:
        """How long promoting this one instance/cluster (the member that becomes writer) takes; None: the global."""
        ...

    def set_change_pending_seconds(self, seconds: float) -> None:
        """How long a Route53 change stays PENDING before INSYNC."""
        ...

    def set_metric_period_seconds(self, seconds: float) -> None:
        """How long the sandbox's CloudWatch minute lasts (datapoint spacing, a `Period` of 60); 60 as on AWS."""
        ...

    def set_replication_state(
        self, account_id: str, region: str, identifier: str, state: str, message: str | None = None
    ) -> None:
        """What a read replica reports in StatusInfos: replicating (default), replication degraded, error..."""
        ...

    def set_db_status(self, account_id: str, region: str, identifier: str, status: str) -> None:
        """Force a DB instance's or cluster's (or global cluster's) status, e.g. `backing-up`."""
        ...

    def set_dr_backup(self, account_id: str, region: str, source_arn: str, age_seconds: float | None) -> None:
        """Backups of the instance `source_arn` replicated to `region` (RDS automated-backup replication), the newest
        restorable point `age_seconds` old (None: no replicated backup there)."""
        ...

    def set_recovery_point(self, account_id: str, region: str, vault: str, resource_arn: str,
                           age_seconds: float | None) -> None:
        """A COMPLETED AWS Backup recovery point of `resource_arn` in `vault`, `age_seconds` old (None: none)."""
        ...

    def set_rds_quota(self, account_id: str, region: str, name: str, maximum: int) -> None:
        """The `Max` DescribeAccountAttributes reports for quota `name` (DBInstances, DBClusters, ...)."""
        ...

    def set_latency(self, seconds: float) -> None:
        """Per-call latency the server adds to every AWS call (server mode only)."""
        ...

    def set_route53_throttle(self, rate: float | None, burst: int = 50) -> None:
        """Route53 token bucket per account (requests/s, burst); `rate=None` turns throttling off."""
        ...

    def set_rds_throttle(self, rate: float | None, burst: int = 300) -> None:
        """RDS token bucket per account and region (requests/s, burst); `rate=None` turns throttling off."""
        ...

    def set_outage(self, region: str, down: bool = True) -> None:
        """Take a region down (`down=False`: bring it back): calls to it hang, then fail; replication from it
        breaks; its tagged health checks fail; its databases take no writes."""
        ...

    def outages(self) -> dict[str, str]:
        """Regions down now, each with the ISO 8601 sandbox time it went down."""
        ...

    def set_outage_hang_seconds(self, seconds: float) -> None:
        """How long a call to a region in outage hangs before its connection fails (default 2 s)."""
        ...

    def start_writes(self, interval_seconds: float = DEFAULT_WRITE_INTERVAL) -> None:
        """Start the application load: a write to every copy that accepts one, every `interval_seconds`."""
        ...

    def stop_writes(self) -> None:
        """Stop the application load (replicas keep applying what was written)."""
        ...

    def data_report(self) -> dict[str, Any]:
        """Per database copy and per family: lineage, acknowledged and applied writes, lost writes,
        concurrent-writer ticks (docs/sandbox.md; read it with `dr.testing.data`)."""
        ...

    def stats(self) -> CallStats:
        """Calls counted by the server since the last reset."""
        ...

    def promotion_events(self) -> list[PromotionEvent]:
        """Promotions the sandbox performed, with the wall time each was marked done."""
        ...

    def reset(self) -> None:
        """All settings back to their defaults, registries and counters emptied (AWS state untouched)."""
        ...
