"""`drctl plan`: each AWS call marked control plane or data plane, and per DNS strategy the control-plane calls
on the critical path (the global ones: Route53's API in us-east-1, ARC's control-config API in us-west-2).

A strategy's critical path is the DNS steps that move its records, plus, for records whose health checks watch
the application (upsert, failover-routing), the Route53 reads of prechecks and confirm. `arc-routing-control`
records move on the ARC cluster's data plane: 0 when the topology lists the cluster's endpoints.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dr.aws.planes import is_call, on_critical_path, plane_of
from dr.config.model import DnsStrategy, Topology
from dr.engine.step import RunContext, Step

HEALTH_READERS = ("prechecks", "confirm")
"""Steps that read the records' application health checks through Route53's API."""


def step_planes(step: Step, ctx: RunContext) -> list[dict[str, str]]:
    """One mark per call line of the step's `describe`."""
    return [plane_of(line).to_dict() if is_call(line) else {} for line in step.describe(ctx)]


def _strategies_of(step: Step, topology: Topology) -> set[str]:
    if step.name in HEALTH_READERS:
        return {r.strategy.value for r in topology.dns
                if r.strategy is not DnsStrategy.ARC_ROUTING_CONTROL and r.health_checks}
    records = getattr(step, "records", None)
    if not step.name.startswith("dns:") or not isinstance(records, list):
        return set()
    return {r.strategy.value for r in records}


def control_plane_calls(steps: Sequence[Step], ctx: RunContext) -> dict[str, dict[str, Any]]:
    """Per DNS strategy of the move's records: the global control-plane calls on its critical path."""
    strategies = sorted({r.strategy.value for r in ctx.topology.dns
                         if ctx.source in r.targets and ctx.target in r.targets})
    out: dict[str, dict[str, Any]] = {s: {"count": 0, "calls": []} for s in strategies}
    for step in steps:
        touched = _strategies_of(step, ctx.topology) & set(out)
        lines = [line for line in step.describe(ctx)
                 if is_call(line) and on_critical_path(line) and plane_of(line).global_control]
        for strategy in touched:
            out[strategy]["calls"] += [f"{step.name}: {line}" for line in lines]
            out[strategy]["count"] += len(lines)
    return out


def render_counts(counts: dict[str, dict[str, Any]]) -> list[str]:
    if not counts:
        return []
    lines = ["control-plane calls on the critical path, per DNS strategy (Route53 API us-east-1, ARC "
             "control-config us-west-2):"]
    lines += [f"   {strategy}: {entry['count']}" for strategy, entry in counts.items()]
    return lines
