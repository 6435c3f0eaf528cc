"""Switch safety as properties of the data, with applications writing to every copy they can reach.

The sandbox models writes (dr.sandbox.data): a load writes to every copy that accepts writes, replicas apply
them with their lag, a promotion forks a branch. The tests read what was acknowledged and what survived.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dr.config import load
from dr.testing.data import concurrent_writer_ticks, family_of, loss_window_seconds, lost_writes
from tests.conftest import EXAMPLE
from tests.failover_support import Harness, harness, instance

PLAIN = {"orders": "orders-db", "customers": "customers-db", "inventory": "inventory-cluster"}
ALL = {**PLAIN, "payments": "payments-cluster"}


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    with harness(tmp_path, load(EXAMPLE)) as built:
        built.sbx.control.start_writes(0.5)
        yield built


def families(h: Harness) -> dict[str, str]:
    report = h.sbx.control.data_report()
    return {name: family_of(report, ident, "eu-central-1") for name, ident in ALL.items()}


def lost(h: Harness, fams: dict[str, str]) -> dict[str, int]:
    report = h.sbx.control.data_report()
    return {name: lost_writes(report, fam) for name, fam in fams.items()}


def concurrent(h: Harness, fams: dict[str, str]) -> dict[str, int]:
    report = h.sbx.control.data_report()
    return {name: concurrent_writer_ticks(report, fam) for name, fam in fams.items()}


class TestPlannedMovesKeepEveryWrite:
    def test_three_cycles_of_failover_and_failback_lose_nothing_and_never_have_two_writers(self, h: Harness) -> None:
        """failover -> failback, three times, writes flowing: no acknowledged write lost, never two copies of a
        database taking writes, and after each cycle every writer has automated backups and every DR copy
        replicates from it."""
        fams = families(h)
        for cycle in range(3):
            for runbook, target in (("failover", "qa"), ("failback", "prod")):
                outcome = h.run(runbook, target, run_id=f"{runbook}-{cycle}")
                assert outcome.exit_code == 0, (cycle, runbook, outcome.report)
                assert outcome.report["rpo"]["data_loss_window_seconds"] == 0.0
                h.clock.advance(30.0)  # applications keep writing to the new writer
                assert lost(h, fams) == dict.fromkeys(ALL, 0), (cycle, runbook)
                assert concurrent(h, fams) == dict.fromkeys(ALL, 0), (cycle, runbook)
            for name, ident in (("orders", "orders-db"), ("customers", "customers-db")):
                writer = instance(h, "eu-central-1", ident)
                replica = instance(h, "eu-west-1", f"{ident}-euw1")
                assert writer is not None, name
                assert replica is not None, name
                assert writer["BackupRetentionPeriod"] > 0
                assert replica["ReadReplicaSourceDBInstanceIdentifier"] == writer["DBInstanceArn"]
        report = h.sbx.control.data_report()
        assert all(report_family["lost_writes"] == 0 for report_family in report["families"])


class TestUnplannedMoveLosesWhatItReports:
    def test_loss_is_within_the_reported_window_and_fencing_ends_the_split_brain(self, h: Harness) -> None:
        """Region down: the unplanned failover (loss accepted) loses writes, never more than the report's window;
        when the region returns its old primaries take writes again (two writers) until `drctl fence`."""
        fams = families(h)
        h.clock.advance(20.0)
        h.sbx.control.set_outage("eu-central-1", True)
        h.faults.outage_regions.add("eu-central-1")
        outcome = h.run("failover", "qa", run_id="outage", accept_data_loss=True)
        assert outcome.exit_code == 0, outcome.report
        report = h.sbx.control.data_report()
        windows = outcome.report["rpo"]["per_database"]
        for name in ("orders", "customers"):  # PostgreSQL: lag keeps growing, the window is known
            assert lost_writes(report, fams[name]) > 0
            assert loss_window_seconds(report, fams[name]) <= windows[name]
        assert concurrent(h, fams) == dict.fromkeys(ALL, 0)
        h.sbx.control.set_outage("eu-central-1", False)
        h.faults.outage_regions.clear()
        h.clock.advance(10.0)
        assert concurrent(h, fams)["orders"] > 0  # the unfenced old primary writes again: split brain
        fenced = h.run("fence", "prod", run_id="fence")
        assert fenced.exit_code == 0, fenced.report
        before = concurrent(h, fams)
        h.clock.advance(30.0)
        assert concurrent(h, fams) == before  # fenced: one writer again
