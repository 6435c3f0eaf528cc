"""The failover's promotions read, tag and promote at most 16 at a time (runbooks/failover.py
`PROMOTIONS_ACTING_AT_ONCE`): 200 at once queued hundreds of calls behind RDS's empty request bucket and some gave up
after their retries (docs/benchmarks.md, 2026-12-06). Each still waits for AWS beside all the others."""

from __future__ import annotations

from pathlib import Path

from benchmarks.estate import EstateSize, build
from dr.engine.runbook import Parallel
from runbooks.failover import PROMOTIONS_ACTING_AT_ONCE, Failover
from tests.failover_support import harness, step


def test_promotions_act_sixteen_at_a_time_and_wait_all_at_once(tmp_path: Path) -> None:
    """Twenty promotions: all dispatched at once (no slot limit on waiting), the RDS family capped at 16 while acting;
    the run moves every database."""
    with harness(tmp_path, build(EstateSize(databases=20, records=2, zones=1, eks_clusters=1, ecs_services=1,
                                            asgs=1))) as h:
        ctx = h.context("failover", "qa")
        promote = next(p for p in Failover().phases(ctx) if isinstance(p, Parallel) and p.name == "promote")
        assert len(promote.steps) == 20
        assert promote.max_concurrency == 20
        assert dict(promote.family_limits)["rds"] == PROMOTIONS_ACTING_AT_ONCE == 16
        outcome = h.run("failover", "qa", planned=False)
        assert outcome.exit_code == 0, outcome.report
        assert all(step(outcome.report, s.name)["status"] == "succeeded" for s in promote.steps)
