"""What a plan check is and what it answers: the contract every check of `drctl plan evaluate` follows.

A check is any object with a `name` (the `check` label of `drctl_plan_check_ok`: short, stable, kebab-case) and
a `__call__(ctx) -> list[Finding]`: one finding per thing it looked at, each passing or failing with its reason
in words. AWS errors may escape a check: the runner turns them into a failing finding saying what could not be
read. A check must only read AWS (plan evaluation runs every 30 minutes in the exporter).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from dr.aws.factory import ClientFactory
    from dr.clock import Clock
    from dr.config.model import Topology


@dataclass(frozen=True)
class EvaluationContext:
    """What a check may use: the topology, the client factory, the clock, and the pair being evaluated."""

    topology: Topology
    clients: ClientFactory
    clock: Clock
    source: str
    target: str


@dataclass(frozen=True)
class Finding:
    """One thing a check looked at (`resource`), whether it is fine, and why in words."""

    resource: str
    ok: bool
    reason: str
    value: float | None = None
    """A measured number worth exporting (e.g. a backup age in seconds), where the check has one."""
    labels: tuple[tuple[str, str], ...] = ()
    """Metric labels of `value` where the exporter exports it (e.g. database and region of a backup age)."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"resource": self.resource, "ok": self.ok, "reason": self.reason}
        if self.value is not None:
            out["value"] = self.value
        return out


class PlanCheck(Protocol):
    """One plan check. Register an instance in `dr.evaluate.CHECKS` (or pass your own list to `evaluate`)."""

    name: str
    """The `check` label: keep it short and stable (e.g. `resources`, `permissions`)."""

    def __call__(self, ctx: EvaluationContext) -> list[Finding]:
        """Look at AWS for `ctx.target`'s plan and say, per resource, what is fine and what is not."""
        ...


@dataclass(frozen=True)
class CheckOutcome:
    """A check's verdict for one target: ok when every finding is (a check with nothing to look at passes)."""

    check: str
    env: str
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.findings)

    @property
    def reason(self) -> str:
        """The failing findings' reasons (or a one-line summary of a pass)."""
        bad = [f"{f.resource}: {f.reason}" for f in self.findings if not f.ok]
        if bad:
            return "; ".join(bad)
        if not self.findings:
            return "nothing to check"
        return f"{len(self.findings)} checked, all fine"

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "env": self.env, "ok": self.ok, "reason": self.reason,
                "findings": [f.to_dict() for f in self.findings]}
