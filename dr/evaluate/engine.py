"""`engine`: each drctl Step Functions machine of the pair, where deployed, was generated from the current topology
(its `drctl:definition-sha256` tag equals the hash of the definition the topology generates now). A machine not
deployed is not applicable (no finding: "nothing to check"); a stale one fails: `failover --engine stepfunctions`
would refuse it (exit 2)."""

from __future__ import annotations

from dr.checks.state_machines import directions_of_pair, machine_state
from dr.evaluate.model import EvaluationContext, Finding


class EngineCheck:
    name = "engine"

    def __call__(self, ctx: EvaluationContext) -> list[Finding]:
        out = []
        for runbook, source, target in directions_of_pair(ctx.topology, ctx.target):
            state = machine_state(ctx.topology, ctx.clients, runbook, source, target)
            if state.deployed:
                out.append(Finding(f"{state.name} ({state.env}/{state.region})", state.ok, state.reason))
        return out
