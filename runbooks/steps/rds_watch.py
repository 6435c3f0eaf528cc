"""One shared reading of RDS per account and region for all of a run's promotion steps.

Sixty promotions, each polling its own database every second or so, made ~700 RDS describes in a
60-database failover: the single-process sandbox (and AWS's API rate limits) made every poll slower, and the
promote phase took 8.2 s for a 5.5 s slowest promotion (docs/benchmarks.md). Here a poll asks the run's
`RdsWatch`, which lists every instance, cluster or global cluster of that account and region in one
paginated describe, at most once per `max_age` seconds: steps polling at the same moment share one call, so
the calls per second are bounded by the number of regions, not of databases.

A step never sees data older than `max_age`, or than twice the time the listing took to read when that is
longer (a slow listing is not re-read back to back); a database missing from a listing reads as
`exists=False`, as a describe by id answering "not found" would.

A watch given a `scope` (the run's promotions) lists instances and clusters by identifier (`Filters`
db-instance-id / db-cluster-id) instead of all of them, and a promotion `settle`s its database once it is
seen done: later listings leave it out. At 200 databases the DR region held 200 instances (Aurora members
included) and 133 clusters; listing only the promotions still under way keeps each read small, so a
promotion's end is seen sooner and the API is less busy. DescribeGlobalClusters takes no filter: it lists
all global clusters, as without a scope. The scope is kept per account, region and kind, so a watch shared by
steps reading two regions (the fences: the copy they fence, its fenced name, and the other side for lineage) filters
each region's listing by that region's identifiers only.

`newer_than` (the run clock's monotonic time) asks for a listing begun at or after that moment: a fence reads
the copy it is about to rename from a listing begun once it decided to act, and verifies the rename from one begun
after the rename call returned — read-before-act and a verified fence, as a describe by id gives them, while any
number of fences acting at once still share one listing per account, region and kind.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from dr.aws.rds import DbView, GlobalClusterView, cluster_view, global_view, instance_view, with_global_role
from dr.aws.rds_listing import FILTERS, list_all
from dr.aws.rds_listing import operations as _operations
from dr.config.model import Database, DbLocation, Engine
from dr.engine.step import RunContext
from runbooks.steps._common import call, is_cluster, rds, region

MAX_AGE = 0.25
"""Seconds a listing serves later polls: no more than the shortest poll interval of the promotion steps."""

BUSY_FACTOR = 2.0
"""A listing serves for at least this many times as long as it took to read: a slow listing (many databases,
a busy API) is read at most half of the time, instead of back to back. At 200 databases the sandbox took ~0.6 s
per cluster listing, and re-reading it every 0.25 s kept its one process busy (docs/benchmarks.md)."""

@dataclass
class _Listing:
    lock: threading.Lock
    taken_at: float | None = None
    took: float = 0.0
    items: dict[str, dict[str, Any]] | None = None
    covered: frozenset[str] | None = None
    """The identifiers the listing was filtered to; None: everything in the account and region."""
    error: Exception | None = None
    failed_at: float | None = None
    """When the last read that failed began: askers waiting since before then get its error (a region that
    does not answer costs one timeout, not one per waiting step)."""


Key = tuple[str, str, str]
"""(environment, region, operation): one listing, and one set of watched identifiers."""


class RdsWatch:
    """Run-scoped, thread-safe: `member`, `instance`, `cluster` and `global_cluster` answer from a listing of
    the database's account and region no older than `max_age` seconds (and begun at or after `newer_than`, when
    given), made by whichever step asked first."""

    def __init__(self, max_age: float = MAX_AGE, scope: Sequence[tuple[Database, DbLocation]] | None = None) -> None:
        self.max_age = max_age
        self._listings: dict[Key, _Listing] = {}
        self._lock = threading.Lock()
        self._pending: list[tuple[Database, DbLocation]] | None = list(scope) if scope is not None else None
        """The scope until the first listing resolves its regions (a copy's region comes from the topology)."""
        self._scope: dict[Key, set[str]] | None = None if scope is None else {}

    def settle(self, db: Database, loc: DbLocation) -> None:
        """`loc` needs no more watching (its promotion is seen done): later listings leave it out. Asking for it
        again brings it back."""
        if self._scope is None:
            return
        with self._lock:
            if self._pending is not None:
                self._pending = [(d, c) for d, c in self._pending if not (c.env == loc.env and c.id == loc.id)]
            operations = _operations(db.engine)
            for (env, _, operation), ids in self._scope.items():
                if env == loc.env and operation in operations:
                    ids.discard(loc.id)

    def member(self, ctx: RunContext, db: Database, loc: DbLocation, asked_at: float | None = None, *,
               newer_than: float | None = None) -> DbView:
        """What `dr.aws.rds.describe_member` answers, from the shared listings. `asked_at` (the run clock's
        monotonic time) lets one caller look up many members in listings read once since that moment;
        `newer_than` takes only listings begun at or after that moment (read again otherwise)."""
        if not is_cluster(db.engine):
            return self.instance(ctx, loc, asked_at, newer_than=newer_than)
        found = self.cluster(ctx, db, loc, asked_at, newer_than=newer_than)
        if db.engine is Engine.AURORA_GLOBAL and found.exists and db.global_cluster_id:
            glob = self.global_cluster(ctx, loc, db.global_cluster_id, asked_at, newer_than=newer_than)
            return with_global_role(found, glob)
        return found

    def members(self, ctx: RunContext, wanted: Sequence[tuple[Database, DbLocation]],
                asked_at: float | None = None, *, newer_than: float | None = None) -> list[DbView]:
        """`member` for each (database, copy), the listings they need read at once (instances, clusters and
        global clusters of each account and region side by side, not one after the other)."""
        asked_at = ctx.clock.monotonic() if asked_at is None else asked_at
        needed: dict[tuple[str, str, str], tuple[DbLocation, set[str]]] = {}
        for db, loc in wanted:
            for operation in _operations(db.engine):
                needed.setdefault((loc.env, region(ctx, loc), operation), (loc, set()))[1].add(loc.id)
        if len(needed) > 1:
            with ThreadPoolExecutor(max_workers=len(needed), thread_name_prefix="drctl-rds-watch") as pool:
                for future in [pool.submit(self._listing, ctx, loc, key[2], ids, asked_at, newer_than=newer_than)
                               for key, (loc, ids) in needed.items()]:
                    future.result()
        return [self.member(ctx, db, loc, asked_at, newer_than=newer_than) for db, loc in wanted]

    def instance(self, ctx: RunContext, loc: DbLocation, asked_at: float | None = None, *,
                 newer_than: float | None = None) -> DbView:
        reg = region(ctx, loc)
        item = self._item(ctx, loc, "describe_db_instances", loc.id, asked_at, newer_than=newer_than)
        if item is None:
            return DbView(loc.id, Engine.RDS_INSTANCE, loc.env, reg, exists=False)
        return instance_view(item, env=loc.env, region=reg)

    def cluster(self, ctx: RunContext, db: Database, loc: DbLocation, asked_at: float | None = None, *,
                newer_than: float | None = None) -> DbView:
        reg = region(ctx, loc)
        item = self._item(ctx, loc, "describe_db_clusters", loc.id, asked_at, newer_than=newer_than)
        if item is None:
            return DbView(loc.id, db.engine, loc.env, reg, exists=False)
        return cluster_view(item, env=loc.env, region=reg, engine=db.engine)

    def global_cluster(self, ctx: RunContext, loc: DbLocation, global_id: str,
                       asked_at: float | None = None, *, newer_than: float | None = None) -> GlobalClusterView:
        """The global cluster as seen from `loc`'s region (every member region answers for it)."""
        item = self._item(ctx, loc, "describe_global_clusters", global_id, asked_at, newer_than=newer_than)
        return GlobalClusterView(global_id, exists=False) if item is None else global_view(item)

    def entries(self, ctx: RunContext, loc: DbLocation, operation: str, ids: Iterable[str],
                asked_at: float | None = None, *, newer_than: float | None = None) -> dict[str, dict[str, Any]]:
        """AWS's own description of each of `ids` (`operation`: describe_db_instances / describe_db_clusters) in
        `loc`'s account and region, from the shared listing (the identifiers join the scope): for reads that need
        fields a `DbView` does not carry, such as a cluster's members or an instance's latest restorable time.
        Identifiers AWS does not list are left out, as a describe by id would answer "not found"."""
        wanted = set(ids)
        listing = self._listing(ctx, loc, operation, wanted, asked_at, newer_than=newer_than)
        return {ident: listing[ident] for ident in wanted if ident in listing}

    def everything(self, ctx: RunContext, loc: DbLocation, operation: str, *,
                   newer_than: float | None = None) -> dict[str, dict[str, Any]]:
        """Every entry of `operation` (describe_db_instances / describe_db_clusters) in `loc`'s account and region,
        whatever the scope: for copies found by tag rather than by id (every run's fenced copies). Shared as the
        other listings are."""
        def read(_: frozenset[str] | None) -> dict[str, dict[str, Any]]:
            return call(ctx, list_all, client=rds(ctx, loc), operation=operation, ids=None)

        key = (loc.env, region(ctx, loc), f"{operation} (all)")  # not a FILTERS key: never narrowed
        return self._fresh(ctx, key, set(), read, ctx.clock.monotonic(), newer_than=newer_than)

    def _item(self, ctx: RunContext, loc: DbLocation, operation: str, ident: str,
              asked_at: float | None, *, newer_than: float | None = None) -> dict[str, Any] | None:
        return self._listing(ctx, loc, operation, {ident}, asked_at, newer_than=newer_than).get(ident)

    def _listing(self, ctx: RunContext, loc: DbLocation, operation: str, needed: set[str],
                 asked_at: float | None, *, newer_than: float | None = None) -> dict[str, dict[str, Any]]:
        def read(ids: frozenset[str] | None) -> dict[str, dict[str, Any]]:
            return call(ctx, list_all, client=rds(ctx, loc), operation=operation, ids=ids)

        return self._fresh(ctx, (loc.env, region(ctx, loc), operation), needed, read,
                           ctx.clock.monotonic() if asked_at is None else asked_at, newer_than=newer_than)

    def _fresh(self, ctx: RunContext, key: Key, needed: set[str],
               read: Callable[[frozenset[str] | None], dict[str, dict[str, Any]]],
               asked_at: float, *, newer_than: float | None = None) -> dict[str, dict[str, Any]]:
        with self._lock:
            listing = self._listings.setdefault(key, _Listing(threading.Lock()))
        # Join the scope before waiting: the next read names every identifier asked for meanwhile, so a burst of
        # askers for identifiers outside the scope costs two reads, not one read each.
        self._ids(ctx, key, needed)
        with listing.lock:  # one reader per listing; the others wait for its answer and share it
            if listing.error is not None and listing.failed_at is not None and listing.failed_at >= asked_at:
                raise listing.error  # the read this asker waited for failed: the same answer, not one more try
            if (listing.items is None or listing.taken_at is None
                    or asked_at - listing.taken_at > max(self.max_age, BUSY_FACTOR * listing.took)
                    or (newer_than is not None and listing.taken_at < newer_than)
                    or (listing.covered is not None and not needed <= listing.covered)):
                ids = self._ids(ctx, key, needed)
                taken_at = ctx.clock.monotonic()
                try:
                    items = read(ids)
                except Exception as exc:
                    listing.error, listing.failed_at = exc, taken_at
                    raise
                listing.items, listing.covered, listing.error = items, ids, None
                listing.taken_at, listing.took = taken_at, ctx.clock.monotonic() - taken_at
            return listing.items

    def _ids(self, ctx: RunContext, key: Key, needed: set[str]) -> frozenset[str] | None:
        """What a listing of `key` reads: None (everything) without a scope or filter, else the scope's
        identifiers of that account, region and kind not yet settled and those asked for now (which join it)."""
        if self._scope is None or key[2] not in FILTERS:
            return None
        with self._lock:
            if self._pending is not None:  # the regions of the scope, resolved once
                for db, loc in self._pending:
                    for operation in _operations(db.engine):
                        if operation in FILTERS:
                            self._scope.setdefault((loc.env, region(ctx, loc), operation), set()).add(loc.id)
                self._pending = None
            watched = self._scope.setdefault(key, set())
            watched |= needed
            return frozenset(watched)
