"""Prechecks read both sides of every move beside their other reads (`early_sides`), as `lineage_problems` would
read them after the verdict."""

from __future__ import annotations

from pathlib import Path

from runbooks.steps._common import FACT_SOURCE_REACHABLE, moves
from runbooks.steps.prechecks import early_sides, lineage_problems
from tests.failover_support import harness


class TestEarlySides:
    def test_both_sides_are_read_when_the_source_answers_and_only_the_new_one_when_not(self, tmp_path: Path) -> None:
        """Reachable: every move's side being left is read (it exists); unreachable: it is not read (None)."""
        with harness(tmp_path) as h:
            ctx = h.context("failover", "qa")
            both = early_sides(ctx, reachable=True)
            assert both is not None
            assert len(both) == len(moves(ctx))
            assert all(new.exists and old is not None and old.exists for new, old in both)
            alone = early_sides(ctx, reachable=False)
            assert alone is not None
            assert all(new.exists and old is None for new, old in alone)
            assert lineage_problems(ctx, both) == lineage_problems(ctx) == []

    def test_a_source_journaled_unreachable_is_read_after_the_verdict(self, tmp_path: Path) -> None:
        """An earlier run journaled the source unreachable and it answers now: nothing is read early (None), so
        the lineage is read once prechecks have journaled the new verdict, as before."""
        with harness(tmp_path) as h:
            ctx = h.context("failover", "qa")
            ctx.set_fact(FACT_SOURCE_REACHABLE, False)
            assert early_sides(ctx, reachable=True) is None
            assert early_sides(ctx, reachable=False) is not None
