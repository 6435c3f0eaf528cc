"""The step contract: one small class per runbook step, read like the runbook page a human would follow.

"Is it already done? -> check preconditions -> act -> verify". The executor (dr.engine.executor) owns
timing, budgets, retries, journaling and events; a step only talks to AWS through `ctx.clients`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dr.aws.factory import ClientFactory
    from dr.clock import Clock
    from dr.config.model import Topology


class StepStatus(StrEnum):
    PLANNED = "planned"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    ALREADY_DONE = "already-done"


class FailurePolicy(StrEnum):
    ABORT = "abort"
    """The run stops: nothing new starts, running group members finish."""
    CONTINUE = "continue"
    """Non-critical: the failure is reported and the run goes on."""


class PreconditionFailed(Exception):
    """`check` found the world not as the step needs it; the message says what and what to do."""


class StepNotApplicable(Exception):
    """`check` found that the step does not apply in this run (e.g. a best-effort extra whose region is
    down): the step ends `skipped` with the message as its detail, which is not a failure."""


@dataclass
class RunOptions:
    dry_run: bool = False
    yes: bool = False
    accept_data_loss: bool = False
    simulate_outage: frozenset[str] = frozenset()
    planned: bool | None = None
    """True for a planned move (source healthy), False for an unplanned one; None until prechecks decide."""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunContext:
    """Everything a step may use. `facts` are small journaled values shared between steps (restored on
    resume): e.g. which health checks were inverted, the data-loss window per database."""

    topology: Topology
    clients: ClientFactory
    clock: Clock
    run_id: str
    runbook: str
    source: str
    target: str
    options: RunOptions = field(default_factory=RunOptions)
    facts: dict[str, Any] = field(default_factory=dict)
    on_fact: Callable[[str, Any], None] | None = field(default=None, repr=False, compare=False)
    """Set by the engine: journals each fact as it is recorded (see dr.engine.facts for the names)."""

    def set_fact(self, key: str, value: Any) -> None:
        """Record a fact; the engine journals it before returning (JSON-serialisable values only)."""
        self.facts[key] = value
        if self.on_fact is not None:
            self.on_fact(key, value)


class Step:
    """Base class of a runbook step. Subclasses set the attributes and override the methods they need.

    A mutating step should override `is_done`: it is asked before every `act` (also before a retry, and on
    resume after a crash mid-call), and it is what keeps a mutation from happening twice. A mutating step
    that cannot tell is never repeated blindly after a crash: resume fails it, asking for a manual check.
    """

    name: str = "step"
    """Stable identifier within the runbook (journal key), e.g. `promote:orders`."""
    resource: str = ""
    """What the step acts on, e.g. an ARN or `api.example.com. (Z0EXAMPLE)`."""
    budget: float = 60.0
    """Seconds the step may take, retries and verification included."""
    mutating: bool = True
    """False for read-only steps (prechecks, gates): they run in dry-run too."""
    policy: FailurePolicy = FailurePolicy.ABORT
    api_family: str = "default"
    """Concurrency key: members of a parallel group sharing a family share its limit (e.g. route53)."""
    max_attempts: int = 5
    poll_initial: float = 0.25
    poll_max: float = 2.0

    def describe(self, ctx: RunContext) -> Sequence[str]:
        """The AWS calls this step will make, for `drctl plan`."""
        return ()

    def is_done(self, ctx: RunContext) -> bool:
        """True when the world is already in the desired state: the step ends `already-done`."""
        return False

    def check(self, ctx: RunContext) -> None:
        """Read-only preconditions; raise PreconditionFailed with the reason."""

    def act(self, ctx: RunContext) -> str | None:
        """The mutation (or the read-only work of a non-mutating step). Returns a detail line."""
        return None

    def verify(self, ctx: RunContext) -> bool:
        """Polled after `act` until True or the budget is spent."""
        return True

    def compensate(self, ctx: RunContext) -> None:
        """Undo `act` when a later step fails and the runbook asks for rollback (optional)."""
