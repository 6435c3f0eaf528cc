"""The exporter's reads of AWS, one method per source, built on drctl's checks and AWS adapters.

Every method may fail wholly (raise) or partly (`Reading.errors`); the refresher turns both into
`drctl_exporter_errors_total{source}`. Only the refresher thread calls these, never a scrape.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol

from dr.metrics._state import Labels, Reading

if TYPE_CHECKING:
    from dr.aws.factory import ClientFactory
    from dr.aws.rds_listing import RdsListings
    from dr.aws.route53 import HealthStatus
    from dr.checks.lag import LagSample, LagTarget
    from dr.checks.model import CheckResult
    from dr.clock import Clock
    from dr.config.model import Topology
    from dr.metrics._direction import Direction


class Sources(Protocol):
    """Where the exporter's numbers come from. Implementations read AWS; tests substitute fakes."""

    def begin_refresh(self) -> None:
        """A refresh starts: what the previous one read is forgotten (reads are shared within one refresh)."""
        ...

    def lags(self) -> dict[str, LagSample | None]:
        """Lag of every database in the direction replication runs now (`dr.metrics._direction`), in one
        batched read; a sample with `error` set is a failed read, None means the database has no copy to read
        lag on now (its lag series go), a database left out could not be told (its old values are kept)."""
        ...

    def readiness(self, lags: Mapping[str, LagSample] | None = None) -> Reading:
        """`(env, check) -> 1/0` (1 only if every resource of the check is ready); covered by `(env,)`.

        `lags` is this refresh's lag read, reused by the lag checks instead of reading CloudWatch again.
        """
        ...

    def health(self) -> Reading:
        """`(env, health_check_id) -> 1/0` for every health check of every record."""
        ...

    def dns(self) -> Reading:
        """`(record, env) -> 1` for the side each record serves now, 0 for its other sides; covered by
        `(record,)`."""
        ...

    def writers(self, lags: Mapping[str, LagSample | None] | None = None) -> Reading:
        """`(metric, database) -> value` of `drctl_writers` and `drctl_replication_up`, each covered by its own
        labels when it could be told (a database with an unread copy may not be told: its error is listed).

        `lags` is this refresh's lag read (`replication_up` needs its value); None when it failed as a whole,
        then `drctl_replication_up` is not told."""
        ...


class AwsSources:
    """Sources that read AWS through the one client factory."""

    def __init__(self, topology: Topology, clients: ClientFactory, clock: Clock, window_seconds: float) -> None:
        self._topology = topology
        self._clients = clients
        self._clock = clock
        self._window = window_seconds
        self._health = self._new_health_memo()
        self._listings = self._new_listings()
        self._directions: dict[str, Direction] = {}

    def _new_health_memo(self) -> HealthMemo:
        owners: dict[str, list[str]] = {}
        for owner, _, hc_id in health_checks(self._topology, arc=True):
            owners.setdefault(owner, []).append(hc_id)
        return HealthMemo(self._clients, self._clock, owners)

    def _new_listings(self) -> RdsListings:
        """RDS listings of one refresh: readiness of every side and the writers read each listing once."""
        from dr.aws.rds_listing import RdsListings

        return RdsListings(self._topology, self._clients)

    def begin_refresh(self) -> None:
        self._health = self._new_health_memo()
        self._listings = self._new_listings()
        self._directions = {}

    def lags(self) -> dict[str, LagSample | None]:
        """The copies from this refresh's RDS listings give the direction; then one batched lag read."""
        from dr.checks.lag import read_lag_targets
        from dr.checks.writers import read_copies
        from dr.metrics._direction import direction_of

        directions = {found.db.name: direction_of(found)
                      for found in read_copies(self._topology, self._clients, listings=self._listings)}
        self._directions = directions
        targets = [d.target for d in directions.values() if d.target is not None]
        samples = read_lag_targets(targets, self._clients, self._clock, self._window)
        return {name: samples.get(name) if d.target is not None else None
                for name, d in directions.items() if d.known}

    def readiness(self, lags: Mapping[str, LagSample] | None = None) -> Reading:
        from dr.checks.readiness import readiness

        reader = self._reuse(lags) if lags is not None else None
        values: dict[Labels, float] = {}
        covered: set[Labels] = set()
        errors: list[str] = []
        for env in readiness_envs(self._topology):
            try:
                results = readiness(self._topology, self._clients, self._clock, env, lag_reader=reader,
                                    health_reader=self._health, listings=self._listings)
            except Exception as err:
                errors.append(_failure(f"readiness of {env}", err))
                continue
            covered.add((env,))
            errors.extend(unread_checks(env, results))
            for result in results:
                key = (env, str(result.check))
                values[key] = min(values.get(key, 1.0), 1.0 if result.ok else 0.0)
        return Reading(values, frozenset(covered), tuple(errors))

    def _reuse(self, fresh: Mapping[str, LagSample]) -> Callable[[list[LagTarget]], dict[str, LagSample]]:
        """A lag reader answering from `fresh` for the targets this refresh read, reading the rest."""
        from dr.checks.lag import read_lag_targets

        read_now = {name: d.target for name, d in self._directions.items() if d.target is not None}

        def read(targets: list[LagTarget]) -> dict[str, LagSample]:
            known = {t.database: fresh[t.database] for t in targets
                     if t.database in fresh and read_now.get(t.database) == t}
            missing = [t for t in targets if t.database not in known]
            if missing:
                known.update(read_lag_targets(missing, self._clients, self._clock, self._window))
            return known

        return read

    def health(self) -> Reading:
        """One batched read per owning account; an unreadable check is an error, never a made-up 0."""
        from dr.aws.route53 import HealthSource

        values: dict[Labels, float] = {}
        errors: list[str] = []
        owners: dict[str, list[tuple[str, str]]] = {}
        for owner, env, hc_id in health_checks(self._topology):
            owners.setdefault(owner, []).append((env, hc_id))
        for owner, checks in owners.items():
            try:
                statuses = self._health(owner, [hc for _, hc in checks])
            except Exception as err:
                errors.extend(_failure(f"health check {hc_id}", err) for _, hc_id in checks)
                continue
            for env, hc_id in checks:
                status = statuses[hc_id]
                if status.via is HealthSource.ERROR:
                    errors.append(_failure_text(f"health check {hc_id}", status.detail))
                else:
                    values[(env, hc_id)] = 1.0 if status.healthy else 0.0
        return Reading(values, frozenset(values), tuple(errors))

    def dns(self) -> Reading:
        """Which side each record serves: one listing per hosted zone, health from this refresh's read."""
        from dr.aws.route53 import ZoneListing, read_record

        values: dict[Labels, float] = {}
        covered: set[Labels] = set()
        errors: list[str] = []
        listing = ZoneListing()
        for record in self._topology.dns:
            def healthy(hc_id: str, owner: str = record.env) -> bool:
                return self._health(owner, [hc_id])[hc_id].healthy

            try:
                side = read_record(self._clients, self._topology, record, healthy=healthy, listing=listing).side
            except Exception as err:
                errors.append(_failure(f"record {record.fqdn}", err))
                continue
            covered.add((record.fqdn,))
            for env in record.targets:
                values[(record.fqdn, env)] = 1.0 if env == side else 0.0
        return Reading(values, frozenset(covered), tuple(errors))


    def writers(self, lags: Mapping[str, LagSample | None] | None = None) -> Reading:
        """Every copy of every database from this refresh's RDS listings (one per account, region and kind);
        replication up from the direction the lag read found (`dr.metrics._direction.replication_up`)."""
        from dr.aws.errors import describe
        from dr.checks.writers import read_copies, writer_count
        from dr.metrics import names
        from dr.metrics._direction import direction_of, replication_up

        values: dict[Labels, float] = {}
        errors: dict[tuple[str, str], str] = {}
        for found in read_copies(self._topology, self._clients, listings=self._listings):
            for copy in found.unread():
                where = f"{copy.loc.env}/{copy.region}"
                errors.setdefault((where, describe(copy.error or RuntimeError("not read"))), copy.loc.id)
            count = writer_count(found.lineage)
            if count is not None:
                values[(names.WRITERS.name, found.db.name)] = float(count)
            direction = self._directions.get(found.db.name) or direction_of(found)
            up = replication_up(direction, lags.get(found.db.name)) if lags is not None else None
            if up is not None:
                values[(names.REPLICATION_UP.name, found.db.name)] = up
        failures = tuple(_failure_text(f"RDS copies in {where} (e.g. {copy_id})", reason)
                         for (where, reason), copy_id in errors.items())
        return Reading(values, frozenset(values), failures)


def readiness_envs(topology: Topology) -> list[str]:
    """Environments whose readiness matters: both sides of every DR pair and those with readiness resources."""
    envs = set(topology.readiness)
    for name, env in topology.environments.items():
        if env.dr_for:
            envs.update({name, env.dr_for})
    return sorted(e for e in envs if e in topology.environments)


def health_checks(topology: Topology, *, arc: bool = False) -> list[tuple[str, str, str]]:
    """(owning env, side env, health-check id) of every record, without duplicates, in file order. Not those of
    arc-routing-control records unless `arc` (the refresh's one batched read covers them, for the DNS source's
    answers): their RECOVERY_CONTROL checks follow the routing controls (the DR side's is unhealthy by design
    until a move), so they are not exported as health, and `drctl_active_site_info` says which side they serve."""
    seen: dict[tuple[str, str], str] = {}
    for record in topology.dns:
        if record.arc is not None and not arc:
            continue
        for side, hc_id in record.health_checks.items():
            seen.setdefault((side, hc_id), record.env)
    return [(owner, side, hc_id) for (side, hc_id), owner in seen.items()]


def _failure(what: str, err: Exception) -> str:
    from dr.aws.errors import describe

    return _failure_text(what, describe(err))


def _failure_text(what: str, reason: str) -> str:
    """One failed read, in words; the refresher logs one line per failing source per refresh, not each."""
    return f"{what}: {reason}"


READ_FAILURES = ("could not ", "check failed unexpectedly")
"""How drctl's readiness checks begin the reason of a check that failed because AWS could not be read."""


def unread_checks(env: str, results: list[CheckResult]) -> list[str]:
    """The readiness results of `env` that failed on a read of AWS, not on what AWS said."""
    return [f"readiness of {env}, {r.check} {r.resource}: {r.reason}" for r in results
            if not r.ok and r.reason.startswith(READ_FAILURES)]


class HealthMemo:
    """Health-check statuses of one refresh: the first question about an account reads all of that account's
    checks in one batch; the refresh's other sources (health, readiness of every side, active site) reuse it."""

    def __init__(self, clients: ClientFactory, clock: Clock, owners: Mapping[str, list[str]]) -> None:
        self._clients = clients
        self._clock = clock
        self._owners = owners
        self._known: dict[str, dict[str, HealthStatus]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def __call__(self, owner: str, ids: list[str]) -> dict[str, HealthStatus]:
        from dr.aws.route53 import read_health_checks

        with self._guard:
            lock = self._locks.setdefault(owner, threading.Lock())
        with lock:  # a second reader of the same account waits for the first one's answer
            known = self._known.setdefault(owner, {})
            missing = [hc for hc in ids if hc not in known]
            if missing:
                wanted = list(dict.fromkeys([*missing, *self._owners.get(owner, [])]))
                known.update(read_health_checks(self._clients, owner, [hc for hc in wanted if hc not in known],
                                                self._clock))
            return {hc: known[hc] for hc in ids}
