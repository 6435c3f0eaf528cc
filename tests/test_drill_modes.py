"""Drill modes and objectives against a shared in-process sandbox: dry-run changes nothing, usage errors
touch nothing, a missed RPO or RTO fails the drill (exit 1) and withholds the last-success metric."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from drill_support import aws_state, drctl, drill_json, shared_sandbox, with_objectives

from dr.testing import InProcessSandbox

__all__ = ["shared_sandbox"]
ACCOUNT = "111111111111"


class TestDryRun:
    def test_dry_run_plans_the_failover_runs_read_only_checks_and_changes_nothing(
            self, shared_sandbox: InProcessSandbox, tmp_path: Path) -> None:
        """dry-run: read-only checks run, mutating steps are only planned, AWS is unchanged, no metrics."""
        box = shared_sandbox
        before = aws_state(box.topology, box.clients)
        metrics = tmp_path / "m.prom"
        result = drctl("drill", "--to", "qa", "--mode", "dry-run", "-c", str(box.config_path), "-o", "json",
                       "--metrics-file", str(metrics))
        report = drill_json(result)
        assert result.exit_code == 0, report["drill"]["findings"]
        assert report["mode"] == "dry-run"
        steps = {s["name"]: s["status"] for s in report["steps"]}
        assert steps["drill-rpo"] == "succeeded"
        assert steps["prechecks"] == "succeeded"
        assert steps["promote:orders"] == "planned"
        assert report["rto"]["met"] is None
        assert report["rpo"]["met"] is True
        assert aws_state(box.topology, box.clients) == before
        assert not metrics.exists()

    def test_dry_run_works_with_the_source_region_down(self, shared_sandbox: InProcessSandbox) -> None:
        """--simulate-outage applies to dry-run drills too: the plan is made without the source region."""
        result = drctl("drill", "--to", "qa", "--mode", "dry-run", "-c", str(shared_sandbox.config_path), "-o",
                       "json", "--simulate-outage", "eu-central-1")
        assert result.exit_code == 0
        assert "eu-central-1 unreachable" in next(
            s["detail"] for s in drill_json(result)["steps"] if s["name"] == "prechecks")


class TestUsage:
    @pytest.mark.parametrize("args", [
        ("drill",), ("drill", "--to", "nowhere"), ("drill", "--to", "qa", "--mode", "chaos"),
        ("drill", "--to", "qa", "--mode", "full"), ("drill", "--to", "qa", "--mode", "clone"),
    ], ids=["no-target", "unknown-env", "unknown-mode", "full-without-yes-or-tty", "clone-without-yes-or-tty"])
    def test_usage_errors_exit_2_and_touch_nothing(self, shared_sandbox: InProcessSandbox,
                                                   args: tuple[str, ...]) -> None:
        """A drill that cannot start exits 2 and changes nothing in AWS."""
        box = shared_sandbox
        before = aws_state(box.topology, box.clients)
        result = drctl(*args, "-c", str(box.config_path))
        assert result.exit_code == 2
        assert aws_state(box.topology, box.clients) == before


class TestGates:
    def test_target_not_ready_refuses_the_drill_with_exit_3_and_creates_nothing(
            self, shared_sandbox: InProcessSandbox) -> None:
        """An unhealthy DR health check: the prechecks refuse (exit 3) before any clone exists."""
        box = shared_sandbox
        hc = next(r for r in box.topology.dns if r.fqdn == "api.example.com.").health_checks["qa"]
        before = aws_state(box.topology, box.clients)
        box.control.set_health(hc, False)
        try:
            result = drctl("drill", "--to", "qa", "--yes", "-c", str(box.config_path), "-o", "json")
        finally:
            box.control.set_health(hc, True)
        report = drill_json(result)
        assert result.exit_code == 3
        assert report["status"] == "refused"
        assert not [s for s in report["steps"] if s["name"].startswith("drill-clone") and s["status"] == "succeeded"]
        assert aws_state(box.topology, box.clients) == before

    def test_full_drill_on_a_terminal_needs_the_target_typed(
            self, shared_sandbox: InProcessSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
        """On a TTY a full drill asks for the target's name; anything else declines (exit 3), nothing changed."""
        import dr.cli.run_options

        monkeypatch.setattr(dr.cli.run_options, "is_tty", lambda: True)
        box = shared_sandbox
        before = aws_state(box.topology, box.clients)
        result = drctl("drill", "--to", "qa", "--mode", "full", "-c", str(box.config_path), input="prod\n")
        assert result.exit_code == 3
        assert "Type 'qa' to proceed" in result.stderr
        assert aws_state(box.topology, box.clients) == before


@pytest.fixture
def lagging(shared_sandbox: InProcessSandbox) -> Iterator[InProcessSandbox]:
    """The orders replica lags 600 s (over the 300 s RPO) for the test; back to 2 s afterwards."""
    shared_sandbox.control.set_replica_lag(ACCOUNT, "eu-west-1", "rds-instance", "orders-db-euw1", 600.0)
    yield shared_sandbox
    shared_sandbox.control.set_replica_lag(ACCOUNT, "eu-west-1", "rds-instance", "orders-db-euw1", 2.0)


class TestObjectives:
    def test_lag_over_rpo_fails_the_drill_and_withholds_last_success(self, lagging: InProcessSandbox,
                                                                     tmp_path: Path) -> None:
        """Lag above the RPO at drill start: the drill runs and cleans up, then exits 1 with an rpo-missed finding."""
        metrics = tmp_path / "m.prom"
        result = drctl("drill", "--to", "qa", "--yes", "-c", str(lagging.config_path), "-o", "json",
                       "--metrics-file", str(metrics))
        report = drill_json(result)
        assert result.exit_code == 1
        assert report["status"] == "failed"
        assert report["drill"]["run_status"] == "succeeded"
        assert report["rpo"] == {**report["rpo"], "met": False, "data_loss_window_seconds": 600.0}
        assert report["drill"]["findings"][0]["kind"] == "rpo-missed"
        text = metrics.read_text()
        assert "drctl_drill_last_success_timestamp_seconds" not in text
        assert 'drctl_run_duration_seconds{outcome="failed",runbook="drill",target="qa"}' in text

    def test_unknown_lag_fails_the_drill(self, shared_sandbox: InProcessSandbox) -> None:
        """No lag datapoint for a database: RPO not demonstrated, exit 1, rpo-unknown finding naming it."""
        control = shared_sandbox.control
        control.set_replica_lag(ACCOUNT, "eu-west-1", "rds-instance", "customers-db-euw1", None)
        try:
            result = drctl("drill", "--to", "qa", "--yes", "-c", str(shared_sandbox.config_path), "-o", "json")
        finally:
            control.set_replica_lag(ACCOUNT, "eu-west-1", "rds-instance", "customers-db-euw1", 2.0)
        report = drill_json(result)
        assert result.exit_code == 1
        unknown = [f for f in report["drill"]["findings"] if f["kind"] == "rpo-unknown"]
        assert len(unknown) == 1
        assert "customers" in unknown[0]["message"]

    def test_rto_over_target_fails_the_drill(self, shared_sandbox: InProcessSandbox, tmp_path: Path) -> None:
        """An RTO target below what the drill achieves: exit 1 and an rto-missed finding with the numbers."""
        config = with_objectives(shared_sandbox, tmp_path / "tight.yaml", rto="0.001")
        result = drctl("drill", "--to", "qa", "--yes", "-c", str(config), "-o", "json")
        report = drill_json(result)
        assert result.exit_code == 1
        unfinished = [(s["name"], s["status"], s.get("detail")) for s in report["steps"]
                      if s["status"] not in ("succeeded", "already-done")]
        assert report["drill"]["run_status"] == "succeeded", unfinished
        assert report["rto"]["met"] is False
        assert report["rto"]["elapsed_seconds"] > 0.001
        assert report["drill"]["findings"][0]["kind"] == "rto-missed"
