"""Route53 health checks of type RECOVERY_CONTROL: tied to an ARC routing control, healthy while it is On.

moto accepts `Type: RECOVERY_CONTROL` but drops `RoutingControlArn`. Route 53 API Reference, "HealthCheckConfig"
(https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html): `RoutingControlArn` is "the
Amazon Resource Name (ARN) for the Route 53 Application Recovery Controller routing control"; a
RECOVERY_CONTROL health check follows that routing control: healthy while its state is On, unhealthy while Off.
Here the check keeps its ARN (GetHealthCheck/ListHealthChecks show it), creating one without an ARN is
`InvalidInput`, and `route53_health.endpoint_health` reads the control's state in `arc_model.ARC`, so
GetHealthCheckStatus, the CloudWatch `HealthCheckStatus` and the DNS answer (`route53_dns_answer`) all follow it.
"""

from __future__ import annotations

from typing import Any

from dr.sandbox.extensions import _guard
from dr.sandbox.extensions.arc_model import ARC, ON

RECOVERY_CONTROL = "RECOVERY_CONTROL"


def install() -> None:
    from moto.route53 import exceptions
    from moto.route53.models import HealthCheck
    from moto.route53.responses import Route53

    _guard.require_attrs(exceptions, ["InvalidInput"], "moto.route53.exceptions")
    current = HealthCheck.__dict__.get("health_check_config")
    if not isinstance(current, property) or current.fget is None:
        raise _guard.shape_error("moto.route53.models.HealthCheck.health_check_config is no longer a property")
    if not _guard.is_patched(current.fget):
        moto_config = current.fget

        def health_check_config(self: Any) -> dict[str, Any]:
            config: dict[str, Any] = moto_config(self)
            arn = getattr(self, "routing_control_arn", None)
            if arn:
                config = {k: v for k, v in config.items() if k not in ("IPAddress", "Port", "RequestInterval",
                                                                       "FailureThreshold", "MeasureLatency")}
                config["RoutingControlArn"] = arn
            return config

        setattr(health_check_config, _guard._MARK, True)  # a property goes around the guard's replace
        HealthCheck.health_check_config = property(health_check_config)  # type: ignore[method-assign,assignment]
    _guard.replace(Route53, "create_health_check", _create_health_check, [])


def _create_health_check(self: Any) -> Any:
    from moto.route53.exceptions import InvalidInput

    config = self._get_param("HealthCheckConfig") or {}
    arn = config.get("RoutingControlArn")
    if config.get("Type") == RECOVERY_CONTROL and not arn:
        raise InvalidInput("A health check of type RECOVERY_CONTROL needs RoutingControlArn: the ARN of the "
                           "routing control it follows")
    result = _guard.original(type(self), "create_health_check")(self)
    if arn and config.get("Type") == RECOVERY_CONTROL:
        result.result["HealthCheck"].routing_control_arn = str(arn)
    return result


def control_health(check: Any) -> bool | None:
    """For a RECOVERY_CONTROL check: whether its routing control is On (a missing control: unhealthy); None for
    any other check."""
    if getattr(check, "type_", None) != RECOVERY_CONTROL:
        return None
    arn = getattr(check, "routing_control_arn", None)
    return bool(arn) and ARC.control_state(str(arn)) == ON
