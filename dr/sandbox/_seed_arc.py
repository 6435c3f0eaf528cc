"""Seed ARC for `arc-routing-control` records: a cluster per cluster placeholder, control panels, one routing
control per side (the serving side On), the named safety rules (assertion: at least one of the record's
controls On) and a RECOVERY_CONTROL health check per routing control; the topology gets the real ARNs and the
cluster's endpoints (`arc.endpoints`, as `drctl readiness` would list them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dr.aws.arc import CLUSTER_SERVICE, CONTROL_CONFIG_REGION, CONTROL_CONFIG_SERVICE, ON, Endpoint, on_endpoints
from dr.aws.factory import ClientFactory
from dr.config.model import ArcEndpoint, ArcRouting, DnsRecord, Topology


def _name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1][:64]


@dataclass
class ArcIds:
    """Placeholder ARN -> real ARN (clusters, panels, controls), each cluster's endpoints, and the health checks."""

    arns: dict[str, str] = field(default_factory=dict)
    endpoints: dict[str, list[Endpoint]] = field(default_factory=dict)
    health_checks: dict[str, str] = field(default_factory=dict)

    def rewrite(self, record: DnsRecord) -> DnsRecord:
        """The record with its arc section's real ARNs and its cluster's endpoints."""
        arc = record.arc
        if arc is None or arc.cluster_arn not in self.arns:
            return record
        real = ArcRouting(
            cluster_arn=self.arns[arc.cluster_arn],
            routing_controls={side: self.arns.get(a, a) for side, a in arc.routing_controls.items()},
            control_panel_arn=self.arns.get(arc.control_panel_arn) if arc.control_panel_arn else None,
            safety_rules=list(arc.safety_rules),
            endpoints=[ArcEndpoint(region=e.region, url=e.url) for e in self.endpoints[arc.cluster_arn]])
        return record.model_copy(update={"arc": real})


class ArcSeeder:
    """Creates the ARC resources of the topology's arc-routing-control records, in each record env's account."""

    def __init__(self, topology: Topology, clients: ClientFactory, serving: Any) -> None:
        self.topology = topology
        self.clients = clients
        self.serving = serving
        """(topology, record) -> (serving side, DR side): the DNS seed's choice, so controls agree with records."""
        self.ids = ArcIds()

    def seed(self) -> ArcIds:
        records = [r for r in self.topology.dns if r.arc is not None]
        for record in records:
            self._record(record)
        rules: dict[tuple[str, str], list[str]] = {}
        for record in records:
            assert record.arc is not None
            for name in record.arc.safety_rules:
                controls = [self.ids.arns[a] for a in record.arc.routing_controls.values()]
                rules.setdefault((self._panel_of(record.arc), name), []).extend(controls)
        for (panel, name), controls in rules.items():
            self._config(records[0].env).create_safety_rule(AssertionRule={
                "ControlPanelArn": panel, "Name": name, "AssertedControls": sorted(set(controls)),
                "RuleConfig": {"Type": "ATLEAST", "Threshold": 1, "Inverted": False}, "WaitPeriodMs": 5000})
        return self.ids

    def _config(self, env: str) -> Any:
        return self.clients.client(CONTROL_CONFIG_SERVICE, env, CONTROL_CONFIG_REGION)

    def _panel_of(self, arc: ArcRouting) -> str:
        first = self.ids.arns[next(iter(arc.routing_controls.values()))]
        return first.split("/routingcontrol/")[0]

    def _record(self, record: DnsRecord) -> None:
        arc = record.arc
        assert arc is not None
        config = self._config(record.env)
        if arc.cluster_arn not in self.ids.arns:
            cluster = config.create_cluster(ClusterName=_name(arc.cluster_arn))["Cluster"]
            self.ids.arns[arc.cluster_arn] = cluster["ClusterArn"]
            self.ids.endpoints[arc.cluster_arn] = [Endpoint(e["Region"], e["Endpoint"])
                                                   for e in cluster["ClusterEndpoints"]]
        cluster_arn = self.ids.arns[arc.cluster_arn]
        panel: str | None = None
        if arc.control_panel_arn:
            if arc.control_panel_arn not in self.ids.arns:
                self.ids.arns[arc.control_panel_arn] = config.create_control_panel(
                    ClusterArn=cluster_arn, ControlPanelName=_name(arc.control_panel_arn))["ControlPanel"][
                    "ControlPanelArn"]
            panel = self.ids.arns[arc.control_panel_arn]
        serving = self.serving(self.topology, record)[0]
        for side, placeholder in arc.routing_controls.items():
            if placeholder in self.ids.arns:
                continue
            request = {"ClusterArn": cluster_arn, "RoutingControlName": _name(placeholder)}
            created = config.create_routing_control(**request, **({"ControlPanelArn": panel} if panel else {}))
            real = created["RoutingControl"]["RoutingControlArn"]
            self.ids.arns[placeholder] = real
            if side == serving:
                self._set_on(record.env, arc.cluster_arn, real)
            self._health_check(record, side, real)

    def _set_on(self, env: str, cluster: str, control: str) -> None:
        on_endpoints(self.clients, env, self.ids.endpoints[cluster], lambda c: c.update_routing_control_states(
            UpdateRoutingControlStateEntries=[{"RoutingControlArn": control, "RoutingControlState": ON}]))

    def _health_check(self, record: DnsRecord, side: str, control: str) -> None:
        placeholder = record.health_checks.get(side)
        if not placeholder or placeholder in self.ids.health_checks:
            return
        route53 = self.clients.route53(record.env)
        check = route53.create_health_check(CallerReference=f"drctl-seed-{placeholder}", HealthCheckConfig={
            "Type": "RECOVERY_CONTROL", "RoutingControlArn": control})["HealthCheck"]
        route53.change_tags_for_resource(ResourceType="healthcheck", ResourceId=check["Id"],
                                         AddTags=[{"Key": "Name", "Value": placeholder}])
        self.ids.health_checks[placeholder] = check["Id"]


__all__ = ["CLUSTER_SERVICE", "ArcIds", "ArcSeeder"]
