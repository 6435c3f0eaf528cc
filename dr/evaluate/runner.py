"""Run the plan checks for one or every DR target; a check that raises fails with what it could not read."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from dr.evaluate.model import CheckOutcome, EvaluationContext, Finding, PlanCheck

if TYPE_CHECKING:
    from dr.aws.factory import ClientFactory
    from dr.clock import Clock
    from dr.config.model import Topology


def targets_of(topology: Topology, target: str | None) -> list[str]:
    """`target` (checked), else every environment that is the DR side of another."""
    if target is None:
        return sorted(name for name, env in topology.environments.items() if env.dr_for)
    if target not in topology.environments:
        from dr.errors import UsageError

        raise UsageError(f"--to {target!r}: no such environment; the topology has: "
                         f"{', '.join(topology.environments)}")
    return [target]


def evaluate(topology: Topology, clients: ClientFactory, clock: Clock, target: str | None = None,
             checks: Sequence[PlanCheck] | None = None) -> list[CheckOutcome]:
    """Every check for every target, in check order; the checks of one target run concurrently."""
    from dr.evaluate import CHECKS

    chosen = list(CHECKS if checks is None else checks)
    outcomes: list[CheckOutcome] = []
    for env in targets_of(topology, target):
        ctx = EvaluationContext(topology, clients, clock, topology.source_of(env), env)
        with ThreadPoolExecutor(max_workers=max(1, len(chosen)), thread_name_prefix="plan-eval") as pool:
            futures = [pool.submit(_run, check, ctx) for check in chosen]
            outcomes.extend(future.result() for future in futures)
    return outcomes


def _run(check: PlanCheck, ctx: EvaluationContext) -> CheckOutcome:
    from dr.aws.errors import describe

    try:
        findings = tuple(check(ctx))
    except Exception as err:  # an unreadable AWS is a failed check with its reason, never a traceback
        findings = (Finding(check.name, False, f"could not evaluate: {describe(err)}"),)
    return CheckOutcome(check.name, ctx.target, findings)


def render_text(outcomes: Sequence[CheckOutcome]) -> str:
    lines = []
    for outcome in outcomes:
        lines.append(f"{'PASS' if outcome.ok else 'FAIL'}  {outcome.check:<16} {outcome.env}: {outcome.reason}")
        lines.extend(f"      {'ok  ' if f.ok else 'FAIL'} {f.resource}: {f.reason}" for f in outcome.findings
                     if not outcome.ok or len(outcome.findings) <= 1)
    passed = sum(1 for o in outcomes if o.ok)
    lines.append(f"{passed} of {len(outcomes)} checks pass")
    return "\n".join(lines) + "\n"
