"""The data-loss window the RPO gate records per database: what a promotion may lose, never a made-up zero."""

from __future__ import annotations

import pytest

from dr.aws.factory import ClientFactory
from dr.checks.lag import LagSample
from dr.clock import FakeClock
from dr.config import Topology, load
from dr.engine.step import RunContext, RunOptions
from runbooks.steps._common import FACT_PLANNED, FACT_SOURCE_REACHABLE, Move, moves
from runbooks.steps.rpo_gate import loss_window, verdict
from tests.conftest import EXAMPLE


@pytest.fixture
def topology() -> Topology:
    return load(EXAMPLE)


def context(topology: Topology, *, planned: bool, reachable: bool) -> RunContext:
    ctx = RunContext(topology=topology, clients=ClientFactory(topology), clock=FakeClock(), run_id="t",
                     runbook="failover", source="prod", target="qa", options=RunOptions())
    ctx.facts.update({FACT_PLANNED: planned, FACT_SOURCE_REACHABLE: reachable})
    return ctx


def move(ctx: RunContext, name: str) -> Move:
    return next(m for m in moves(ctx) if m.db.name == name)


def sample(seconds: float | None, age: float | None = 30.0) -> LagSample:
    return LagSample("orders", "eu-central-1", "eu-west-1", seconds, age)


class TestLossWindow:
    def test_planned_gate_records_the_lag_only_until_catch_up_measures_it(self, topology: Topology) -> None:
        """Planned, source reachable: the gate records the lag provisionally; the catch-up step replaces it with
        what it measured (0 once caught up: test_switch_safety). This test once pinned the lag as a planned move's
        final window, which it was only because drctl promoted with the source still taking writes."""
        ctx = context(topology, planned=True, reachable=True)
        assert loss_window(ctx, move(ctx, "orders"), sample(12.0)) == 12.0

    def test_unreachable_source_adds_the_age_of_the_datapoint(self, topology: Topology) -> None:
        """Source unreachable: writes may have gone on after the last datapoint, so lag + its age."""
        ctx = context(topology, planned=False, reachable=False)
        assert loss_window(ctx, move(ctx, "orders"), sample(12.0, 45.0)) == 57.0

    def test_aurora_global_switchover_loses_nothing(self, topology: Topology) -> None:
        """A planned switchover waits for the secondary to catch up: 0."""
        ctx = context(topology, planned=True, reachable=True)
        assert loss_window(ctx, move(ctx, "payments"), sample(3.0)) == 0.0

    @pytest.mark.parametrize("seconds", [-1.0, None])
    def test_broken_or_missing_lag_is_unknown(self, topology: Topology, seconds: float | None) -> None:
        """Lag -1 or no datapoint: unknown (None), never 0."""
        ctx = context(topology, planned=False, reachable=False)
        assert loss_window(ctx, move(ctx, "orders"), sample(seconds)) is None


class TestGateBoundary:
    @pytest.mark.parametrize(("lag", "age", "ok"), [(240.0, 59.0, True), (240.0, 60.0, True), (240.0, 61.0, False)])
    def test_unplanned_window_equal_to_the_rpo_passes_one_second_more_fails(
            self, topology: Topology, lag: float, age: float, ok: bool) -> None:
        """Unplanned: lag + age of the datapoint = the RPO passes (within it); one second more is refused."""
        ctx = context(topology, planned=False, reachable=False)
        passed, reason = verdict(ctx, move(ctx, "orders"), sample(lag, age), 300.0)
        assert passed is ok
        assert reason.endswith("<= RPO 300 s" if ok else "> RPO 300 s")

    @pytest.mark.parametrize(("lag", "ok"), [(300.0, True), (301.0, False)])
    def test_planned_lag_equal_to_the_rpo_passes(self, topology: Topology, lag: float, ok: bool) -> None:
        """Planned, source reachable: the lag itself is gated; equal to the RPO passes, one second more fails."""
        ctx = context(topology, planned=True, reachable=True)
        assert verdict(ctx, move(ctx, "orders"), sample(lag), 300.0)[0] is ok
