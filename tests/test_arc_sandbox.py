"""The sandbox's Route53 ARC: clusters and their endpoints, routing controls, safety rules as AWS judges them,
RECOVERY_CONTROL health checks that follow their control, and a Region outage failing that Region's endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError

from dr.clock import FakeClock
from dr.sandbox import install
from dr.sandbox.extensions.arc_model import satisfied
from tests.sandbox_ext_support import local_control


@dataclass
class Cell:
    """A cluster with one panel and two routing controls (a and b), and the control-config client."""

    config: Any
    cluster: dict[str, Any]
    panel: str
    a: str
    b: str

    def endpoint(self, index: int) -> Any:
        ep = self.cluster["ClusterEndpoints"][index]
        return boto3.client("route53-recovery-cluster", region_name=ep["Region"], endpoint_url=ep["Endpoint"])

    def set(self, index: int = 0, overrides: list[str] | None = None, **states: str) -> None:
        entries = [{"RoutingControlArn": getattr(self, name), "RoutingControlState": s} for name, s in states.items()]
        extra = {"SafetyRulesToOverride": overrides} if overrides else {}
        self.endpoint(index).update_routing_control_states(UpdateRoutingControlStateEntries=entries, **extra)

    def state(self, name: str) -> str:
        found = self.endpoint(2).get_routing_control_state(RoutingControlArn=getattr(self, name))
        return str(found["RoutingControlState"])


@pytest.fixture
def cell(aws: None) -> Iterator[Cell]:
    install()
    with local_control(FakeClock()):
        config = boto3.client("route53-recovery-control-config", region_name="us-west-2")
        cluster = config.create_cluster(ClusterName="dr")["Cluster"]
        panel = config.create_control_panel(ClusterArn=cluster["ClusterArn"],
                                            ControlPanelName="shop")["ControlPanel"]["ControlPanelArn"]
        a, b = (config.create_routing_control(ClusterArn=cluster["ClusterArn"], ControlPanelArn=panel,
                                              RoutingControlName=n)["RoutingControl"]["RoutingControlArn"]
                for n in ("a", "b"))
        yield Cell(config, cluster, panel, a, b)


def assertion(cell: Cell, name: str = "one-on", threshold: int = 1) -> None:
    cell.config.create_safety_rule(AssertionRule={
        "ControlPanelArn": cell.panel, "Name": name, "AssertedControls": [cell.a, cell.b], "WaitPeriodMs": 5000,
        "RuleConfig": {"Type": "ATLEAST", "Threshold": threshold, "Inverted": False}})


class TestClusters:
    def test_a_cluster_has_five_regional_endpoints_and_a_default_panel(self, cell: Cell) -> None:
        """DescribeCluster lists five endpoints with their Regions; the cluster has its default control panel."""
        described = cell.config.describe_cluster(ClusterArn=cell.cluster["ClusterArn"])["Cluster"]
        assert [e["Region"] for e in described["ClusterEndpoints"]] == [
            "us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1", "ap-southeast-2"]
        panels = cell.config.list_control_panels()["ControlPanels"]
        assert sorted(p["DefaultControlPanel"] for p in panels) == [False, True]

    def test_a_new_routing_control_is_off_and_any_endpoint_reads_the_same_state(self, cell: Cell) -> None:
        """New controls are Off; a state set through one endpoint is read through another."""
        assert cell.state("a") == "Off"
        cell.set(0, a="On")
        assert cell.endpoint(4).get_routing_control_state(RoutingControlArn=cell.a)["RoutingControlState"] == "On"

    def test_an_unknown_routing_control_is_resource_not_found(self, cell: Cell) -> None:
        """GetRoutingControlState of a control the cluster does not have: ResourceNotFoundException."""
        with pytest.raises(ClientError) as err:
            cell.endpoint(0).get_routing_control_state(RoutingControlArn=cell.a + "x")
        assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


class TestSafetyRules:
    def test_an_assertion_rule_refuses_a_transaction_that_leaves_too_few_on(self, cell: Cell) -> None:
        """"At least one On": turning the only On control Off alone is ConflictException naming the rule."""
        cell.set(a="On")
        assertion(cell)
        with pytest.raises(ClientError) as err:
            cell.set(a="Off")
        assert err.value.response["Error"]["Code"] == "ConflictException"
        assert "one-on" in err.value.response["Error"]["Message"]
        assert cell.state("a") == "On"

    def test_one_call_that_swaps_the_sides_satisfies_the_assertion_rule(self, cell: Cell) -> None:
        """b On and a Off in one UpdateRoutingControlStates: judged on the whole transaction, accepted."""
        cell.set(a="On")
        assertion(cell)
        cell.set(a="Off", b="On")
        assert (cell.state("a"), cell.state("b")) == ("Off", "On")

    def test_a_gating_rule_holds_its_targets_while_the_gate_is_off(self, cell: Cell) -> None:
        """A gating rule (gate must be On) refuses any change to its targets; the gate On lets them change."""
        gate = cell.config.create_routing_control(ClusterArn=cell.cluster["ClusterArn"], ControlPanelArn=cell.panel,
                                                  RoutingControlName="gate")["RoutingControl"]["RoutingControlArn"]
        cell.config.create_safety_rule(GatingRule={
            "ControlPanelArn": cell.panel, "Name": "gate-rule", "GatingControls": [gate],
            "TargetControls": [cell.a], "WaitPeriodMs": 5000,
            "RuleConfig": {"Type": "OR", "Threshold": 1, "Inverted": False}})
        with pytest.raises(ClientError) as err:
            cell.set(a="On")
        assert "gate-rule" in err.value.response["Error"]["Message"]
        cell.endpoint(0).update_routing_control_state(RoutingControlArn=gate, RoutingControlState="On")
        cell.set(a="On")
        assert cell.state("a") == "On"

    def test_an_overridden_rule_is_not_judged(self, cell: Cell) -> None:
        """SafetyRulesToOverride with the rule's ARN lets the violating update through, as AWS documents."""
        cell.set(a="On")
        assertion(cell)
        rule = cell.config.list_safety_rules(ControlPanelArn=cell.panel)["SafetyRules"][0]["ASSERTION"]
        cell.set(a="Off", overrides=[rule["SafetyRuleArn"]])
        assert cell.state("a") == "Off"

    def test_rule_configs_follow_atleast_and_or_and_inverted(self) -> None:
        """ATLEAST N, AND, OR over the states, and Inverted negating the result."""
        assert satisfied({"Type": "ATLEAST", "Threshold": 2}, ["On", "On", "Off"])
        assert not satisfied({"Type": "ATLEAST", "Threshold": 2}, ["On", "Off"])
        assert not satisfied({"Type": "AND"}, ["On", "Off"])
        assert satisfied({"Type": "OR"}, ["Off", "On"])
        assert satisfied({"Type": "OR", "Inverted": True}, ["Off", "Off"])


class TestRecoveryControlHealthChecks:
    def test_the_health_check_follows_its_routing_control_and_keeps_its_arn(self, cell: Cell) -> None:
        """A RECOVERY_CONTROL check shows its RoutingControlArn and is healthy exactly while the control is On."""
        route53 = boto3.client("route53", region_name="us-east-1")
        check = route53.create_health_check(CallerReference="rc-a", HealthCheckConfig={
            "Type": "RECOVERY_CONTROL", "RoutingControlArn": cell.a})["HealthCheck"]
        assert route53.get_health_check(HealthCheckId=check["Id"])["HealthCheck"]["HealthCheckConfig"][
            "RoutingControlArn"] == cell.a

        def status() -> str:
            found = route53.get_health_check_status(HealthCheckId=check["Id"])
            return str(found["HealthCheckObservations"][0]["StatusReport"]["Status"])

        assert status().startswith("Failure")
        cell.set(a="On")
        assert status().startswith("Success")

    def test_a_recovery_control_check_without_an_arn_is_invalid_input(self, cell: Cell) -> None:
        """Type RECOVERY_CONTROL without RoutingControlArn: InvalidInput."""
        route53 = boto3.client("route53", region_name="us-east-1")
        with pytest.raises(ClientError) as err:
            route53.create_health_check(CallerReference="rc-x", HealthCheckConfig={"Type": "RECOVERY_CONTROL"})
        assert err.value.response["Error"]["Code"] == "InvalidInput"


class TestEndpointOutage:
    def test_an_outage_of_an_endpoints_region_fails_that_endpoint_only(self, cell: Cell) -> None:
        """us-east-1 down: its endpoint does not answer (a connect timeout); eu-west-1's still does."""
        from dr.sandbox.extensions.outage import set_outage

        set_outage("us-east-1", True)
        with pytest.raises(ConnectTimeoutError):
            cell.endpoint(0).get_routing_control_state(RoutingControlArn=cell.a)
        assert cell.state("a") == "Off"
