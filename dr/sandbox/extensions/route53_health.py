"""Route53 health checks whose status the sandbox controls, reported as AWS reports it.

moto always reports one healthy observation. Here each check is healthy unless set unhealthy
(`STATE.health`), and the reported status honours the check's config as AWS documents: a disabled
check is considered healthy, and `Inverted` flips the result (so disabled + inverted is unhealthy).
CloudWatch in us-east-1 carries the same status as AWS publishes it: `AWS/Route53` `HealthCheckStatus`
(1 healthy, 0 unhealthy) per `HealthCheckId`, one datapoint a minute.

A check tagged `drctl:region` (the seed tags each check with the region of the endpoint it watches) is
unhealthy while that region is in outage: its endpoint does not answer the checkers ("How Amazon Route 53
determines whether a health check is healthy", Route 53 Developer Guide). A status set explicitly after
the outage began wins; when the outage ends the check reads what it read before (or its later setting).
"""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from dr.sandbox.extensions import _guard
from dr.sandbox.extensions.state import STATE

CHECKER_REGIONS = ("us-east-1", "us-west-1", "us-west-2", "eu-west-1", "ap-southeast-1", "ap-northeast-1")
METRIC_REGION = "us-east-1"
METRIC_HISTORY = 5
_providers: list[type] = []
HEALTHY_REPORT = "Success: HTTP Status Code 200, OK"
UNHEALTHY_REPORT = "Failure: HTTP Status Code 503, Service Unavailable"


def install() -> None:
    from moto.route53.models import HealthCheck, Route53Backend
    from moto.route53.responses import Route53

    _guard.require_attrs(Route53Backend, ["get_health_check"], "Route53Backend")
    _guard.expect_params(
        HealthCheck.__init__, ["health_check_id", "caller_reference", "health_check_args"], "HealthCheck"
    )
    _guard.replace(Route53, "get_health_check_status", _get_health_check_status, [])
    _install_metric_provider()


def _install_metric_provider() -> None:
    from moto.core.common_models import CloudWatchMetricProvider

    if _providers:
        return

    class _HealthCheckStatusProvider(CloudWatchMetricProvider):
        @staticmethod
        def get_cloudwatch_metrics(account_id: str, region: str) -> list[Any]:
            return health_datapoints(account_id) if region == METRIC_REGION else []

    _providers.append(_HealthCheckStatusProvider)


def health_datapoints(account_id: str) -> list[Any]:
    """`HealthCheckStatus` datapoints for every health check of the account, at the sandbox's now."""
    from moto.cloudwatch.models import MetricDatum
    from moto.route53.models import route53_backends

    if account_id not in route53_backends:
        return []
    checks = [c for backend in list(route53_backends[account_id].values()) for c in backend.health_checks.values()]
    now = STATE.now().astimezone(UTC).replace(tzinfo=None, microsecond=0)
    return [
        MetricDatum(
            "AWS/Route53",
            "HealthCheckStatus",
            1.0 if effective_health(check) else 0.0,
            [{"Name": "HealthCheckId", "Value": check.id}],
            now - timedelta(minutes=k),
            None,
        )
        for check in checks
        for k in range(METRIC_HISTORY)
    ]


def set_health(health_check_id: str, healthy: bool) -> None:
    with STATE.lock:
        STATE.health[health_check_id] = healthy
        STATE.health_marks[health_check_id] = STATE.mark()


def effective_health(check: Any) -> bool:
    """What Route53 considers the check to be: raw status, disabled => healthy, then inverted."""
    region = watched_region(check)
    with STATE.lock:
        raw = STATE.health.get(check.id, True)
        outage = STATE.outages.get(region) if region else None
        if outage is not None and STATE.health_marks.get(check.id, 0) < outage.mark:
            raw = False  # the watched endpoint's region is down; an explicit setting made since wins
    considered = True if check.disabled else raw
    return considered != bool(check.inverted)


def watched_region(check: Any) -> str | None:
    """The region named by the check's `drctl:region` tag, if it has one."""
    from moto.route53.models import route53_backends

    from dr.sandbox.extensions.outage import REGION_TAG

    for _account, per_partition in list(route53_backends.items()):
        for backend in list(per_partition.values()):
            tags = backend.resource_tags.get(check.id) if check.id in backend.resource_tags else None
            if tags and REGION_TAG in tags:
                return str(tags[REGION_TAG])
    return None


def find_health_check(health_check_id: str) -> Any | None:
    """The check with this id in any account the sandbox has seen, else None."""
    from moto.route53.models import route53_backends

    for _account, per_partition in list(route53_backends.items()):
        for backend in list(per_partition.values()):
            check = backend.health_checks.get(health_check_id)
            if check is not None:
                return check
    return None


def _get_health_check_status(self: Any) -> Any:
    from moto.core.responses import ActionResult
    from moto.core.utils import utcnow

    check = self.backend.get_health_check(self._get_param("HealthCheckId"))  # NoSuchHealthCheck when missing
    report = HEALTHY_REPORT if effective_health(check) else UNHEALTHY_REPORT
    checked = utcnow()
    observations = [
        {
            "Region": region,
            "IPAddress": check.ip_address or "192.0.2.1",
            "StatusReport": {"Status": report, "CheckedTime": checked},
        }
        for region in CHECKER_REGIONS
    ]
    return ActionResult({"HealthCheckObservations": observations})
