"""Helpers for the discovery tests: a topology's databases and records as comparable facts (no tests here)."""

from __future__ import annotations

from typing import Any

from dr.config.model import Topology
from dr.discover.model import Discovery


def database_facts(topology: Topology) -> set[tuple[Any, ...]]:
    """Each database as (name, engine, primary, replica, global id), with each copy's region spelled out."""
    return {(db.name, db.engine.value,
             *((loc.env, topology.region_of(loc), loc.id) for loc in (db.primary, db.replica)), db.global_cluster_id)
            for db in topology.databases}


def record_facts(topology: Topology) -> set[tuple[Any, ...]]:
    return {(r.zone_id, r.fqdn, r.type, r.ttl, r.strategy.value, tuple(sorted(r.targets.items())),
             tuple(sorted(r.health_checks.items()))) for r in topology.dns}


def as_topology(found: Discovery) -> Topology:
    from dr.discover.render import document

    return Topology.model_validate(document(found))
