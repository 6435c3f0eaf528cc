"""`arc-routing-control` records moved by ARC routing controls on the in-process sandbox: failover and failback,
Route53's control plane and two cluster endpoints down, a safety rule refusing, a crash and resume, the plan."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dr.config.load import load
from dr.config.model import DnsRecord, DnsStrategy, Topology
from runbooks.steps import dns_arc
from tests.failover_support import Harness, answer_of, harness, step


def arc_only(example_path: Path) -> Topology:
    """The example with its arc-routing-control record as the only DNS record."""
    topology = load(example_path)
    return topology.model_copy(update={"dns": [r for r in topology.dns
                                               if r.strategy is DnsStrategy.ARC_ROUTING_CONTROL]})


@pytest.fixture
def h(tmp_path: Path, example_path: Path) -> Iterator[Harness]:
    with harness(tmp_path, arc_only(example_path)) as built:
        yield built


def record(h: Harness) -> DnsRecord:
    return next(r for r in h.topology.dns if r.arc is not None)


def states(h: Harness) -> dict[str, str]:
    """Each side's routing control state, read on the cluster's data plane (its third endpoint)."""
    rec = record(h)
    assert rec.arc is not None
    endpoint = rec.arc.endpoints[2]
    client = h.sbx.clients.client("route53-recovery-cluster", rec.env, endpoint.region, endpoint_url=endpoint.url)
    return {side: client.get_routing_control_state(RoutingControlArn=arn)["RoutingControlState"]
            for side, arn in rec.arc.routing_controls.items()}


def arc_step(report: dict[str, Any], h: Harness) -> dict[str, Any]:
    rec = record(h)
    assert rec.arc is not None
    return step(report, f"dns:arc-{rec.arc.cluster_id}")


def facts(h: Harness, run_id: str) -> dict[str, Any]:
    from dr.aws.factory import ClientFactory
    from dr.engine.backends import journal_backend
    from dr.engine.session import load_history

    return dict(load_history(journal_backend(h.topology, ClientFactory(h.topology)), run_id).facts)


class TestFailoverAndFailback:
    def test_failover_and_failback_move_the_routing_controls_and_dns_follows(self, h: Harness) -> None:
        """Failover: qa's routing control On, prod's Off in one call, DNS answers qa, endpoints and the update
        journaled, the report's client-side RTO; failback: prod On and qa Off again, DNS answers prod."""
        assert states(h) == {"prod": "On", "qa": "Off"}
        outcome = h.run("failover", "qa", run_id="fo")
        assert outcome.exit_code == 0, outcome.report
        report = outcome.report
        assert arc_step(report, h)["status"] == "succeeded"
        assert "1 routing control(s) On (qa), 1 Off (prod) in one UpdateRoutingControlStates" in \
            arc_step(report, h)["detail"]
        assert states(h) == {"prod": "Off", "qa": "On"}
        assert answer_of(h.route53(), record(h)) == "shop.eu-west-1.example.com"
        rec = record(h)
        assert rec.arc is not None
        journaled = facts(h, "fo")
        assert journaled[dns_arc.endpoints_fact(rec.arc.cluster_id)] == [e.model_dump() for e in rec.arc.endpoints]
        assert journaled[dns_arc.update_fact(rec.arc.cluster_id)]["states"] == {
            rec.arc.routing_controls["qa"]: "On", rec.arc.routing_controls["prod"]: "Off"}
        assert h.faults.count("route53-recovery-control-config") == 0  # no control-plane call for DNS
        assert h.faults.count("route53", "ChangeResourceRecordSets") == 0
        rto = report["rto"]  # the client-side truth: the answer changed, clients follow one TTL (60 s) later
        assert rto["clients_followed_seconds"] == pytest.approx(rto["answer_changed_seconds"] + 60)
        assert rto["judged_on"] == "clients_followed_seconds"
        assert rto["met"] is (rto["clients_followed_seconds"] <= rto["target_seconds"])
        assert journaled["dns.answered.shop.example.com."]["how"] == "routing control state"

        outcome = h.run("failback", "prod", run_id="fb")  # and back: prod On, qa Off, DNS answers prod
        assert outcome.exit_code == 0, outcome.report
        assert arc_step(outcome.report, h)["status"] == "succeeded"
        assert states(h) == {"prod": "On", "qa": "Off"}
        assert answer_of(h.route53(), record(h)) == "shop.eu-central-1.example.com"


class TestWithoutRoute53ControlPlane:
    def test_failover_completes_with_us_east_1_and_us_west_2_down(self, h: Harness) -> None:
        """us-east-1 down (every Route53 API call fails, and the cluster's first endpoint) and us-west-2 down (its
        second endpoint and ARC's control-config API): the move goes through the third endpoint, verified on the
        data plane (routing control states, the name servers' answer), exit 0."""
        h.sbx.control.set_outage("us-east-1")
        h.sbx.control.set_outage("us-west-2")
        outcome = h.run("failover", "qa", run_id="cp-down")
        h.sbx.control.set_outage("us-east-1", False)
        h.sbx.control.set_outage("us-west-2", False)
        assert outcome.exit_code == 0, outcome.report
        detail = arc_step(outcome.report, h)["detail"]
        assert "via eu-west-1 (tried first: us-east-1:" in detail
        assert "us-west-2:" in detail
        assert states(h) == {"prod": "Off", "qa": "On"}
        assert answer_of(h.route53(), record(h)) == "shop.eu-west-1.example.com"
        # not one Route53 API call: the answer was read from the zone's name servers (the sandbox's responder)
        assert [c for c in h.faults.calls if c[0] == "route53"] == []


class TestSafetyRules:
    def test_a_gating_rule_refusal_fails_the_step_with_the_rules_name_and_changes_nothing(self, h: Harness) -> None:
        """The seeded assertion rule refuses prod Off alone (ConflictException); a gating rule whose gate is Off
        refuses drctl's update: the ARC step fails naming the rule, exit 1, the routing controls are as before."""
        from botocore.exceptions import ClientError

        rec = record(h)
        assert rec.arc is not None
        endpoint = rec.arc.endpoints[0]
        client = h.sbx.clients.client("route53-recovery-cluster", "prod", endpoint.region, endpoint_url=endpoint.url)
        with pytest.raises(ClientError) as refused:  # the seeded assertion rule: prod Off alone leaves none On
            client.update_routing_control_states(UpdateRoutingControlStateEntries=[
                {"RoutingControlArn": rec.arc.routing_controls["prod"], "RoutingControlState": "Off"}])
        assert refused.value.response["Error"]["Code"] == "ConflictException"
        assert "shop-one-side-on" in refused.value.response["Error"]["Message"]
        config = h.sbx.clients.client("route53-recovery-control-config", "prod", "us-west-2")
        panel = rec.arc.routing_controls["prod"].split("/routingcontrol/")[0]
        gate = config.create_routing_control(ClusterArn=rec.arc.cluster_arn, ControlPanelArn=panel,
                                             RoutingControlName="change-freeze")["RoutingControl"]["RoutingControlArn"]
        config.create_safety_rule(GatingRule={
            "ControlPanelArn": panel, "Name": "freeze-gate", "GatingControls": [gate],
            "TargetControls": list(rec.arc.routing_controls.values()), "WaitPeriodMs": 5000,
            "RuleConfig": {"Type": "AND", "Threshold": 1, "Inverted": False}})
        outcome = h.run("failover", "qa", run_id="gated")
        assert outcome.exit_code == 1
        failed = arc_step(outcome.report, h)
        assert failed["status"] == "failed"
        assert "freeze-gate" in failed["detail"]
        assert "nothing changed" in failed["detail"]
        assert states(h) == {"prod": "On", "qa": "Off"}
        assert h.faults.count("route53-recovery-cluster", "UpdateRoutingControlStates") == 1  # not retried


class TestResume:
    def test_a_crash_after_the_update_was_accepted_is_resumed_without_a_second_update(
            self, h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
        """The topology lists no endpoints: one DescribeCluster, journaled. The process dies right after
        UpdateRoutingControlStates was accepted; resume reads the endpoints from the journal (no second
        DescribeCluster), finds the states set (already-done) and sends no second update; exit 0."""
        rec = record(h)
        assert rec.arc is not None
        seeded = h.topology
        bare = rec.model_copy(update={"arc": rec.arc.model_copy(update={"endpoints": []})})
        h.sbx.topology = seeded.model_copy(update={"dns": [bare]})
        real = dns_arc.update_states

        def accepted_then_crash(*args: Any, **kwargs: Any) -> None:
            real(*args, **kwargs)
            raise KeyboardInterrupt

        monkeypatch.setattr(dns_arc, "update_states", accepted_then_crash)
        first = h.run("failover", "qa", run_id="crash")
        assert first.exit_code == 130
        monkeypatch.setattr(dns_arc, "update_states", real)
        resumed = h.run("failover", "qa", run_id="crash", resume=True)
        assert resumed.exit_code == 0, resumed.report
        assert arc_step(resumed.report, h)["status"] in ("already-done", "succeeded")
        assert h.faults.count("route53-recovery-cluster", "UpdateRoutingControlStates") == 1
        assert h.faults.count("route53-recovery-control-config", "DescribeCluster") == 1
        h.sbx.topology = seeded
        assert facts(h, "crash")[dns_arc.endpoints_fact(rec.arc.cluster_id)] == [e.model_dump()
                                                                                for e in rec.arc.endpoints]
        assert states(h) == {"prod": "Off", "qa": "On"}
