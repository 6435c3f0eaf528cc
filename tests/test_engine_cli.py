"""`drctl run/resume/runs` in-process: the exit codes of docs/reference.md, the JSON report, runs list/show."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dr.cli.main import app
from dr.engine.lock.base import LockInfo, lock_key
from dr.engine.lock.local import LocalLock
from tests.fake_runbooks import EXAMPLE, LEDGER_ENV_VAR


@pytest.fixture(autouse=True)
def _plugin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DRCTL_RUNBOOK_MODULES", "tests.fake_runbooks")
    monkeypatch.setenv(LEDGER_ENV_VAR, str(tmp_path / "ledger"))


def drctl(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def run_ledger(*extra: str, config: Path = EXAMPLE) -> Any:
    return drctl("run", "test-ledger", "--to", "qa", "-c", str(config), *extra)


def state_runs(tmp_path: Path) -> list[str]:
    runs = tmp_path / "drctl-state" / "runs"
    return sorted(p.stem for p in runs.glob("*.jsonl")) if runs.is_dir() else []


class TestExitCodes:
    def test_without_a_terminal_a_change_needs_yes(self, tmp_path: Path) -> None:
        """No TTY and no --yes: exit 2, the message says --yes, nothing journaled or changed."""
        result = run_ledger()
        assert result.exit_code == 2
        assert "--yes" in result.stderr
        assert state_runs(tmp_path) == []
        assert not (tmp_path / "ledger").exists()

    def test_unknown_environment_exits_2_naming_the_choices(self) -> None:
        """--to nowhere: exit 2 and the environments of the topology."""
        result = drctl("run", "test-ledger", "--to", "nowhere", "-c", str(EXAMPLE), "--yes")
        assert result.exit_code == 2
        assert "prod, qa, dev" in result.stderr

    def test_missing_topology_exits_2(self, tmp_path: Path) -> None:
        """A config path that does not exist: exit 2, nothing run."""
        result = run_ledger("--yes", config=tmp_path / "absent.yaml")
        assert result.exit_code == 2
        assert "file not found" in result.stderr

    def test_failed_step_exits_1_and_resume_finishes_after_the_fix(self, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
        """A step that cannot write fails the run (exit 1, next action: resume); after the fix resume exits 0."""
        monkeypatch.setenv(LEDGER_ENV_VAR, str(tmp_path / "missing-dir" / "ledger"))
        failed = run_ledger("--yes", "-o", "json", "--run-id", "r-fail")
        assert failed.exit_code == 1
        report = json.loads(failed.stdout)
        assert report["status"] == "failed"
        assert report["steps"][1]["status"] == "failed"
        assert "drctl resume r-fail" in report["next_action"]
        (tmp_path / "missing-dir").mkdir()
        resumed = drctl("resume", "r-fail", "--yes", "-o", "json")
        assert resumed.exit_code == 0, resumed.stderr
        assert json.loads(resumed.stdout)["status"] == "succeeded"

    def test_finished_run_re_resumed_changes_nothing_and_exits_0(self, tmp_path: Path) -> None:
        """resume of a succeeded run: exit 0, its report again, no mutation repeated."""
        assert run_ledger("--yes", "--run-id", "r-done").exit_code == 0
        again = drctl("resume", "r-done", "--yes", "-o", "json")
        assert again.exit_code == 0
        assert json.loads(again.stdout)["status"] == "succeeded"
        assert len((tmp_path / "ledger").read_text().splitlines()) == 5

    def test_rerunning_a_finished_runbook_reports_already_done(self, tmp_path: Path) -> None:
        """A second run of the same runbook finds everything done: status already-done, exit 0."""
        assert run_ledger("--yes").exit_code == 0
        second = run_ledger("--yes", "-o", "json")
        assert second.exit_code == 0
        assert json.loads(second.stdout)["status"] == "already-done"

    def test_resume_refuses_when_the_topology_changed(self, tmp_path: Path) -> None:
        """The topology file was edited after the run began: resume exits 2 explaining why."""
        config = tmp_path / "dr.yaml"
        shutil.copy(EXAMPLE, config)
        failing = tmp_path / "x" / "ledger"
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv(LEDGER_ENV_VAR, str(failing))
            assert run_ledger("--yes", "--run-id", "r-topo", config=config).exit_code == 1
        config.write_text(config.read_text() + "\n# edited during the incident\n")
        result = drctl("resume", "r-topo", "--yes")
        assert result.exit_code == 2
        assert "changed since run r-topo began" in result.stderr

    def test_unknown_run_exits_2(self) -> None:
        """resume of a run id that has no journal: exit 2 pointing at `drctl runs list`."""
        result = drctl("resume", "no-such-run", "--yes")
        assert result.exit_code == 2
        assert "drctl runs list" in result.stderr


class TestReportAndRuns:
    def test_json_report_is_one_document_with_incident_clock(self) -> None:
        """-o json: one JSON document; --incident-start moves the RTO clock start and counts elapsed from it."""
        incident = (datetime.now(UTC) - timedelta(minutes=20)).replace(microsecond=0)
        result = run_ledger("--yes", "-o", "json", "--incident-start", incident.strftime("%Y-%m-%dT%H:%M:%SZ"))
        report = json.loads(result.stdout)
        assert report["clock_started_at"] == incident.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        assert report["rto"]["met"] is False
        assert report["rto"]["elapsed_seconds"] > 900
        assert report["rpo"]["data_loss_window_seconds"] == 1.5
        assert result.exit_code == 0

    def test_dry_run_needs_no_yes_and_changes_nothing(self, tmp_path: Path) -> None:
        """--dry-run without --yes: exit 0, mutating steps planned, the ledger untouched."""
        result = run_ledger("--dry-run", "-o", "json")
        assert result.exit_code == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["mode"] == "dry-run"
        assert {s["status"] for s in report["steps"][1:]} == {"planned"}
        assert not (tmp_path / "ledger").exists()

    def test_runs_list_and_show_describe_the_run(self) -> None:
        """runs list names the run with its status; runs show gives its report and its raw events."""
        assert run_ledger("--yes", "--run-id", "r-show").exit_code == 0
        listed = json.loads(drctl("runs", "list", "-o", "json").stdout)["runs"]
        assert [(r["run_id"], r["runbook"], r["status"]) for r in listed] == [("r-show", "test-ledger", "succeeded")]
        shown = json.loads(drctl("runs", "show", "r-show", "-o", "json").stdout)
        assert shown["run_id"] == "r-show"
        assert len(shown["steps"]) == 6
        events = [json.loads(line) for line in drctl("runs", "show", "r-show", "--events").stdout.splitlines()]
        assert events[0]["type"] == "run-started"
        assert events[-1]["type"] == "run-finished"

    def test_runs_show_of_a_dead_run_names_the_step_in_flight(self, tmp_path: Path) -> None:
        """A journal that ends after an intent, its lock free: interrupted (not running forever), that step in
        flight and `called`, next action resume."""
        assert run_ledger("--yes", "--run-id", "r-dead").exit_code == 0
        journal = tmp_path / "drctl-state" / "runs" / "r-dead.jsonl"
        lines = journal.read_text().splitlines()
        cut = next(i for i, line in enumerate(lines) if '"step-intent"' in line and '"par-b"' in line)
        journal.write_text("\n".join(lines[: cut + 1]) + "\n")
        shown = json.loads(drctl("runs", "show", "r-dead", "-o", "json", "-c", str(EXAMPLE)).stdout)
        assert shown["status"] == "interrupted"
        assert "par-b" in shown["in_flight"]
        assert {s["name"]: s["outcome"] for s in shown["steps"]}["first"] == "verified"
        traffic = next(e for e in shown["timeline"]["events"] if e["name"] == "traffic-moved")
        assert (traffic["at"], traffic["detail"]) == (None, "not reached (last: not run)")
        assert shown["rto"]["met"] is None
        assert "drctl resume r-dead" in shown["next_action"]
        listed = json.loads(drctl("runs", "list", "-o", "json").stdout)["runs"]
        assert [r["status"] for r in listed] == ["interrupted"]

    def test_a_run_holding_its_lock_is_listed_running(self, tmp_path: Path) -> None:
        """A journal without an end whose pair lock is held by that run (alive, maybe on another host): running."""
        assert run_ledger("--yes", "--run-id", "r-live").exit_code == 0
        journal = tmp_path / "drctl-state" / "runs" / "r-live.jsonl"
        journal.write_text("\n".join(journal.read_text().splitlines()[:-1]) + "\n")
        lock = LocalLock(tmp_path / "drctl-state", lock_key("prod", "qa"))
        lock.acquire(LockInfo(key="prod--qa", run_id="r-live", holder="ops@elsewhere", pid=1,
                              since=datetime.now(UTC)))
        try:
            listed = json.loads(drctl("runs", "list", "-o", "json").stdout)["runs"]
            shown = json.loads(drctl("runs", "show", "r-live", "-o", "json").stdout)
        finally:
            lock.release()
        assert [r["status"] for r in listed] == ["running"]
        assert shown["status"] == "running"
        assert [r["status"] for r in json.loads(drctl("runs", "list", "-o", "json").stdout)["runs"]] == [
            "interrupted"]

    def test_a_new_run_on_a_pair_half_moved_by_a_dead_run_is_refused_naming_it(self, tmp_path: Path) -> None:
        """A dead run whose journal shows a change and no end: a new run on the pair (either direction) exits 3
        before anything (no journal of its own), naming that run and `drctl resume`; resuming it clears the way."""
        assert run_ledger("--yes", "--run-id", "r-half").exit_code == 0
        journal = tmp_path / "drctl-state" / "runs" / "r-half.jsonl"
        lines = journal.read_text().splitlines()
        cut = next(i for i, line in enumerate(lines) if '"step-outcome"' in line and '"first"' in line)
        journal.write_text("\n".join(lines[: cut + 1]) + "\n")
        for args in (["--to", "qa"], ["--to", "prod", "--from", "qa"]):
            refused = drctl("run", "test-ledger", *args, "-c", str(EXAMPLE), "--yes", "--run-id", "r-new")
            assert refused.exit_code == 3, refused.stderr
            assert "run r-half (test-ledger prod -> qa" in refused.stderr
            assert "`drctl resume r-half`" in refused.stderr
            assert state_runs(tmp_path) == ["r-half"]
        assert drctl("resume", "r-half", "--yes").exit_code == 0
        assert run_ledger("--yes", "--run-id", "r-new").exit_code == 0

    def test_a_dead_run_that_changed_nothing_does_not_block_a_new_run(self, tmp_path: Path) -> None:
        """A dead run cut before its first mutating call leaves nothing half-moved: a new run goes ahead."""
        assert run_ledger("--yes", "--run-id", "r-early").exit_code == 0
        journal = tmp_path / "drctl-state" / "runs" / "r-early.jsonl"
        lines = journal.read_text().splitlines()
        cut = next(i for i, line in enumerate(lines) if '"step-intent"' in line)
        journal.write_text("\n".join(lines[:cut]) + "\n")
        assert run_ledger("--yes", "--run-id", "r-next").exit_code == 0

    def test_metrics_file_is_written_and_a_dead_pushgateway_does_not_fail_the_run(self, tmp_path: Path) -> None:
        """--metrics-file gets the run metrics; an unreachable --pushgateway only warns, exit stays 0."""
        metrics = tmp_path / "drctl.prom"
        result = run_ledger("--yes", "--metrics-file", str(metrics), "--pushgateway", "http://127.0.0.1:9")
        assert result.exit_code == 0, result.stderr
        assert "drctl_run_duration_seconds" in metrics.read_text()


class TestConfirmation:
    @pytest.fixture(autouse=True)
    def _tty(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr("dr.cli.run_options.is_tty", lambda: True)
        monkeypatch.setattr("dr.cli.run_options.run_session", _plain_run)

    def test_declined_confirmation_exits_3_and_changes_nothing(self, tmp_path: Path) -> None:
        """On a terminal, anything but the confirmation text refuses the run: exit 3, no journal, no change."""
        result = CliRunner().invoke(app, ["run", "test-ledger", "--to", "qa", "-c", str(EXAMPLE)], input="nope\n")
        assert result.exit_code == 3
        assert "declined" in result.stderr
        assert state_runs(tmp_path) == []
        assert not (tmp_path / "ledger").exists()

    def test_typed_confirmation_runs(self, tmp_path: Path) -> None:
        """Typing the target's name runs the runbook."""
        result = CliRunner().invoke(app, ["run", "test-ledger", "--to", "qa", "-c", str(EXAMPLE)], input="qa\n")
        assert result.exit_code == 0, result.stderr
        assert len((tmp_path / "ledger").read_text().splitlines()) == 5


def _plain_run(session: Any, flags: Any, resume: Any = None) -> Any:
    """The run without the live display (CliRunner's stderr is no terminal)."""
    from dr.cli.run_options import _start_or_resume

    return _start_or_resume(session, flags, resume)
