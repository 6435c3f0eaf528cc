"""Readiness of `arc-routing-control` records for ENV: the ARC cluster and its endpoints, ENV's routing controls,
their RECOVERY_CONTROL health checks and the record sets that use them, and the safety rules the topology names.

Read before an incident: DescribeCluster, DescribeRoutingControl and ListSafetyRules are ARC's control plane
(us-west-2), GetHealthCheck and ListResourceRecordSets Route53's (us-east-1); GetRoutingControlState on each
cluster endpoint is the data plane a failover uses. `arc_readiness` is the entry point (also for plan
evaluation); `cluster_endpoint_lines` gives the endpoints to copy into the topology (`arc.endpoints`).
"""

from __future__ import annotations

from typing import Any

from dr.aws.arc import CLUSTER_SERVICE, CONTROL_CONFIG_REGION, CONTROL_CONFIG_SERVICE, Endpoint, cluster_endpoints
from dr.aws.errors import describe
from dr.aws.route53 import list_zone
from dr.checks.model import CheckKind, CheckResult, failed, passed
from dr.config.model import ArcRouting, DnsRecord, Topology


def arc_records_of(topology: Topology, env: str) -> list[DnsRecord]:
    """The arc-routing-control records with a side in ENV."""
    return [r for r in topology.dns if r.arc is not None and env in r.targets]


def arc_readiness(topology: Topology, clients: Any, env: str) -> list[CheckResult]:
    """Every ARC check of ENV, one cluster at a time; an AWS error fails the check it belongs to."""
    out: list[CheckResult] = []
    seen: set[str] = set()
    for record in arc_records_of(topology, env):
        arc = record.arc
        assert arc is not None
        if arc.cluster_arn not in seen:
            seen.add(arc.cluster_arn)
            endpoints, result = check_cluster(clients, record.env, env, arc)
            out.append(result)
            out.append(check_endpoints(clients, record.env, env, arc, endpoints))
            if arc.safety_rules:
                out.append(check_safety_rules(clients, record.env, env, arc))
        out.append(check_side(clients, record, env))
    return out


def check_cluster(clients: Any, owner: str, env: str, arc: ArcRouting) -> tuple[list[Endpoint], CheckResult]:
    """The cluster exists and lists its endpoints; the topology's `arc.endpoints` match them (a move uses those)."""
    try:
        endpoints = cluster_endpoints(clients, owner, arc.cluster_arn)
    except Exception as err:
        return [], failed(env, CheckKind.ARC_CLUSTER, arc.cluster_arn, f"DescribeCluster failed: {describe(err)}")
    if not endpoints:
        return [], failed(env, CheckKind.ARC_CLUSTER, arc.cluster_arn, "the cluster lists no endpoints")
    listed = ", ".join(f"{e.region}={e.url}" for e in endpoints)
    configured = [Endpoint(e.region, e.url) for e in arc.endpoints]
    if not configured:
        return endpoints, passed(env, CheckKind.ARC_CLUSTER, arc.cluster_arn,
                                 f"{len(endpoints)} endpoints ({listed}); list them under arc.endpoints so a move "
                                 "makes no control-plane call")
    if set(configured) != set(endpoints):
        return endpoints, failed(env, CheckKind.ARC_CLUSTER, arc.cluster_arn,
                                 f"arc.endpoints differ from the cluster's endpoints ({listed}): update the topology")
    return endpoints, passed(env, CheckKind.ARC_CLUSTER, arc.cluster_arn,
                             f"{len(endpoints)} endpoints, as the topology lists them")


def check_endpoints(clients: Any, owner: str, env: str, arc: ArcRouting, endpoints: list[Endpoint]) -> CheckResult:
    """Each endpoint answers GetRoutingControlState (the data plane a move uses); ready while one does."""
    endpoints = endpoints or [Endpoint(e.region, e.url) for e in arc.endpoints]
    control = next(iter(arc.routing_controls.values()), "")
    answering, silent = [], []
    for endpoint in endpoints:
        client = clients.client(CLUSTER_SERVICE, owner, endpoint.region, endpoint_url=endpoint.url)
        try:
            client.get_routing_control_state(RoutingControlArn=control)
            answering.append(endpoint.region)
        except Exception as err:
            silent.append(f"{endpoint.region} ({describe(err)})")
    resource = f"{arc.cluster_id} endpoints"
    if not answering:
        return failed(env, CheckKind.ARC_ENDPOINTS, resource, "no endpoint answers: " + "; ".join(silent)
                      if silent else "no endpoints known")
    reason = f"{len(answering)} of {len(endpoints)} answer ({', '.join(answering)})"
    return passed(env, CheckKind.ARC_ENDPOINTS, resource, reason + (f"; not: {'; '.join(silent)}" if silent else ""))


def check_side(clients: Any, record: DnsRecord, env: str) -> CheckResult:
    """ENV's routing control exists; its health check is RECOVERY_CONTROL on that control; a record set of the
    record uses that health check."""
    arc = record.arc
    assert arc is not None
    control, hc = arc.routing_controls.get(env, ""), record.health_checks.get(env, "")
    resource = f"{record.fqdn} {env}"
    config = clients.client(CONTROL_CONFIG_SERVICE, record.env, CONTROL_CONFIG_REGION)
    route53 = clients.route53(record.env)
    try:
        config.describe_routing_control(RoutingControlArn=control)
        check = route53.get_health_check(HealthCheckId=hc)["HealthCheck"]["HealthCheckConfig"]
        sets = list_zone(route53, record.zone_id)
    except Exception as err:
        return failed(env, CheckKind.ARC_ROUTING_CONTROL, resource, f"could not read: {describe(err)}")
    if check.get("Type") != "RECOVERY_CONTROL" or check.get("RoutingControlArn") != control:
        return failed(env, CheckKind.ARC_ROUTING_CONTROL, resource,
                      f"health check {hc} is {check.get('Type')} on {check.get('RoutingControlArn') or 'nothing'}, "
                      f"not RECOVERY_CONTROL on {control}: create one with RoutingControlArn={control}")
    name = record.fqdn.lower()
    using = [s for s in sets if str(s["Name"]).lower() == name and s["Type"] == record.type
             and s.get("HealthCheckId") == hc]
    if not using:
        return failed(env, CheckKind.ARC_ROUTING_CONTROL, resource,
                      f"no {record.type} record set of {record.fqdn} uses health check {hc}: DNS would not follow "
                      "the routing control")
    return passed(env, CheckKind.ARC_ROUTING_CONTROL, resource,
                  f"routing control, its RECOVERY_CONTROL health check {hc} and record set "
                  f"{using[0].get('SetIdentifier', '')} in place")


def check_safety_rules(clients: Any, owner: str, env: str, arc: ArcRouting) -> CheckResult:
    """The safety rules the topology names exist on the routing controls' control panel."""
    panel = arc.control_panel_arn or next(iter(arc.routing_controls.values()), "").split("/routingcontrol/")[0]
    client = clients.client(CONTROL_CONFIG_SERVICE, owner, CONTROL_CONFIG_REGION)
    try:
        rules = client.list_safety_rules(ControlPanelArn=panel).get("SafetyRules", [])
    except Exception as err:
        return failed(env, CheckKind.ARC_CLUSTER, f"{panel} safety rules", f"could not read: {describe(err)}")
    names = {str(body.get("Name")) for rule in rules for body in rule.values() if isinstance(body, dict)}
    missing = [n for n in arc.safety_rules if n not in names]
    if missing:
        return failed(env, CheckKind.ARC_CLUSTER, f"{panel} safety rules",
                      f"missing: {', '.join(missing)} (the panel has {', '.join(sorted(names)) or 'none'})")
    return passed(env, CheckKind.ARC_CLUSTER, f"{panel} safety rules", f"{', '.join(arc.safety_rules)} in place")
