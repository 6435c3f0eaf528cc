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
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from dr.aws.rds import DbView, GlobalClusterView, cluster_view, global_view, instance_view, with_global_role
from dr.config.model import Database, DbLocation, Engine
from dr.engine.step import RunContext
from runbooks.steps._common import call, is_cluster, rds, region

MAX_AGE = 0.25
"""Seconds a listing serves later polls: no more than the shortest poll interval of the promotion steps."""

BUSY_FACTOR = 2.0
"""A listing serves for at least this many times as long as it took to read: a slow listing (many databases,
a busy API) is read at most half of the time, instead of back to back. At 200 databases the sandbox took ~0.6 s
per cluster listing, and re-reading it every 0.25 s kept its one process busy (docs/benchmarks.md)."""

_LISTINGS: dict[str, tuple[str, str]] = {
    "describe_db_instances": ("DBInstances", "DBInstanceIdentifier"),
    "describe_db_clusters": ("DBClusters", "DBClusterIdentifier"),
    "describe_global_clusters": ("GlobalClusters", "GlobalClusterIdentifier"),
}


@dataclass
class _Listing:
    lock: threading.Lock
    taken_at: float | None = None
    took: float = 0.0
    items: dict[str, dict[str, Any]] | None = None


class RdsWatch:
    """Run-scoped, thread-safe: `member`, `instance`, `cluster` and `global_cluster` answer from a listing of
    the database's account and region no older than `max_age` seconds, made by whichever step asked first."""

    def __init__(self, max_age: float = MAX_AGE) -> None:
        self.max_age = max_age
        self._listings: dict[tuple[str, str, str], _Listing] = {}
        self._lock = threading.Lock()

    def member(self, ctx: RunContext, db: Database, loc: DbLocation, asked_at: float | None = None) -> DbView:
        """What `dr.aws.rds.describe_member` answers, from the shared listings. `asked_at` (the run clock's
        monotonic time) lets one caller look up many members in listings read once since that moment."""
        if not is_cluster(db.engine):
            return self.instance(ctx, loc, asked_at)
        found = self.cluster(ctx, db, loc, asked_at)
        if db.engine is Engine.AURORA_GLOBAL and found.exists and db.global_cluster_id:
            return with_global_role(found, self.global_cluster(ctx, loc, db.global_cluster_id, asked_at))
        return found

    def members(self, ctx: RunContext, wanted: Sequence[tuple[Database, DbLocation]],
                asked_at: float | None = None) -> list[DbView]:
        """`member` for each (database, copy), the listings they need read at once (instances, clusters and
        global clusters of each account and region side by side, not one after the other)."""
        asked_at = ctx.clock.monotonic() if asked_at is None else asked_at
        needed: dict[tuple[str, str, str], DbLocation] = {}
        for db, loc in wanted:
            for operation in _operations(db.engine):
                needed.setdefault((loc.env, region(ctx, loc), operation), loc)
        if len(needed) > 1:
            with ThreadPoolExecutor(max_workers=len(needed), thread_name_prefix="drctl-rds-watch") as pool:
                for future in [pool.submit(self._item, ctx, loc, key[2], "", asked_at)
                               for key, loc in needed.items()]:
                    future.result()
        return [self.member(ctx, db, loc, asked_at) for db, loc in wanted]

    def instance(self, ctx: RunContext, loc: DbLocation, asked_at: float | None = None) -> DbView:
        reg = region(ctx, loc)
        item = self._item(ctx, loc, "describe_db_instances", loc.id, asked_at)
        if item is None:
            return DbView(loc.id, Engine.RDS_INSTANCE, loc.env, reg, exists=False)
        return instance_view(item, env=loc.env, region=reg)

    def cluster(self, ctx: RunContext, db: Database, loc: DbLocation, asked_at: float | None = None) -> DbView:
        reg = region(ctx, loc)
        item = self._item(ctx, loc, "describe_db_clusters", loc.id, asked_at)
        if item is None:
            return DbView(loc.id, db.engine, loc.env, reg, exists=False)
        return cluster_view(item, env=loc.env, region=reg, engine=db.engine)

    def global_cluster(self, ctx: RunContext, loc: DbLocation, global_id: str,
                       asked_at: float | None = None) -> GlobalClusterView:
        """The global cluster as seen from `loc`'s region (every member region answers for it)."""
        item = self._item(ctx, loc, "describe_global_clusters", global_id, asked_at)
        return GlobalClusterView(global_id, exists=False) if item is None else global_view(item)

    def _item(self, ctx: RunContext, loc: DbLocation, operation: str, ident: str,
              asked_at: float | None) -> dict[str, Any] | None:
        items = self._fresh(ctx, (loc.env, region(ctx, loc), operation),
                            lambda: call(ctx, list_all, client=rds(ctx, loc), operation=operation),
                            ctx.clock.monotonic() if asked_at is None else asked_at)
        return items.get(ident)

    def _fresh(self, ctx: RunContext, key: tuple[str, str, str], read: Callable[[], dict[str, dict[str, Any]]],
               asked_at: float) -> dict[str, dict[str, Any]]:
        with self._lock:
            listing = self._listings.setdefault(key, _Listing(threading.Lock()))
        with listing.lock:  # one reader per listing; the others wait for its answer and share it
            if (listing.items is None or listing.taken_at is None
                    or asked_at - listing.taken_at > max(self.max_age, BUSY_FACTOR * listing.took)):
                taken_at = ctx.clock.monotonic()
                listing.items = read()
                listing.taken_at, listing.took = taken_at, ctx.clock.monotonic() - taken_at
            return listing.items


def _operations(engine: Engine) -> tuple[str, ...]:
    if engine is Engine.RDS_INSTANCE:
        return ("describe_db_instances",)
    if engine is Engine.AURORA_GLOBAL:
        return ("describe_db_clusters", "describe_global_clusters")
    return ("describe_db_clusters",)


def list_all(client: Any, operation: str) -> dict[str, dict[str, Any]]:
    """Every entry of one RDS describe operation in the client's region, by identifier (all pages)."""
    key, ident = _LISTINGS[operation]
    out: dict[str, dict[str, Any]] = {}
    for page in client.get_paginator(operation).paginate():
        for item in page.get(key) or []:
            out[str(item[ident])] = item
    return out
