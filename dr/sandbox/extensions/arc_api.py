"""Route53 ARC's two APIs, which moto lacks, answered by the sandbox from `arc_model.ARC`.

Pinned to botocore's models of `route53-recovery-control-config` (rest-json; the sandbox answers CreateCluster,
DescribeCluster, ListClusters, CreateControlPanel, DescribeControlPanel, ListControlPanels, CreateRoutingControl,
DescribeRoutingControl, ListRoutingControls, CreateSafetyRule, ListSafetyRules) and `route53-recovery-cluster`
(json 1.0, target prefix `ToggleCustomerAPI`: GetRoutingControlState, UpdateRoutingControlState,
UpdateRoutingControlStates, ListRoutingControls). AWS's pages: "UpdateRoutingControlStates" and
"GetRoutingControlState" (Routing Control API Reference,
https://docs.aws.amazon.com/routing-control/latest/APIReference/API_UpdateRoutingControlStates.html,
https://docs.aws.amazon.com/routing-control/latest/APIReference/API_GetRoutingControlState.html): "You must
specify Regional endpoints when you work with API cluster operations"; "Getting and updating routing control
states using the ARC API" (https://docs.aws.amazon.com/r53recovery/latest/dg/routing-control.update.api.html):
the control-config API is called in us-west-2, and a client tries the cluster's endpoints in rotation.

A cluster endpoint is a URL the sandbox recognises: in-process `https://<id>.route53-recovery-cluster.<region>.
amazonaws.com/v1`, on a server `http://<server>/arc-cluster/<region>/<id>/v1`. A call to it is signed for its
Region, so a sandbox outage of that Region (`outage`) fails it as a dead endpoint fails, before it gets here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from dr.sandbox.extensions.arc_model import ARC, ArcError, Cluster, Control, Panel, Rule

CONFIG_SERVICE = "route53-recovery-control-config"
CLUSTER_SERVICE = "route53-recovery-cluster"
SERVICES = (CONFIG_SERVICE, CLUSTER_SERVICE)
IN_PROCESS_ENDPOINT = "https://{id}.route53-recovery-cluster.{region}.amazonaws.com/v1"
SERVER_ENDPOINT = "{base}/arc-cluster/{region}/{id}/v1"
_CLUSTER_ID = re.compile(r"(?:^|[/.])([0-9a-f]{12})(?:\.route53-recovery-cluster\.|/v1)")
_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/[^/]+/([^/]+)/aws4_request")
Response = tuple[int, dict[str, str], bytes]


def service_of(authorization: str) -> str | None:
    """The ARC service a request is signed for, else None."""
    found = _SCOPE.search(authorization)
    return found.group(2) if found and found.group(2) in SERVICES else None


def handle(method: str, url: str, headers: dict[str, str], body: bytes, account: str) -> Response:
    """One ARC request: `url` is the full URL it was sent to (scheme and host included)."""
    service = service_of(headers.get("Authorization", ""))
    try:
        if service == CLUSTER_SERVICE:
            return _ok(_cluster_call(url, headers.get("X-Amz-Target", ""), _json(body)))
        return _ok(_config_call(method, url, _json(body), account))
    except ArcError as err:
        payload: dict[str, Any] = {"__type": err.code, "message": err.message, "Message": err.message}
        if err.resource:
            payload |= {"resourceId": err.resource, "resourceType": err.kind}
        return err.status, {"Content-Type": "application/json", "x-amzn-ErrorType": err.code}, json.dumps(
            payload).encode()


def _ok(payload: dict[str, Any]) -> Response:
    return 200, {"Content-Type": "application/json"}, json.dumps(payload).encode()


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        raise ArcError("ValidationException", 400, "the request body is not JSON") from None
    return value if isinstance(value, dict) else {}


# --- the cluster's data plane --------------------------------------------------------------------------------


def _cluster_call(url: str, target: str, params: dict[str, Any]) -> dict[str, Any]:
    cluster = _cluster_at(url)
    operation = target.rsplit(".", 1)[-1]
    if operation == "GetRoutingControlState":
        control = _in_cluster(cluster, str(params.get("RoutingControlArn", "")))
        return {"RoutingControlArn": control.arn, "RoutingControlName": control.name,
                "RoutingControlState": control.state}
    if operation in ("UpdateRoutingControlState", "UpdateRoutingControlStates"):
        entries = ([params] if operation == "UpdateRoutingControlState"
                   else list(params.get("UpdateRoutingControlStateEntries") or []))
        wanted = {str(e.get("RoutingControlArn", "")): str(e.get("RoutingControlState", "")) for e in entries}
        if not wanted or any(state not in ("On", "Off") for state in wanted.values()):
            raise ArcError("ValidationException", 400, "each entry needs a RoutingControlArn and a "
                                                       "RoutingControlState of On or Off")
        ARC.update_states(cluster.arn, wanted, set(params.get("SafetyRulesToOverride") or []))
        return {}
    if operation == "ListRoutingControls":
        panel = params.get("ControlPanelArn")
        with ARC.lock:
            panels = {p.arn: p for p in ARC.panels.values() if p.cluster_arn == cluster.arn}
            controls = [c for c in ARC.controls.values() if c.panel_arn in panels and panel in (None, c.panel_arn)]
            return {"RoutingControls": [
                {"ControlPanelArn": c.panel_arn, "ControlPanelName": panels[c.panel_arn].name,
                 "RoutingControlArn": c.arn, "RoutingControlName": c.name, "RoutingControlState": c.state,
                 "Owner": c.owner} for c in controls]}
    raise ArcError("ValidationException", 400, f"the sandbox does not implement {operation or 'this call'}")


def _cluster_at(url: str) -> Cluster:
    parts = urlsplit(url)
    found = _CLUSTER_ID.search(parts.netloc + parts.path)
    if found is None:
        raise ArcError("ValidationException", 400, f"{url} is not a cluster endpoint: use one DescribeCluster "
                                                   "lists")
    with ARC.lock:
        for cluster in ARC.clusters.values():
            if cluster.arn.endswith("/" + found.group(1)):
                return cluster
    raise ArcError("EndpointTemporarilyUnavailableException", 400, f"{url} does not answer: no such cluster")


def _in_cluster(cluster: Cluster, arn: str) -> Control:
    control = ARC.control(arn, status=400)
    if ARC.panel(control.panel_arn).cluster_arn != cluster.arn:
        raise ArcError("ResourceNotFoundException", 400, f"routing control {arn} is not in this cluster", arn,
                       "RoutingControl")
    return control


# --- the control-config API --------------------------------------------------------------------------------


def _config_call(method: str, url: str, params: dict[str, Any], account: str) -> dict[str, Any]:
    parts = urlsplit(url)
    path, query = unquote(parts.path), parse_qs(parts.query)
    route = _ROUTES.get((method, path))
    if route is not None:
        return route(params, account, url, query)
    for (verb, prefix, suffix), getter in _ARN_ROUTES.items():
        if method == verb and path.startswith(prefix) and path.endswith(suffix) and len(path) > len(prefix):
            return getter(path[len(prefix):len(path) - len(suffix) or None])
    raise ArcError("ValidationException", 400, f"the sandbox does not implement {method} {path}")


def _create_cluster(params: dict[str, Any], account: str, url: str, _q: dict[str, list[str]]) -> dict[str, Any]:
    parts = urlsplit(url)
    aws_host = parts.netloc.endswith(".amazonaws.com")
    base = IN_PROCESS_ENDPOINT if aws_host else SERVER_ENDPOINT.replace("{base}", f"{parts.scheme}://{parts.netloc}")
    return {"Cluster": _cluster(ARC.create_cluster(account, str(params.get("ClusterName", "")), base))}


def _list_clusters(_p: dict[str, Any], account: str, _u: str, _q: dict[str, list[str]]) -> dict[str, Any]:
    with ARC.lock:
        return {"Clusters": [_cluster(c) for c in ARC.clusters.values() if c.owner == account]}


def _create_panel(params: dict[str, Any], account: str, _u: str, _q: dict[str, list[str]]) -> dict[str, Any]:
    panel = ARC.create_panel(account, str(params.get("ControlPanelName", "")), str(params.get("ClusterArn", "")))
    return {"ControlPanel": _panel(panel)}


def _list_panels(_p: dict[str, Any], account: str, _u: str, query: dict[str, list[str]]) -> dict[str, Any]:
    cluster: str | None = (query.get("ClusterArn") or [None])[0]  # type: ignore[list-item]
    with ARC.lock:
        return {"ControlPanels": [_panel(p) for p in ARC.panels.values()
                                  if p.owner == account and cluster in (None, p.cluster_arn)]}


def _create_control(params: dict[str, Any], account: str, _u: str, _q: dict[str, list[str]]) -> dict[str, Any]:
    panel = params.get("ControlPanelArn")
    control = ARC.create_control(account, str(params.get("RoutingControlName", "")),
                                 str(params.get("ClusterArn", "")), str(panel) if panel else None)
    return {"RoutingControl": _control(control)}


def _create_rule(params: dict[str, Any], account: str, _u: str, _q: dict[str, list[str]]) -> dict[str, Any]:
    kind = "ASSERTION" if params.get("AssertionRule") else "GATING" if params.get("GatingRule") else ""
    if not kind:
        raise ArcError("ValidationException", 400, "give an AssertionRule or a GatingRule")
    rule = ARC.create_rule(account, kind, params["AssertionRule" if kind == "ASSERTION" else "GatingRule"])
    return {"AssertionRule" if kind == "ASSERTION" else "GatingRule": _rule(rule)}


def _cluster(c: Cluster) -> dict[str, Any]:
    return {"ClusterArn": c.arn, "ClusterEndpoints": list(c.endpoints), "Name": c.name, "Status": "DEPLOYED",
            "Owner": c.owner, "NetworkType": "IPV4"}


def _panel(p: Panel) -> dict[str, Any]:
    count = sum(1 for c in ARC.controls.values() if c.panel_arn == p.arn)
    return {"ClusterArn": p.cluster_arn, "ControlPanelArn": p.arn, "DefaultControlPanel": p.default,
            "Name": p.name, "RoutingControlCount": count, "Status": "DEPLOYED", "Owner": p.owner}


def _control(c: Control) -> dict[str, Any]:
    return {"ControlPanelArn": c.panel_arn, "Name": c.name, "RoutingControlArn": c.arn, "Status": "DEPLOYED",
            "Owner": c.owner}


def _rule(r: Rule) -> dict[str, Any]:
    common = {"ControlPanelArn": r.panel_arn, "Name": r.name, "RuleConfig": r.config, "SafetyRuleArn": r.arn,
              "Status": "DEPLOYED", "WaitPeriodMs": r.wait_ms, "Owner": r.owner}
    if r.kind == "ASSERTION":
        return common | {"AssertedControls": list(r.controls)}
    return common | {"GatingControls": list(r.controls), "TargetControls": list(r.targets)}


def _list_controls(panel_arn: str) -> dict[str, Any]:
    with ARC.lock:
        ARC.panel(panel_arn)
        return {"RoutingControls": [_control(c) for c in ARC.controls.values() if c.panel_arn == panel_arn]}


def _list_rules(panel_arn: str) -> dict[str, Any]:
    with ARC.lock:
        ARC.panel(panel_arn)
        rules = [r for r in ARC.rules.values() if r.panel_arn == panel_arn]
        return {"SafetyRules": [{r.kind: _rule(r)} for r in rules]}


_ROUTES: dict[tuple[str, str], Callable[[dict[str, Any], str, str, dict[str, list[str]]], dict[str, Any]]] = {
    ("POST", "/cluster"): _create_cluster,
    ("GET", "/cluster"): _list_clusters,
    ("POST", "/controlpanel"): _create_panel,
    ("GET", "/controlpanels"): _list_panels,
    ("POST", "/routingcontrol"): _create_control,
    ("POST", "/safetyrule"): _create_rule,
}
_ARN_ROUTES: dict[tuple[str, str, str], Callable[[str], dict[str, Any]]] = {
    ("GET", "/controlpanel/", "/routingcontrols"): _list_controls,
    ("GET", "/controlpanel/", "/safetyrules"): _list_rules,
    ("GET", "/cluster/", ""): lambda arn: {"Cluster": _cluster(ARC.cluster(arn))},
    ("GET", "/routingcontrol/", ""): lambda arn: {"RoutingControl": _control(ARC.control(arn))},
    ("GET", "/controlpanel/", ""): lambda arn: {"ControlPanel": _panel(ARC.panel(arn))},
}
