"""The declaration interface: what a step (or the exporter, the engine's backends) may call, on what, where.

A step declares its needs with a `permissions(ctx) -> Iterable[Grant]` method (see `Declares`); `declared`
collects them from any object. A Grant says: the role of environment `env`, calling `region`, may call
`actions` on `resources` (ARNs from the topology; `*` only for actions AWS authorizes on no resource type,
listed in `dr.iam.arns.NO_RESOURCE_LEVEL`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from dr.errors import DrError

if TYPE_CHECKING:
    from dr.engine.step import RunContext


@dataclass(frozen=True)
class Grant:
    """`env`'s role may call `actions` (`service:Action`) on `resources` in `region` (us-east-1 for Route53).
    `context` adds condition keys the request carries (e.g. `kms:RequestAlias`) as StringEquals."""

    env: str
    region: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    context: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        for action in self.actions:
            service, _, name = action.partition(":")
            if not service or not name or "*" in action or "?" in action:
                raise ValueError(f"IAM action {action!r}: name one action as service:Action, no wildcard")
        if not self.resources:
            raise ValueError(f"grant of {', '.join(self.actions)}: at least one resource (or '*') is required")


def grant(env: str, region: str, actions: Iterable[str], resources: Iterable[str],
          context: Mapping[str, str] | None = None) -> Grant:
    """A Grant from any iterables (sorted, deduplicated), the form steps write."""
    return Grant(env, region, tuple(sorted(set(actions))), tuple(sorted(set(resources))),
                 tuple(sorted((context or {}).items())))


@runtime_checkable
class Declares(Protocol):
    """Anything that calls AWS declares what it calls: a step, a step wrapper, the exporter's sources."""

    def permissions(self, ctx: RunContext) -> Iterable[Grant]:
        """Every call this object may make in this run, by environment, region, action and resource."""
        ...


class UndeclaredStep(DrError):
    """A step that calls AWS but declares no permissions: the generated policy would miss its actions (a defect
    of drctl, exit 1, rather than a policy that silently lacks them)."""


def declared(obj: object, ctx: RunContext) -> list[Grant]:
    """The grants `obj` declares; a step without a `permissions` method is an error, never an empty set."""
    if not isinstance(obj, Declares):
        raise UndeclaredStep(f"{type(obj).__module__}.{type(obj).__qualname__} declares no IAM permissions: add a "
                             "`permissions(ctx)` method returning its Grants (docs/iam.md, 'Declaring a step')")
    return list(obj.permissions(ctx))
