"""The drill report, findings, Markdown, history and trend: pure functions over report documents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from drill_support import drctl

from dr.drill import history
from dr.drill.findings import findings
from dr.drill.markdown import render
from dr.drill.report import DrillFacts, achieved_rto, build, lag_rpo
from dr.drill.tags import clone_id

GROUPS = (("prechecks",), ("drill-promote:",), ("drill-dns:",))


def step(name: str, duration: float, budget: float = 60.0, status: str = "succeeded",
         started: str = "2026-01-01T00:00:01.000Z") -> dict[str, Any]:
    return {"name": name, "resource": "r", "status": status, "started_at": started, "duration_seconds": duration,
            "budget_seconds": budget, "attempts": 1, "detail": "d"}


def run_report(steps: list[dict[str, Any]], status: str = "succeeded", rto: float = 900.0) -> dict[str, Any]:
    return {"run_id": "r1", "runbook": "drill", "source": "prod", "target": "qa", "mode": "drill", "status": status,
            "started_at": "2026-01-01T00:00:00.000Z", "finished_at": "2026-01-01T00:01:00.000Z",
            "clock_started_at": "2026-01-01T00:00:00.000Z", "duration_seconds": 60.0,
            "rto": {"target_seconds": rto, "elapsed_seconds": 60.0, "met": True},
            "rpo": {"target_seconds": 300.0, "data_loss_window_seconds": None, "met": None, "per_database": {}},
            "steps": steps, "journal": "j", "next_action": "none"}


LAGS = {"drill.lag.orders": {"seconds": 4.0}, "drill.lag.payments": {"seconds": 1.0}}


class TestAchievedRto:
    def test_parallel_steps_count_by_the_slowest_and_groups_add_up(self) -> None:
        """RTO = prechecks + slowest promotion + slowest DNS step; clone creation and cleanup do not count."""
        steps = [step("prechecks", 2), step("drill-clone:a", 500), step("drill-promote:a", 30),
                 step("drill-promote:b", 45), step("drill-dns:Z1", 10), step("drill-delete:a", 100)]
        assert achieved_rto(steps, GROUPS) == 57.0

    def test_a_failed_critical_step_leaves_the_rto_unmeasured(self) -> None:
        """A promotion that failed means no RTO was demonstrated (None, not a made-up number)."""
        steps = [step("prechecks", 2), step("drill-promote:a", 30, status="failed")]
        assert achieved_rto(steps, GROUPS) is None


class TestRpo:
    def test_rpo_is_the_largest_lag_at_start(self) -> None:
        """The achieved RPO is the worst database's lag; met when within the target."""
        rpo = lag_rpo(LAGS, 300.0)
        assert (rpo["data_loss_window_seconds"], rpo["met"], rpo["unknown"]) == (4.0, True, [])

    def test_broken_replication_counts_as_unknown_and_fails(self) -> None:
        """Lag -1 (replication broken) is unknown, never zero: the RPO is not met."""
        rpo = lag_rpo({**LAGS, "drill.lag.orders": {"seconds": -1.0}}, 300.0)
        assert (rpo["met"], rpo["unknown"]) == (False, ["orders"])


class TestDrillVerdict:
    def test_missed_rto_turns_a_successful_run_into_a_failed_drill(self) -> None:
        """All steps succeeded but the RTO target is below the achieved RTO: status failed, finding first."""
        report = build(run_report([step("prechecks", 2), step("drill-promote:a", 30)], rto=10.0), LAGS,
                       DrillFacts(mode="clone"), GROUPS)
        assert report["status"] == "failed"
        assert report["drill"]["run_status"] == "succeeded"
        assert report["rto"] == {**report["rto"], "elapsed_seconds": 32.0, "met": False}
        assert report["drill"]["findings"][0]["kind"] == "rto-missed"

    def test_cleanup_errors_fail_the_drill(self) -> None:
        """Resources left behind make the drill fail and say how to remove them."""
        facts = DrillFacts(mode="clone", cleanup={"when": "in run", "deleted": [], "errors": ["db x: denied"]})
        report = build(run_report([step("prechecks", 1)]), LAGS, facts, GROUPS)
        assert report["status"] == "failed"
        assert any("drctl drill cleanup" in f["fix"] for f in report["drill"]["findings"])

    def test_refused_run_stays_refused(self) -> None:
        """A drill refused by a gate (exit 3) is reported as refused, with RTO not measured."""
        report = build(run_report([step("prechecks", 1, status="failed")], status="refused"), LAGS,
                       DrillFacts(mode="clone"), GROUPS)
        assert report["status"] == "refused"
        assert report["rto"]["met"] is None


class TestFindings:
    def test_slow_over_budget_and_failed_steps_are_reported_critical_first(self) -> None:
        """Over budget and failed are critical, above 80 % of budget a warning; critical ones come first."""
        report = run_report([step("a", 50, 60), step("b", 70, 60), step("c", 1, status="failed")])
        report["rpo"]["met"] = True
        kinds = [(f.severity, f.kind, f.subject) for f in findings(report, [], None)]
        assert kinds == [("critical", "over-budget", "b"), ("critical", "step-failed", "c"), ("warning", "slow", "a")]


class TestMarkdown:
    def test_markdown_has_result_objectives_steps_timeline_and_findings(self) -> None:
        """The rendered page states the result, both objectives, each step vs budget and the timeline."""
        report = build(run_report([step("prechecks", 2), step("drill-promote:a", 30, budget=20)]), LAGS,
                       DrillFacts(mode="clone", dns_not_exercised=["www.example.com."]), GROUPS)
        page = render(report)
        assert page.startswith("# DR drill r1\n")
        assert "**RTO:** achieved 32.0 s vs target 900.0 s: met" in page
        assert "**RPO:** achieved 4.0 s vs target 300.0 s: met" in page
        assert "| drill-promote:a | r | ok | 30.0 s | 20 s | 150% | d |" in page
        assert "over its 20 s budget" in page
        assert "DNS not exercised for www.example.com." in page


def saved_report(state: Path, run_id: str, started: str, rto: float | None, status: str = "succeeded") -> None:
    report = run_report([], status=status)
    report.update(run_id=run_id, started_at=started)
    report["rto"] = {"target_seconds": 900.0, "elapsed_seconds": rto, "met": None if rto is None else rto <= 900}
    report["rpo"] = {"target_seconds": 300.0, "data_loss_window_seconds": 3.0, "met": True}
    report["drill"] = {"mode": "clone"}
    history.save(report, render_stub(run_id), state)


def render_stub(run_id: str) -> str:
    return f"# DR drill {run_id}\n"


class TestHistory:
    def test_history_lists_drills_oldest_first_with_change_against_the_previous(self, tmp_path: Path) -> None:
        """Each drill's RTO is compared with the previous measured drill of the same target and mode."""
        saved_report(tmp_path, "d2", "2026-01-08T00:00:00.000Z", 120.0)
        saved_report(tmp_path, "d1", "2026-01-01T00:00:00.000Z", 100.0)
        saved_report(tmp_path, "d3", "2026-01-15T00:00:00.000Z", None, status="failed")
        saved_report(tmp_path, "d4", "2026-01-22T00:00:00.000Z", 60.0)
        reports, unreadable = history.load_all(tmp_path)
        rows = history.rows(reports)
        assert [(r.run_id, r.rto_change) for r in rows] == [("d1", "first"), ("d2", "worse"), ("d3", "n/a"),
                                                             ("d4", "better")]
        assert unreadable == []
        assert history.trend(rows) == "improving"

    def test_unreadable_reports_are_skipped_and_named(self, tmp_path: Path) -> None:
        """A corrupt saved report does not hide the others; its path is returned."""
        saved_report(tmp_path, "d1", "2026-01-01T00:00:00.000Z", 100.0)
        bad = history.drills_dir(tmp_path) / "broken" / history.REPORT_JSON
        bad.parent.mkdir(parents=True)
        bad.write_text("{not json")
        reports, unreadable = history.load_all(tmp_path)
        assert [r["run_id"] for r in reports] == ["d1"]
        assert unreadable == [str(bad)]

    def test_history_command_prints_a_table_and_json(self, tmp_path: Path, monkeypatch: Any) -> None:
        """`drctl drill history` shows each drill's RTO/RPO vs target; -o json adds the trend."""
        state = tmp_path / "state"
        monkeypatch.setenv("DRCTL_STATE_DIR", str(state))
        saved_report(state, "d1", "2026-01-01T00:00:00.000Z", 100.0)
        saved_report(state, "d2", "2026-01-08T00:00:00.000Z", 150.0)
        text = drctl("drill", "history")
        assert text.exit_code == 0
        assert "d2" in text.stdout
        assert "150.0s (900) met" in text.stdout
        assert "trend of achieved RTO: worsening" in text.stdout
        document = json.loads(drctl("drill", "history", "-o", "json").stdout)
        assert [d["run_id"] for d in document["drills"]] == ["d1", "d2"]
        assert document["trend"] == "worsening"

    def test_no_drills_yet_says_so(self, tmp_path: Path, monkeypatch: Any) -> None:
        """An empty history is a clear sentence, exit 0."""
        monkeypatch.setenv("DRCTL_STATE_DIR", str(tmp_path / "empty"))
        result = drctl("drill", "history")
        assert result.exit_code == 0
        assert "no drills recorded yet" in result.stdout


class TestCloneIds:
    def test_clone_ids_are_valid_rds_identifiers_and_deterministic(self) -> None:
        """Letters first, no double or trailing hyphen, at most 63 characters, the same for the same run."""
        ident = clone_id("Orders_DB.v2" * 8, "20261126T124409Z-drill-qa-3fc9")
        assert ident == clone_id("Orders_DB.v2" * 8, "20261126T124409Z-drill-qa-3fc9")
        assert len(ident) <= 63
        assert ident[0].isalpha()
        assert "--" not in ident
        assert not ident.endswith("-")
        assert ident.endswith("drill-qa-3fc9")
