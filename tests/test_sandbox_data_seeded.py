"""The data model on the seeded example topology (the `sandbox` fixture of dr.testing)."""

from __future__ import annotations

import pytest

from dr.clock import FakeClock
from dr.testing import InProcessSandbox
from dr.testing.data import concurrent_writer_ticks, copy, current_writer, family_of, lost_writes


class TestSeededSandbox:
    @pytest.fixture
    def sandbox_clock(self, fake_clock: FakeClock) -> FakeClock:
        return fake_clock

    def test_every_seeded_database_is_one_family_with_one_writer(
        self, sandbox: InProcessSandbox, fake_clock: FakeClock
    ) -> None:
        """On the seeded example each database's primary takes the load; its replica follows; nothing is lost."""
        sandbox.control.start_writes(1.0)
        fake_clock.advance(30)
        report = sandbox.control.data_report()
        for db in sandbox.topology.databases:
            family = family_of(report, db.primary.id)
            assert family_of(report, db.replica.id) == family
            assert current_writer(report, family)["identifier"] == db.primary.id  # type: ignore[index]
            assert copy(report, db.primary.id)["acknowledged_writes"] == 31
            assert copy(report, db.replica.id)["applied"]["seq"] == 29  # the seed's 2 s of lag
            assert (lost_writes(report, family), concurrent_writer_ticks(report, family)) == (0, 0)
