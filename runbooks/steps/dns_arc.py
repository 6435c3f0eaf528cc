"""Move the `arc-routing-control` records of one ARC cluster: their routing controls, on the cluster's data plane.

Each record is a failover (or weighted) pair whose record sets carry RECOVERY_CONTROL health checks, one per side,
each following that side's routing control. The move is one UpdateRoutingControlStates on the cluster: every
target routing control On and every source one Off in the same call, so the cluster judges its safety rules on
the whole transaction (an assertion rule "at least one side On" holds). The call goes to the cluster's regional
endpoints in turn until one answers (AWS's advice). The endpoints come from the topology (`arc.endpoints`, which
`drctl readiness` reads with DescribeCluster before an incident) or, when it lists none, from one DescribeCluster
at the step's start; either way they are journaled, so a resume reads them from the journal. Route53's API is
not called to move anything. Verified by GetRoutingControlState (the cluster's consensus) and by the DNS answer;
when the answer cannot be read (TestDNSAnswer is Route53's control plane), the routing-control states decide and
the detail says so. A safety rule that refuses the update fails the step with the rule's name; nothing changed.

By hand: `aws route53-recovery-cluster update-routing-control-states --region R --endpoint-url URL
--update-routing-control-state-entries RoutingControlArn=TARGET_ARN,RoutingControlState=On
RoutingControlArn=SOURCE_ARN,RoutingControlState=Off` (another endpoint of `aws route53-recovery-control-config
describe-cluster --region us-west-2 --cluster-arn C` if it does not answer), then
`aws route53-recovery-cluster get-routing-control-state --routing-control-arn ARN --region R --endpoint-url URL`.
"""

from __future__ import annotations

from collections.abc import Sequence

from dr.aws.arc import OFF, ON, Attempts, Endpoint, cluster_endpoints, control_states, update_states, violated_rule
from dr.aws.errors import describe, is_retryable
from dr.aws.planes import BEST_EFFORT
from dr.clock import iso, parse_iso
from dr.config.model import DnsRecord
from dr.engine.step import RunContext, Step
from dr.errors import StepFailed
from dr.iam import needs
from dr.iam.grants import Grant
from runbooks.steps._common import Waits, call, note_answered
from runbooks.steps.dns_failover_routing import RoutingView


def endpoints_fact(cluster_id: str) -> str:
    """The cluster endpoints this run uses (journaled at the step's start: a resume reads them here)."""
    return f"arc.endpoints.{cluster_id}"


def update_fact(cluster_id: str) -> str:
    """What the accepted UpdateRoutingControlStates set, and through which endpoint (journaled once accepted)."""
    return f"arc.update.{cluster_id}"


class ArcSwitch(Waits, Step):
    """Set the routing controls of one cluster's records: target On, source Off, in one call."""

    budget = 120.0
    api_family = "arc"
    max_attempts = 5
    poll_initial = 0.5
    poll_max = 2.0

    def __init__(self, records: Sequence[DnsRecord], view: RoutingView | None = None) -> None:
        self.records = list(records)
        arc = self.records[0].arc
        if arc is None:  # config validation refuses an arc-routing-control record without it
            raise ValueError(f"{self.records[0].fqdn}: an arc-routing-control record needs its arc section")
        self.arc = arc
        self.env = self.records[0].env
        self.view = view or RoutingView()
        self.name = f"dns:arc-{arc.cluster_id}"
        names = ", ".join(r.fqdn for r in self.records[:3]) + (" ..." if len(self.records) > 3 else "")
        self.resource = f"{arc.cluster_arn}: {len(self.records)} record(s) {names}"
        self.dns_note = ""
        """Why the DNS answer was not read (Route53's API failing): the routing control states decided."""
        self._order: list[Endpoint] = []
        self._unanswered: list[str] = []

    def wanted(self, ctx: RunContext) -> dict[str, str]:
        """Routing control ARN -> state this move wants: the target's On, the source's Off."""
        out: dict[str, str] = {}
        for record in self.records:
            controls = record.arc.routing_controls if record.arc else {}
            if ctx.source in controls:
                out[controls[ctx.source]] = OFF
            if ctx.target in controls:
                out[controls[ctx.target]] = ON
        return out

    def permissions(self, ctx: RunContext) -> list[Grant]:
        """The AWS calls of this step (dr.iam): the routing controls on the cluster's endpoints, DescribeCluster
        when the topology lists no endpoints, and each record's zone to read its answer."""
        out = needs.arc_switch(self.env, self.records, self.arc)
        for zone_id in sorted({r.zone_id for r in self.records}):
            out += needs.zone(self.env, zone_id, change=False) + needs.answers(self.env, zone_id)
        return out

    def describe(self, ctx: RunContext) -> Sequence[str]:
        wanted = self.wanted(ctx)
        on = sum(1 for s in wanted.values() if s == ON)
        calls = []
        if not self.arc.endpoints:
            calls.append(f"route53-recovery-control-config:DescribeCluster {self.arc.cluster_id} (once: the topology "
                         "lists no endpoints; journaled for a resume)")
        where = ", ".join(e.region for e in self.arc.endpoints) or "the endpoints DescribeCluster lists"
        calls += [f"route53-recovery-cluster:GetRoutingControlState x{len(wanted)} (endpoints in turn: {where})",
                  f"route53-recovery-cluster:UpdateRoutingControlStates ({on} On -> {ctx.target}, "
                  f"{len(wanted) - on} Off -> {ctx.source}, one call, endpoints in turn: {where})",
                  f"{BEST_EFFORT}{self.view.verify.describe()}: each record (poll until it answers {ctx.target}; "
                  "when the answer cannot be read, the routing control states decide)"]
        return calls

    def endpoints(self, ctx: RunContext) -> list[Endpoint]:
        """The journaled endpoints, else the topology's, else DescribeCluster's (control plane, once); journaled.
        The endpoint that answered last comes first (a dead one is not waited on at every poll)."""
        if self._order:
            return list(self._order)
        fact = endpoints_fact(self.arc.cluster_id)
        if ctx.facts.get(fact):
            self._order = [Endpoint.from_dict(e) for e in ctx.facts[fact]]
            return list(self._order)
        found = [Endpoint(e.region, e.url) for e in self.arc.endpoints]
        if not found:
            found = call(ctx, cluster_endpoints, clients=ctx.clients, env=self.env, cluster_arn=self.arc.cluster_arn)
        ctx.set_fact(fact, [e.to_dict() for e in found])
        self._order = list(found)
        return list(found)

    def _answered(self, attempts: Attempts) -> None:
        """Note the endpoints that did not answer, and put the one that did first."""
        for failure in attempts.failed:
            region = failure.split(":", 1)[0]
            if all(not f.startswith(region + ":") for f in self._unanswered):
                self._unanswered.append(failure)
        if attempts.used is not None and attempts.used in self._order:
            self._order.remove(attempts.used)
            self._order.insert(0, attempts.used)

    def _states(self, ctx: RunContext) -> dict[str, str]:
        attempts = Attempts()
        states = control_states(ctx.clients, self.env, self.endpoints(ctx), list(self.wanted(ctx)), attempts)
        self._answered(attempts)
        return states

    def _differing(self, ctx: RunContext) -> list[str]:
        wanted, states = self.wanted(ctx), self._states(ctx)
        return [f"{arn} is {states.get(arn)}, wants {state}" for arn, state in wanted.items()
                if states.get(arn) != state]

    def is_done(self, ctx: RunContext) -> bool:
        self.start_waiting(ctx)
        return not self._differing(ctx) and not self._not_answering(ctx)

    def act(self, ctx: RunContext) -> str | None:
        wanted = self.wanted(ctx)
        attempts = Attempts()
        try:
            update_states(ctx.clients, self.env, self.endpoints(ctx), wanted, attempts)
        except Exception as err:
            rule = violated_rule(err)
            if rule is not None:
                raise StepFailed(f"the cluster refused the routing control update: {rule}; nothing changed. "
                                 "Correct the routing control states or the rule (failover.md, DNS strategies), "
                                 "or override the rule by hand (SafetyRulesToOverride) if the move must go "
                                 "ahead") from err
            raise
        self._answered(attempts)
        used = attempts.used.to_dict() if attempts.used else {}
        ctx.set_fact(update_fact(self.arc.cluster_id), {"states": wanted, "endpoint": used,
                                                        "at": iso(ctx.clock.now())})
        on = sum(1 for s in wanted.values() if s == ON)
        where = f"via {attempts.used.region}" if attempts.used else ""
        skipped = f" (tried first: {'; '.join(self._unanswered)})" if self._unanswered else ""
        return (f"{on} routing control(s) On ({ctx.target}), {len(wanted) - on} Off ({ctx.source}) in one "
                f"UpdateRoutingControlStates {where}{skipped}")

    def verify(self, ctx: RunContext) -> bool:
        """As Waits.verify; once in place, each record's answer change (the accepted update: Route53's health
        checkers follow the routing controls) is journaled for the report's client-side RTO."""
        done = super().verify(ctx)
        if done:
            if self.dns_note:
                ctx.set_fact(f"arc.dns_unverified.{self.arc.cluster_id}", self.dns_note)
            update = ctx.facts.get(update_fact(self.arc.cluster_id)) or {}
            at = parse_iso(str(update["at"])) if update.get("at") else None
            note_answered(ctx, self.records, "routing control state", at)
        return done

    def waiting_on(self, ctx: RunContext) -> str | None:
        differing = self._differing(ctx)
        if differing:
            return "routing controls not set yet: " + "; ".join(differing[:5])
        wrong = self._not_answering(ctx)
        return ("DNS does not answer the target yet: " + "; ".join(wrong[:5])) if wrong else None

    def _not_answering(self, ctx: RunContext) -> list[str]:
        """Records whose DNS answer is not the target's value. An answer that cannot be read at all (Route53's API
        failing, e.g. TestDNSAnswer in a us-east-1 event) is noted and left to the routing control states."""
        wrong: list[str] = []
        if self.dns_note:  # Route53's API failed once in this step: not waited on at every poll
            return wrong
        for record in self.records:
            try:
                values, via = self.view.answer(ctx, record)
            except Exception as err:
                if not is_retryable(err) and not _is_call_error(err):
                    raise
                self.dns_note = (f"DNS answer of {record.fqdn} not read ({describe(err)}): judged on the routing "
                                 "control states")
                return []
            if values != {record.targets[ctx.target].rstrip(".").lower()}:
                wrong.append(f"{record.fqdn} answers {', '.join(sorted(values)) or 'nothing'} (read via {via})")
        return wrong


def _is_call_error(err: BaseException) -> bool:
    from dr.errors import AwsCallError

    return isinstance(err, AwsCallError)


def arc_records(records: Sequence[DnsRecord]) -> dict[str, list[DnsRecord]]:
    """The arc-routing-control records by cluster ARN (one step each)."""
    by_cluster: dict[str, list[DnsRecord]] = {}
    for record in records:
        if record.arc is not None:
            by_cluster.setdefault(record.arc.cluster_arn, []).append(record)
    return by_cluster


def arc_steps(records: Sequence[DnsRecord], view: RoutingView) -> list[Step]:
    """One ArcSwitch per ARC cluster of the arc-routing-control records."""
    return [ArcSwitch(group, view) for group in arc_records(records).values()]
