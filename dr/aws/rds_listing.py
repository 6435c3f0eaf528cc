"""Batched reads of RDS: many database copies from one listing per account, region and kind.

`describe_member` asks for one copy; status, readiness and the exporter need every copy of every database,
and one describe per copy costs a call per database (and, in a regional outage, a connect timeout per
database). Here each (account, region, kind) is listed once — instances and clusters filtered by identifier
(`db-instance-id` / `db-cluster-id`, 100 per request: an RDS page holds at most 100 records), global clusters
unfiltered (DescribeGlobalClusters takes no filter) — and each copy's `DbView` is built from that listing,
exactly as `describe_member` builds it from its own answer. A listing that fails fails only the copies it held.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dr.aws.rds import DbView, GlobalClusterView, cluster_view, global_view, instance_view, with_global_role
from dr.config.model import Database, DbLocation, Engine, Topology

if TYPE_CHECKING:
    from dr.aws.factory import ClientFactory

FILTERS: dict[str, str] = {"describe_db_instances": "db-instance-id", "describe_db_clusters": "db-cluster-id"}
"""The listings that can be narrowed to given identifiers, and the filter that does it."""

FILTER_VALUES = 100
"""Identifiers per filtered request (RDS pages hold at most 100 records; one page per request)."""

_LISTINGS: dict[str, tuple[str, str]] = {
    "describe_db_instances": ("DBInstances", "DBInstanceIdentifier"),
    "describe_db_clusters": ("DBClusters", "DBClusterIdentifier"),
    "describe_global_clusters": ("GlobalClusters", "GlobalClusterIdentifier"),
}

Key = tuple[str, str, str]
"""(environment, region, operation): one listing."""


def list_all(client: Any, operation: str, ids: frozenset[str] | None = None) -> dict[str, dict[str, Any]]:
    """Every entry of one RDS describe operation in the client's region, by identifier (all pages); with
    `ids`, only those (filtered, `FILTER_VALUES` identifiers per request; absent ones are left out)."""
    key, ident = _LISTINGS[operation]
    if ids is None:
        requests: list[dict[str, Any]] = [{}]
    else:
        ordered = sorted(ids)
        requests = [{"Filters": [{"Name": FILTERS[operation], "Values": ordered[i:i + FILTER_VALUES]}]}
                    for i in range(0, len(ordered), FILTER_VALUES)]
    out: dict[str, dict[str, Any]] = {}
    for request in requests:
        for page in client.get_paginator(operation).paginate(**request):
            for item in page.get(key) or []:
                out[str(item[ident])] = item
    return out


def operations(engine: Engine) -> tuple[str, ...]:
    """The listings a copy of `engine` is read from."""
    if engine is Engine.RDS_INSTANCE:
        return ("describe_db_instances",)
    if engine is Engine.AURORA_GLOBAL:
        return ("describe_db_clusters", "describe_global_clusters")
    return ("describe_db_clusters",)


@dataclass
class _Listing:
    lock: threading.Lock = field(default_factory=threading.Lock)
    items: dict[str, dict[str, Any]] | None = None
    error: Exception | None = None


class RdsListings:
    """The listings of one read (a command, or one exporter refresh), each read once by whoever asks first.

    Filtered listings ask for the identifiers of every copy of `databases` in that account and region, so
    that any later question about those databases is answered from the same listing.
    """

    def __init__(self, topology: Topology, clients: ClientFactory, databases: Sequence[Database] | None = None):
        self._topology = topology
        self._clients = clients
        self._ids: dict[Key, set[str]] = {}
        for db in topology.databases if databases is None else databases:
            for loc in (db.primary, db.replica):
                for operation in operations(db.engine):
                    self._ids.setdefault(self.key(loc, operation), set()).add(loc.id)
        self._listings: dict[Key, _Listing] = {}
        self._guard = threading.Lock()

    def key(self, loc: DbLocation, operation: str) -> Key:
        return (loc.env, self._topology.region_of(loc), operation)

    def get(self, key: Key) -> dict[str, dict[str, Any]]:
        """The listing of `key` by identifier; raises the AWS error that reading it raised (once read, kept)."""
        with self._guard:
            listing = self._listings.setdefault(key, _Listing())
        with listing.lock:  # a second asker of the same listing waits for the first one's answer
            if listing.items is None and listing.error is None:
                env, region, operation = key
                ids = frozenset(self._ids.get(key, ())) if operation in FILTERS else None
                try:
                    listing.items = list_all(self._clients.client("rds", env, region), operation, ids)
                except Exception as exc:  # kept: every copy of this listing fails with it
                    listing.error = exc
            if listing.error is not None:
                raise listing.error
            assert listing.items is not None
            return listing.items

    def prefetch(self, wanted: Sequence[tuple[Database, DbLocation]]) -> None:
        """Read every listing `wanted` needs, side by side (one slow region does not delay the others)."""
        keys = list(dict.fromkeys(self.key(loc, op) for db, loc in wanted for op in operations(db.engine)))
        if len(keys) < 2:
            return
        with ThreadPoolExecutor(max_workers=min(8, len(keys)), thread_name_prefix="drctl-rds-list") as pool:
            for future in [pool.submit(self._quiet, key) for key in keys]:
                future.result()

    def _quiet(self, key: Key) -> None:
        try:
            self.get(key)
        except Exception:  # kept in the listing; raised again to each copy that needs it
            return

    def member(self, db: Database, loc: DbLocation) -> DbView:
        """What `dr.aws.rds.describe_member` answers for this copy, from the listings; AWS errors raise."""
        region = self._topology.region_of(loc)
        if db.engine is Engine.RDS_INSTANCE:
            item = self._item(loc, "describe_db_instances")
            if item is None:
                return DbView(loc.id, db.engine, loc.env, region, exists=False)
            return instance_view(item, env=loc.env, region=region)
        item = self._item(loc, "describe_db_clusters")
        if item is None:
            return DbView(loc.id, db.engine, loc.env, region, exists=False)
        view = cluster_view(item, env=loc.env, region=region, engine=db.engine)
        if db.engine is Engine.AURORA_GLOBAL and db.global_cluster_id:
            found = self.get(self.key(loc, "describe_global_clusters")).get(db.global_cluster_id)
            glob = global_view(found) if found is not None else GlobalClusterView(db.global_cluster_id, exists=False)
            return with_global_role(view, glob)
        return view

    def _item(self, loc: DbLocation, operation: str) -> dict[str, Any] | None:
        key = self.key(loc, operation)
        if loc.id not in self._ids.get(key, ()):  # a filtered listing would wrongly answer "not found"
            raise ValueError(f"{loc.id} in {key[0]}/{key[1]} is not among the copies these listings read")
        return self.get(key).get(loc.id)


def read_members(listings: RdsListings,
                 wanted: Sequence[tuple[Database, DbLocation]]) -> list[DbView | Exception]:
    """Each wanted copy's view, or the error that kept its listing from being read."""
    listings.prefetch(wanted)
    out: list[DbView | Exception] = []
    for db, loc in wanted:
        try:
            out.append(listings.member(db, loc))
        except Exception as exc:
            out.append(exc)
    return out
