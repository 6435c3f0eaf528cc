"""Route53 ARC routing controls: the cluster's endpoints (control plane, read before an incident) and the states
of its routing controls (data plane, read and set during one), trying the cluster's regional endpoints in turn.

AWS's advice ("Getting and updating routing control states using the ARC API", ARC Developer Guide): get and
update routing control states through the cluster's regional endpoints, "try each endpoint in rotation, as
needed"; DescribeCluster lists them and is a control-plane call (`route53-recovery-control-config`, in us-west-2).
By hand: `aws route53-recovery-cluster update-routing-control-states --region REGION --endpoint-url URL
--update-routing-control-state-entries RoutingControlArn=ARN,RoutingControlState=On ...`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from dr.aws.errors import describe, error_code, is_retryable
from dr.errors import AwsCallError

T = TypeVar("T")
CONTROL_CONFIG_SERVICE = "route53-recovery-control-config"
CLUSTER_SERVICE = "route53-recovery-cluster"
CONTROL_CONFIG_REGION = "us-west-2"
"""ARC's control-config API (clusters, panels, controls, safety rules) is called in us-west-2."""
NEXT_ENDPOINT_CODES = frozenset({"EndpointTemporarilyUnavailableException", "InternalServerException"})
"""Errors after which the next endpoint is tried (besides no answer at all, throttling and 5xx)."""
ON, OFF = "On", "Off"


@dataclass(frozen=True)
class Endpoint:
    region: str
    url: str

    def to_dict(self) -> dict[str, str]:
        return {"region": self.region, "url": self.url}

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> Endpoint:
        return cls(str(value["region"]), str(value["url"]))


@dataclass
class Attempts:
    """What trying the endpoints gave: the endpoint that answered, and why each earlier one did not."""

    used: Endpoint | None = None
    failed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        where = f"via {self.used.region}" if self.used else "no endpoint answered"
        return where + (f" (tried first: {'; '.join(self.failed)})" if self.failed else "")


class NoEndpointAnswered(AwsCallError):
    """Every regional endpoint of the cluster failed; retryable (an endpoint may come back)."""


def cluster_endpoints(clients: Any, env: str, cluster_arn: str) -> list[Endpoint]:
    """The cluster's regional endpoints: DescribeCluster, a control-plane call (do it before an incident)."""
    client = clients.client(CONTROL_CONFIG_SERVICE, env, CONTROL_CONFIG_REGION)
    cluster = client.describe_cluster(ClusterArn=cluster_arn)["Cluster"]
    return [Endpoint(str(e["Region"]), str(e["Endpoint"])) for e in cluster.get("ClusterEndpoints", [])]


def on_endpoints(clients: Any, env: str, endpoints: Sequence[Endpoint], fn: Callable[[Any], T],
                 attempts: Attempts | None = None) -> T:
    """`fn(client)` on the first endpoint that answers. An endpoint that does not answer, is unavailable,
    throttles or fails with 5xx is left for the next; any other error (ConflictException of a safety rule,
    ResourceNotFoundException, ValidationException, AccessDeniedException) is AWS's answer and is raised."""
    attempts = attempts if attempts is not None else Attempts()
    if not endpoints:
        raise AwsCallError("the cluster has no endpoints to call", code="NoEndpoints")
    for endpoint in endpoints:
        client = clients.client(CLUSTER_SERVICE, env, endpoint.region, endpoint_url=endpoint.url)
        try:
            result = fn(client)
        except Exception as err:
            if not (is_retryable(err) or error_code(err) in NEXT_ENDPOINT_CODES):
                raise
            attempts.failed.append(f"{endpoint.region}: {describe(err)}")
            continue
        attempts.used = endpoint
        return result
    raise NoEndpointAnswered(f"no endpoint of the cluster answered: {'; '.join(attempts.failed)}",
                             code="NoEndpointAnswered", retryable=True)


def control_states(clients: Any, env: str, endpoints: Sequence[Endpoint], arns: Sequence[str],
                   attempts: Attempts | None = None) -> dict[str, str]:
    """GetRoutingControlState of each control (data plane), each on the first endpoint that answers."""
    def state(arn: str) -> str:
        def get(client: Any) -> Any:
            return client.get_routing_control_state(RoutingControlArn=arn)

        return str(on_endpoints(clients, env, endpoints, get, attempts)["RoutingControlState"])

    return {arn: state(arn) for arn in arns}


def update_states(clients: Any, env: str, endpoints: Sequence[Endpoint], wanted: Mapping[str, str],
                  attempts: Attempts | None = None) -> None:
    """One UpdateRoutingControlStates with every entry, so the cluster judges its safety rules on the whole
    transaction (e.g. "at least one side On" holds while one side goes Off and the other On)."""
    entries = [{"RoutingControlArn": arn, "RoutingControlState": state} for arn, state in wanted.items()]
    on_endpoints(clients, env, endpoints,
                 lambda c: c.update_routing_control_states(UpdateRoutingControlStateEntries=entries), attempts)


def violated_rule(err: BaseException) -> str | None:
    """For a ConflictException (a safety rule refused the update): AWS's message, which names the rule."""
    if error_code(err) != "ConflictException":
        return None
    return describe(err).removeprefix("ConflictException: ")
