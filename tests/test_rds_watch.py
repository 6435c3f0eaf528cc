"""The promotion steps' shared RDS listing: one describe per account, region and kind for any number of
concurrent askers, re-read only when older than its max age, and the same answers as a describe by id; a
scoped watch lists only the databases it still watches."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

from dr.aws.factory import ClientFactory
from dr.aws.faults import Faults
from dr.aws.rds import describe_member
from dr.clock import FakeClock
from dr.config.model import DbLocation
from dr.engine.step import RunContext, RunOptions
from dr.testing import InProcessSandbox
from runbooks.steps.rds_watch import RdsWatch

RDS_READS = ("DescribeDBInstances", "DescribeDBClusters", "DescribeGlobalClusters")


def context(sandbox: InProcessSandbox, faults: Faults, clock: FakeClock) -> RunContext:
    clients = ClientFactory(sandbox.topology, run_id="watch", faults=faults)
    return RunContext(topology=sandbox.topology, clients=clients, clock=clock, run_id="watch", runbook="failover",
                      source="prod", target="qa", options=RunOptions(yes=True))


def in_threads(ask: Callable[[], object], count: int) -> list[BaseException]:
    """`ask` from `count` threads at once; what each raised (none: an empty list)."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            ask()
        except BaseException as exc:  # returned to the test
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def reads(faults: Faults) -> dict[str, int]:
    return {op: faults.count("rds", op) for op in RDS_READS}


class TestRdsWatch:
    def test_concurrent_askers_share_one_listing_per_kind_and_see_what_describe_sees(
            self, sandbox: InProcessSandbox) -> None:
        """Every replica asked 4 times from 4 threads at one instant: one describe per kind, answers as by id."""
        faults, clock = Faults(), FakeClock(datetime.now(UTC))
        ctx, watch = context(sandbox, faults, clock), RdsWatch()
        dbs = sandbox.topology.databases
        answers: dict[str, object] = {}

        def ask() -> None:
            for db in dbs:
                answers[db.name] = watch.member(ctx, db, db.replica)

        assert in_threads(ask, 4) == []
        assert reads(faults) == {"DescribeDBInstances": 1, "DescribeDBClusters": 1, "DescribeGlobalClusters": 1}
        for db in dbs:
            assert answers[db.name] == describe_member(sandbox.clients, sandbox.topology, db, db.replica), db.name

    def test_members_reads_the_listings_side_by_side_and_answers_as_member(
            self, sandbox: InProcessSandbox) -> None:
        """`members` for every replica: one describe per kind, the three at once (each blocks until all three
        are in flight, which fails if they are read one after another), answers as `member` gives them."""
        faults, clock = Faults(), FakeClock(datetime.now(UTC))
        ctx, watch = context(sandbox, faults, clock), RdsWatch()
        together = threading.Barrier(3, timeout=5)
        faults.on_call = lambda service, operation, region: together.wait() if service == "rds" else None
        dbs = sandbox.topology.databases
        views = watch.members(ctx, [(db, db.replica) for db in dbs])
        faults.on_call = None
        assert reads(faults) == {"DescribeDBInstances": 1, "DescribeDBClusters": 1, "DescribeGlobalClusters": 1}
        assert views == [watch.member(ctx, db, db.replica) for db in dbs]

    def test_a_listing_older_than_max_age_is_read_again(self, sandbox: InProcessSandbox) -> None:
        """Within max_age the listing serves; past it the next ask reads AWS again and sees the change."""
        faults, clock = Faults(), FakeClock(datetime.now(UTC))
        ctx, watch = context(sandbox, faults, clock), RdsWatch(max_age=0.25)
        db = next(d for d in sandbox.topology.databases if str(d.engine) == "rds-instance")
        assert watch.instance(ctx, db.replica).status == "available"
        sandbox.clients.client("rds", "prod", "eu-west-1").promote_read_replica(DBInstanceIdentifier=db.replica.id)
        clock.advance(0.2)
        assert watch.instance(ctx, db.replica).source_arn is not None  # served from the listing, still a replica
        clock.advance(0.1)
        fresh = watch.instance(ctx, db.replica)
        assert fresh.source_arn is None
        assert faults.count("rds", "DescribeDBInstances") == 2

    def test_a_slow_listing_serves_twice_as_long_as_it_took(self, sandbox: InProcessSandbox) -> None:
        """A listing that took 0.4 s (a busy API, many databases) is not re-read 0.25 s later, only after 0.8 s:
        polls never keep the API busy more than half of the time."""
        faults, clock = Faults(), FakeClock(datetime.now(UTC))
        ctx, watch = context(sandbox, faults, clock), RdsWatch(max_age=0.25)
        faults.on_call = lambda service, operation, region: clock.advance(0.4) if service == "rds" else None
        db = next(d for d in sandbox.topology.databases if str(d.engine) == "rds-instance")
        watch.instance(ctx, db.replica)
        faults.on_call = None
        clock.advance(0.3)  # 0.7 s after the read began
        watch.instance(ctx, db.replica)
        assert faults.count("rds", "DescribeDBInstances") == 1
        clock.advance(0.2)  # 0.9 s
        watch.instance(ctx, db.replica)
        assert faults.count("rds", "DescribeDBInstances") == 2

    def test_a_database_missing_from_the_listing_does_not_exist(self, sandbox: InProcessSandbox) -> None:
        faults, clock = Faults(), FakeClock(datetime.now(UTC))
        ctx, watch = context(sandbox, faults, clock), RdsWatch()
        db = sandbox.topology.databases[0]
        gone = DbLocation(env=db.replica.env, region=db.replica.region, id="no-such-db")
        found = watch.member(ctx, db, gone)
        assert not found.exists
        assert found.id == "no-such-db"

    def test_one_caller_looks_up_many_members_in_listings_read_once_since_it_asked(
            self, sandbox: InProcessSandbox) -> None:
        """The RPO gate's pattern: lookups passing the moment they began share one listing per kind, however
        long the listings took (a slow listing must not make every later lookup read again)."""
        faults, clock = Faults(), FakeClock(datetime.now(UTC))
        ctx, watch = context(sandbox, faults, clock), RdsWatch(max_age=0.25)
        asked_at = clock.monotonic()
        for db in sandbox.topology.databases:
            clock.advance(1.0)  # each lookup "takes" longer than max_age
            assert watch.member(ctx, db, db.replica, asked_at).exists
        assert reads(faults) == {"DescribeDBInstances": 1, "DescribeDBClusters": 1, "DescribeGlobalClusters": 1}


def filtered_ids(ctx: RunContext, region: str) -> list[list[str] | None]:
    """Records the identifiers each DescribeDBInstances / DescribeDBClusters in `region` was filtered to (None:
    unfiltered), from the requests drctl's clients send."""
    seen: list[list[str] | None] = []

    def record(params: dict[str, object], **_: object) -> None:
        filters = params.get("Filters") or []
        seen.append(next((list(f["Values"]) for f in filters if f["Name"] in ("db-instance-id", "db-cluster-id")),
                         None) if isinstance(filters, list) else None)

    client = ctx.clients.client("rds", "prod", region)
    for operation in ("DescribeDBInstances", "DescribeDBClusters"):
        client.meta.events.register(f"provide-client-params.rds.{operation}", record)
    return seen


class TestScopedRdsWatch:
    """A run's shared watch, scoped to its promotions: listings name the databases still being watched."""

    def test_listings_name_only_the_scope_and_answer_as_describe(self, sandbox: InProcessSandbox) -> None:
        faults, clock = Faults(), FakeClock(datetime.now(UTC))
        ctx = context(sandbox, faults, clock)
        dbs = [d for d in sandbox.topology.databases if str(d.engine) in ("rds-instance", "aurora-cluster")]
        watch = RdsWatch(scope=[(db, db.replica) for db in dbs])
        seen = filtered_ids(ctx, "eu-west-1")
        views = watch.members(ctx, [(db, db.replica) for db in dbs])
        assert sorted(v for values in seen for v in values or ["<everything>"]) == sorted(d.replica.id for d in dbs)
        for db, view in zip(dbs, views, strict=True):
            assert view == describe_member(sandbox.clients, sandbox.topology, db, db.replica), db.name

    def test_a_settled_database_is_left_out_and_comes_back_when_asked_for(self, sandbox: InProcessSandbox) -> None:
        faults, clock = Faults(), FakeClock(datetime.now(UTC))
        ctx = context(sandbox, faults, clock)
        dbs = [d for d in sandbox.topology.databases if str(d.engine) == "rds-instance"]
        assert len(dbs) >= 2, "the example topology has two rds-instance databases"
        first, second = dbs[0], dbs[1]
        watch = RdsWatch(max_age=0.25, scope=[(db, db.replica) for db in dbs])
        seen = filtered_ids(ctx, "eu-west-1")
        assert watch.instance(ctx, first.replica).exists
        watch.settle(first, first.replica)
        clock.advance(1.0)
        assert watch.instance(ctx, second.replica).exists
        assert seen[-1] == sorted(d.replica.id for d in dbs[1:])
        clock.advance(1.0)
        assert watch.instance(ctx, first.replica).exists  # asked again: back in the listing
        assert first.replica.id in (seen[-1] or [])

    def test_a_database_outside_the_scope_is_read_with_it(self, sandbox: InProcessSandbox) -> None:
        """Asking for a database the scope does not name reads a listing that includes it, at once (not when
        the listing happens to go stale): the answer is never a false 'does not exist'."""
        faults, clock = Faults(), FakeClock(datetime.now(UTC))
        ctx = context(sandbox, faults, clock)
        dbs = [d for d in sandbox.topology.databases if str(d.engine) == "rds-instance"]
        watch = RdsWatch(scope=[(dbs[0], dbs[0].replica)])
        assert watch.instance(ctx, dbs[0].replica).exists
        assert watch.instance(ctx, dbs[1].replica).exists
        assert faults.count("rds", "DescribeDBInstances") == 2
        assert watch.instance(ctx, dbs[1].replica).exists
        assert watch.instance(ctx, dbs[0].replica).exists
        assert faults.count("rds", "DescribeDBInstances") == 2

    def test_more_identifiers_than_a_page_are_asked_in_requests_of_a_hundred(
            self, sandbox: InProcessSandbox) -> None:
        faults, clock = Faults(), FakeClock(datetime.now(UTC))
        ctx = context(sandbox, faults, clock)
        db = next(d for d in sandbox.topology.databases if str(d.engine) == "rds-instance")
        absent = [(db, DbLocation(env=db.replica.env, region=db.replica.region, id=f"absent-{n:03d}"))
                  for n in range(150)]
        watch = RdsWatch(scope=[(db, db.replica), *absent])
        seen = filtered_ids(ctx, "eu-west-1")
        assert watch.instance(ctx, db.replica) == describe_member(sandbox.clients, sandbox.topology, db, db.replica)
        assert [len(values or []) for values in seen] == [100, 51]
        assert not watch.instance(ctx, absent[0][1]).exists

    def test_each_region_is_filtered_by_its_own_copies(self, sandbox: InProcessSandbox) -> None:
        """A watch scoped to both sides of the moves (the fences' watch) names only eu-west-1's copies in
        eu-west-1's listing and only eu-central-1's in eu-central-1's, though both live in prod's account."""
        faults, clock = Faults(), FakeClock(datetime.now(UTC))
        ctx = context(sandbox, faults, clock)
        dbs = [d for d in sandbox.topology.databases if str(d.engine) == "rds-instance"]
        watch = RdsWatch(scope=[(db, loc) for db in dbs for loc in (db.primary, db.replica)])
        west, central = filtered_ids(ctx, "eu-west-1"), filtered_ids(ctx, "eu-central-1")
        assert watch.instance(ctx, dbs[0].replica).exists
        assert watch.instance(ctx, dbs[0].primary).exists
        assert west == [sorted(d.replica.id for d in dbs)]
        assert central == [sorted(d.primary.id for d in dbs)]


class TestFreshness:
    """What a fence needs from the shared listing: a read begun after a moment, and one failure for all waiters."""

    def test_newer_than_reads_again_a_listing_begun_before_that_moment(self, sandbox: InProcessSandbox) -> None:
        """A listing 0.1 s old serves a plain ask, but not one that needs AWS's answer from after a rename made
        since: that ask reads again and sees the rename."""
        faults, clock = Faults(), FakeClock(datetime.now(UTC))
        ctx, watch = context(sandbox, faults, clock), RdsWatch(max_age=0.25)
        db = next(d for d in sandbox.topology.databases if str(d.engine) == "rds-instance")
        assert watch.instance(ctx, db.primary).exists
        clock.advance(0.05)
        sandbox.clients.client("rds", "prod", "eu-central-1").modify_db_instance(
            DBInstanceIdentifier=db.primary.id, NewDBInstanceIdentifier=f"{db.primary.id}-moved", ApplyImmediately=True)
        renamed_at = clock.monotonic()
        clock.advance(0.05)
        assert watch.instance(ctx, db.primary).exists  # the young listing still serves a plain ask
        assert not watch.instance(ctx, db.primary, newer_than=renamed_at).exists
        assert faults.count("rds", "DescribeDBInstances") == 2

    def test_askers_waiting_on_a_failed_read_share_its_error(self, sandbox: InProcessSandbox) -> None:
        """A region that does not answer: four steps asking at once make one call and all get its error (not
        one connect timeout after another); a later ask tries again."""
        faults, clock = Faults(), FakeClock(datetime.now(UTC))
        ctx, watch = context(sandbox, faults, clock), RdsWatch()
        faults.outage_regions.add("eu-central-1")
        db = next(d for d in sandbox.topology.databases if str(d.engine) == "rds-instance")
        errors = in_threads(lambda: watch.instance(ctx, db.primary), 4)
        assert len(errors) == 4
        assert faults.count("rds", "DescribeDBInstances") == 1
        faults.outage_regions.clear()
        clock.advance(1.0)
        assert watch.instance(ctx, db.primary).exists
        assert faults.count("rds", "DescribeDBInstances") == 2
