"""What the runbook steps share: which databases and records a move touches, fact names, AWS call helpers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from dr.aws.lineage import Lineage, lineage_of, writable
from dr.aws.rds import DbView, Role
from dr.config.model import Database, DbLocation, DnsRecord, Engine
from dr.engine.step import RunContext
from dr.retry import retrying

T = TypeVar("T")

FACT_PLANNED = "move.planned"
"""True when prechecks found the source region's RDS answering and nobody asked for --unplanned (a planned move:
fence, catch up, promote); False for an unplanned one (promote past the RPO gate, fence what is left later)."""
FACT_SOURCE_REACHABLE = "move.source_reachable"
"""True when the source region's RDS answered during prechecks."""


def generation_fact(database: str) -> str:
    """The generation this run gives the copy it promotes (journaled before the tag is written)."""
    return f"lineage.generation.{database}"


def fence_fact(database: str) -> str:
    """When (ISO 8601) and as what id this run fenced the source writer of `database`."""
    return f"fence.{database}"


def inverted_fact(health_check_id: str) -> str:
    """Fact name recording that a run inverted this health check (failback restores it)."""
    return f"dns.inverted_health_check.{health_check_id}"


@dataclass(frozen=True)
class Move:
    """One database of a move: `old` is the writer being left, `new` the copy that becomes the writer."""

    db: Database
    old: DbLocation
    new: DbLocation


def toward_dr(ctx: RunContext) -> bool:
    """True when the target is the DR side of the source (a failover); False when returning (a failback)."""
    return ctx.topology.environments[ctx.target].dr_for == ctx.source


def moves(ctx: RunContext) -> list[Move]:
    """The databases of the source/target pair, each with the side it leaves and the side it moves to.

    A database belongs to the pair when its primary lives in the protected environment's region and its replica
    in the DR environment's region: the rule config validation enforces ("every database of a protected
    environment needs a replica in its DR side's region"), and ids stay per region across moves."""
    forward = toward_dr(ctx)
    protected, dr_side = (ctx.source, ctx.target) if forward else (ctx.target, ctx.source)
    home = ctx.topology.environments[protected].region
    away = ctx.topology.environments[dr_side].region
    out: list[Move] = []
    for db in ctx.topology.databases:
        if region(ctx, db.primary) != home or region(ctx, db.replica) != away:
            continue
        out.append(Move(db, old=db.primary, new=db.replica) if forward else Move(db, old=db.replica, new=db.primary))
    return out


def records(ctx: RunContext) -> list[DnsRecord]:
    """The DNS records that name a target for both sides of the move."""
    return [r for r in ctx.topology.dns if ctx.source in r.targets and ctx.target in r.targets]


def region(ctx: RunContext, loc: DbLocation) -> str:
    return ctx.topology.region_of(loc)


def rds(ctx: RunContext, loc: DbLocation) -> Any:
    """The RDS client of the account and region a database copy lives in."""
    return ctx.clients.client("rds", loc.env, region(ctx, loc))


def call(ctx: RunContext, fn: Callable[..., T], /, **kwargs: Any) -> T:
    """One AWS call, retried on throttling and 5xx with the one retry builder (backoff on ctx.clock). An endpoint
    that does not answer at all is not retried here: botocore already did, and the step's own retries decide."""
    return retrying(clock=ctx.clock, attempts=6, initial=0.2, maximum=5.0, retry_on=_worth_retrying)(fn, **kwargs)


def zone_record_sets(ctx: RunContext, env: str, zone_id: str) -> list[dict[str, Any]]:
    """Every record set of a hosted zone (one paged listing), each page retried as `call` retries."""
    from dr.aws.route53 import list_zone

    return list_zone(ctx.clients.route53(env), zone_id, lambda fn, **kwargs: call(ctx, fn, **kwargs))


def _worth_retrying(exc: BaseException) -> bool:
    from dr.aws.errors import is_retryable, is_unreachable

    return is_retryable(exc) and not is_unreachable(exc)


def planned(ctx: RunContext) -> bool:
    """Planned move? The prechecks' verdict (journaled as a fact), else the option, else planned."""
    value = ctx.facts.get(FACT_PLANNED, ctx.options.planned)
    return True if value is None else bool(value)


def source_reachable(ctx: RunContext) -> bool:
    return bool(ctx.facts.get(FACT_SOURCE_REACHABLE, True))


def is_cluster(engine: Engine) -> bool:
    return engine in (Engine.AURORA_CLUSTER, Engine.AURORA_GLOBAL)


def view(ctx: RunContext, db: Database, loc: DbLocation, db_id: str | None = None) -> DbView:
    """What AWS says of one member (optionally under another id), read in its own account and region."""
    from dr.aws.rds import describe_cluster, describe_instance, describe_member

    if db_id is None:
        return call(ctx, describe_member, clients=ctx.clients, topology=ctx.topology, db=db, loc=loc)
    reg = region(ctx, loc)
    if is_cluster(db.engine):
        return call(ctx, describe_cluster, client=rds(ctx, loc), cluster_id=db_id, env=loc.env, region=reg,
                    engine=db.engine)
    return call(ctx, describe_instance, client=rds(ctx, loc), db_id=db_id, env=loc.env, region=reg)


def is_writer(found: DbView) -> bool:
    """Available and replicating from nothing: a writable copy, though not necessarily the current writer (see
    `lineage`: a stale copy is writable too)."""
    return found.available and found.role in (Role.PRIMARY, Role.STANDALONE) and not found.source_arn


def lineage(ctx: RunContext, move: Move, watch: Any = None, *, new: DbView | None = None) -> Lineage:
    """Both copies of a moved database. The side being left is read only while its region answers (a regional
    outage must not stall the run): unread, it counts as `unread` and the new side is judged on its own tags."""
    from runbooks.steps.rds_watch import RdsWatch

    watch = watch or RdsWatch()
    here = new if new is not None else watch.member(ctx, move.db, move.new)
    old: DbView | None = None
    if source_reachable(ctx) or region(ctx, move.old) == region(ctx, move.new):
        try:
            old = watch.member(ctx, move.db, move.old)
        except Exception:  # an unreachable or failing region: judged without it
            old = None
    return lineage_of(move.db.name, move.db.engine, [old, here])


def read_sides(ctx: RunContext, todo: list[Move], watch: Any = None, *,
               olds_needed: bool = True) -> list[tuple[DbView, DbView | None]]:
    """(new side, side being left) of each move: one listing per account, region and kind for all of them. The
    side being left is read only while its region answers (and when `olds_needed`); unread, it is None."""
    from runbooks.steps.rds_watch import RdsWatch

    watch = watch or RdsWatch()
    news = watch.members(ctx, [(m.db, m.new) for m in todo])
    olds: list[DbView | None] = [None] * len(todo)
    if olds_needed and source_reachable(ctx):
        try:
            olds = list(watch.members(ctx, [(m.db, m.old) for m in todo]))
        except Exception:  # the side being left does not answer: judged on the new side's own tags
            olds = [None] * len(todo)
    return list(zip(news, olds, strict=True))


def current_writers(ctx: RunContext, todo: list[Move], watch: Any = None) -> list[bool]:
    """For each move, whether its new side is the current writer. The side being left matters only when a new
    side is standalone (to compare generations): before any promotion it is not read."""
    from runbooks.steps.rds_watch import RdsWatch

    watch = watch or RdsWatch()
    news = watch.members(ctx, [(m.db, m.new) for m in todo])
    sides = read_sides(ctx, todo, watch, olds_needed=any(is_writer(n) for n in news))
    return [is_current_writer(ctx, m, new, lineage_of(m.db.name, m.db.engine, [old, new]))
            for m, (new, old) in zip(todo, sides, strict=True)]


def is_current_writer(ctx: RunContext, move: Move, found: DbView, line: Lineage) -> bool:
    """`found` (the new side) is the current writer: by lineage when the old side was read; else writable and
    promoted by drctl (generation >= 1, or the generation this run gave it)."""
    from dr.aws.lineage import generation

    if not writable(found) or not found.available:
        return False
    if move.db.engine is Engine.AURORA_GLOBAL:
        return found.role is Role.PRIMARY
    if line.unread == 0:
        return line.is_current(found)
    mine = ctx.facts.get(generation_fact(move.db.name))
    return generation(found) >= (int(mine) if mine is not None else 1)


def note_answered(ctx: RunContext, dns: Sequence[DnsRecord], how: str, at: datetime | None = None) -> None:
    """Journal, once per record and run, when its answer changed to the target (`at`, default now) and its TTL:
    the report's `rto.clients_followed_seconds` is that time plus the TTL."""
    from dr.clock import iso
    from dr.engine.facts import answered_fact

    when = iso(at or ctx.clock.now())
    for record in dns:
        if answered_fact(record.fqdn) not in ctx.facts:
            ctx.set_fact(answered_fact(record.fqdn), {"at": when, "ttl": record.ttl, "how": how})


class Waits(ABC):
    """Mixin for steps that poll in `verify`: when the budget is nearly spent, fail with what is still awaited
    (e.g. "orders-db-euw1 is modifying, still a replica") instead of a bare "not verified in time"."""

    budget: float
    poll_max: float
    _waiting_since: float | None = None

    def start_waiting(self, ctx: RunContext) -> None:
        if self._waiting_since is None:
            self._waiting_since = ctx.clock.monotonic()

    @abstractmethod
    def waiting_on(self, ctx: RunContext) -> str | None:
        """None when the step's effect is in place, else what it is still waiting for."""

    def verify(self, ctx: RunContext) -> bool:
        from dr.errors import StepFailed

        self.start_waiting(ctx)
        state = self.waiting_on(ctx)
        if state is None:
            return True
        since = self._waiting_since if self._waiting_since is not None else ctx.clock.monotonic()
        if ctx.clock.monotonic() - since + 2 * self.poll_max >= self.budget:
            raise StepFailed(f"not done within its budget of {self.budget:g}s: {state}")
        return False
