"""Route53 health checks whose status the sandbox controls, reported as AWS reports it.

moto always reports one healthy observation, for any check. Here each endpoint is healthy unless set
unhealthy (`STATE.health`), and the two reads differ as in AWS (Route 53 API Reference):
- GetHealthCheckStatus returns what each checker saw of the endpoint ("StatusReport": "the status of the
  health check endpoint as reported by one of the Route 53 health checkers"), whatever Inverted or Disabled
  say, and refuses a calculated check with InvalidInput ("GetHealthCheckStatus": "You can't use
  GetHealthCheckStatus to get the status of a calculated health check");
- CloudWatch in us-east-1 carries Route53's verdict: `AWS/Route53` `HealthCheckStatus` (1 healthy, 0 unhealthy)
  per `HealthCheckId`, one datapoint a minute, after the configuration ("HealthCheckConfig"): a disabled check
  is considered healthy, `Inverted` flips (so disabled + inverted is unhealthy), and a calculated check is
  healthy when at least `HealthThreshold` of its children are.

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

CALCULATED = "CALCULATED"
CHECKER_REGIONS = ("us-east-1", "us-west-1", "us-west-2", "eu-west-1", "ap-southeast-1", "ap-northeast-1")
METRIC_REGION = "us-east-1"
METRIC_HISTORY = 5
_providers: list[type] = []
HEALTHY_REPORT = "Success: HTTP Status Code 200, OK"
UNHEALTHY_REPORT = "Failure: HTTP Status Code 503, Service Unavailable"


def install() -> None:
    from moto.route53 import exceptions
    from moto.route53.models import HealthCheck, Route53Backend
    from moto.route53.responses import Route53

    _guard.require_attrs(Route53Backend, ["get_health_check"], "Route53Backend")
    _guard.require_attrs(exceptions, ["InvalidInput"], "moto.route53.exceptions")
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
            now - k * timedelta(seconds=STATE.metric_period_seconds),
            None,
        )
        for check in checks
        for k in range(METRIC_HISTORY)
    ]


def set_health(health_check_id: str, healthy: bool) -> None:
    with STATE.lock:
        STATE.health[health_check_id] = healthy
        STATE.health_marks[health_check_id] = STATE.mark()


def endpoint_health(check: Any) -> bool:
    """What the checkers see of the endpoint: healthy unless set unhealthy or its region is down (a setting
    made since the outage began wins)."""
    from dr.sandbox.extensions.arc_health import control_health

    follows = control_health(check)  # a RECOVERY_CONTROL check follows its ARC routing control, not an endpoint
    if follows is not None:
        return follows
    region = watched_region(check)
    with STATE.lock:
        raw = STATE.health.get(check.id, True)
        outage = STATE.outages.get(region) if region else None
        if outage is not None and STATE.health_marks.get(check.id, 0) < outage.mark:
            raw = False  # the watched endpoint's region is down
    return raw


def effective_health(check: Any, depth: int = 0) -> bool:
    """What Route53 considers the check to be: measured (endpoint, or enough healthy children for a calculated
    check), disabled => healthy, then inverted."""
    if check.type_ == CALCULATED:
        children = [find_health_check(c) for c in check.children or []] if depth < 3 else []
        healthy = sum(1 for c in children if c is not None and effective_health(c, depth + 1))
        measured = healthy >= int(check.health_threshold or 0)
    else:
        measured = endpoint_health(check)
    considered = True if check.disabled else measured
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
    from moto.route53.exceptions import InvalidInput

    check = self.backend.get_health_check(self._get_param("HealthCheckId"))  # NoSuchHealthCheck when missing
    if check.type_ == CALCULATED:
        raise InvalidInput(f"Health check {check.id} is a calculated health check: GetHealthCheckStatus does not "
                           "report calculated health checks; read its status in CloudWatch (HealthCheckStatus)")
    report = HEALTHY_REPORT if endpoint_health(check) else UNHEALTHY_REPORT
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
