"""Run metrics: a finished run's report becomes step/run durations and last-success timestamps."""

from __future__ import annotations

import http.server
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_support import free_port, http_get, promtool, pushgateway

from dr.metrics import names
from dr.metrics.run_metrics import export_run


def report(*, runbook: str = "failover", target: str = "qa", status: str = "succeeded", mode: str = "real",
           finished_at: str = "2026-11-26T10:00:00.000Z", steps: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A run report as docs/reference.md documents it."""
    return {
        "run_id": "r-1", "runbook": runbook, "source": "prod", "target": target, "mode": mode, "status": status,
        "started_at": "2026-11-26T09:50:00.000Z", "finished_at": finished_at,
        "clock_started_at": "2026-11-26T09:50:00.000Z", "duration_seconds": 600.0,
        "rto": {"target_seconds": 900, "elapsed_seconds": 600.0, "met": True},
        "rpo": {"target_seconds": 300, "data_loss_window_seconds": 0.0, "met": True},
        "steps": steps if steps is not None else [
            {"name": "promote", "resource": "orders", "status": "succeeded", "started_at": "x",
             "duration_seconds": 240.0, "budget_seconds": 420.0, "attempts": 1, "detail": ""},
            {"name": "dns", "resource": "api", "status": "failed" if status == "failed" else "succeeded",
             "started_at": "x", "duration_seconds": 12.0, "budget_seconds": 120.0, "attempts": 2, "detail": ""},
        ],
    }


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of an exposition, keyed by (name, labels)."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(text: str, name: str, **labels: str) -> float | None:
    return samples(text).get((name, frozenset(labels.items())))


FINISHED = 1795687200.0  # 2026-11-26T10:00:00Z


class TestTextfile:
    def test_successful_run_writes_histogram_duration_and_last_success(self, tmp_path: Path) -> None:
        """A successful failover writes step histogram buckets up to 900 s, run duration and last success."""
        path = tmp_path / "drctl.prom"
        export_run(report(), pushgateway=None, metrics_file=str(path))
        text = path.read_text()
        labels = {"runbook": "failover", "target": "qa", "step": "promote", "outcome": "succeeded"}
        assert value(text, "drctl_step_duration_seconds_bucket", **labels, le="180.0") == 0.0
        assert value(text, "drctl_step_duration_seconds_bucket", **labels, le="300.0") == 1.0
        assert value(text, "drctl_step_duration_seconds_bucket", **labels, le="900.0") == 1.0
        assert value(text, "drctl_step_duration_seconds_sum", **labels) == 240.0
        assert value(text, "drctl_step_budget_seconds", runbook="failover", target="qa", step="promote") == 420.0
        assert value(text, "drctl_run_duration_seconds", runbook="failover", target="qa", outcome="succeeded") == 600.0
        assert value(text, "drctl_run_last_success_timestamp_seconds", runbook="failover", target="qa") == FINISHED
        assert value(text, "drctl_drill_last_success_timestamp_seconds", target="qa") is None

    def test_failed_run_keeps_the_previous_last_success(self, tmp_path: Path) -> None:
        """A failed run replaces the durations but leaves the last-success timestamp of the earlier success."""
        path = tmp_path / "drctl.prom"
        export_run(report(), pushgateway=None, metrics_file=str(path))
        export_run(report(status="failed", finished_at="2026-11-27T10:00:00Z"), pushgateway=None,
                   metrics_file=str(path))
        text = path.read_text()
        assert value(text, "drctl_run_last_success_timestamp_seconds", runbook="failover", target="qa") == FINISHED
        assert value(text, "drctl_run_duration_seconds", runbook="failover", target="qa", outcome="failed") == 600.0
        assert value(text, "drctl_run_duration_seconds", runbook="failover", target="qa", outcome="succeeded") is None

    def test_successful_drill_sets_drill_last_success(self, tmp_path: Path) -> None:
        """Only a successful drill sets drctl_drill_last_success_timestamp_seconds."""
        path = tmp_path / "drctl.prom"
        export_run(report(runbook="drill", mode="drill"), pushgateway=None, metrics_file=str(path))
        export_run(report(runbook="drill", mode="drill", status="failed", finished_at="2026-12-01T00:00:00Z"),
                   pushgateway=None, metrics_file=str(path))
        assert value(path.read_text(), "drctl_drill_last_success_timestamp_seconds", target="qa") == FINISHED

    def test_runs_of_other_runbooks_are_kept_in_the_same_file(self, tmp_path: Path) -> None:
        """A failback export does not erase the failover's series in the shared textfile."""
        path = tmp_path / "drctl.prom"
        export_run(report(), pushgateway=None, metrics_file=str(path))
        export_run(report(runbook="failback", target="prod"), pushgateway=None, metrics_file=str(path))
        text = path.read_text()
        assert value(text, "drctl_run_last_success_timestamp_seconds", runbook="failover", target="qa") == FINISHED
        assert value(text, "drctl_run_last_success_timestamp_seconds", runbook="failback", target="prod") == FINISHED
        assert value(text, "drctl_step_duration_seconds_count", runbook="failover", target="qa", step="promote",
                     outcome="succeeded") == 1.0

    @pytest.mark.promtool
    def test_merged_textfile_passes_promtool_check_metrics(self, tmp_path: Path) -> None:
        """The textfile after several runs of several runbooks is valid, lint-clean exposition."""
        path = tmp_path / "drctl.prom"
        export_run(report(), pushgateway=None, metrics_file=str(path))
        export_run(report(runbook="drill", mode="drill"), pushgateway=None, metrics_file=str(path))
        export_run(report(status="failed"), pushgateway=None, metrics_file=str(path))
        result = promtool("check", "metrics", stdin=path.read_text())
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.strip() == ""

    def test_dry_run_exports_nothing(self, tmp_path: Path) -> None:
        """A dry run's planned steps are not durations: nothing is written."""
        path = tmp_path / "drctl.prom"
        export_run(report(mode="dry-run"), pushgateway=None, metrics_file=str(path))
        assert not path.exists()

    def test_dry_run_drill_exports_nothing(self, tmp_path: Path) -> None:
        """A `drill --mode dry-run` report (mode drill, drill.mode dry-run) does not count as a drill."""
        path = tmp_path / "drctl.prom"
        export_run({**report(runbook="drill", mode="drill"), "drill": {"mode": "dry-run"}}, pushgateway=None,
                   metrics_file=str(path))
        assert not path.exists()

    def test_clone_drill_counts_as_a_drill(self, tmp_path: Path) -> None:
        """A successful clone drill sets the drill last-success timestamp."""
        path = tmp_path / "drctl.prom"
        export_run({**report(runbook="drill", mode="drill"), "drill": {"mode": "clone"}}, pushgateway=None,
                   metrics_file=str(path))
        assert value(path.read_text(), "drctl_drill_last_success_timestamp_seconds", target="qa") == FINISHED

    def test_planned_and_already_done_runs_do_not_count_as_success(self, tmp_path: Path) -> None:
        """An already-done re-run records its duration but no new last-success timestamp."""
        path = tmp_path / "drctl.prom"
        export_run(report(status="already-done"), pushgateway=None, metrics_file=str(path))
        text = path.read_text()
        assert value(text, "drctl_run_duration_seconds", runbook="failover", target="qa", outcome="already-done")
        assert value(text, "drctl_run_last_success_timestamp_seconds", runbook="failover", target="qa") is None

    def test_no_temporary_files_are_left_behind(self, tmp_path: Path) -> None:
        """The atomic write renames its temp file into place: only the textfile and its lock remain."""
        export_run(report(), pushgateway=None, metrics_file=str(tmp_path / "drctl.prom"))
        assert sorted(p.name for p in tmp_path.iterdir()) == ["drctl.prom", "drctl.prom.lock"]


class TestNeverRaises:
    def test_unwritable_textfile_logs_a_warning(self, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
        """A textfile in a path that cannot be created is a warning, not an exception."""
        blocker = tmp_path / "file"
        blocker.write_text("")
        with caplog.at_level(logging.WARNING, logger="dr.metrics.run_metrics"):
            export_run(report(), pushgateway=None, metrics_file=str(blocker / "sub" / "drctl.prom"))
        assert "not exported to textfile" in caplog.text

    def test_unreachable_pushgateway_logs_a_warning(self, caplog: pytest.LogCaptureFixture) -> None:
        """A Pushgateway nobody listens on is a warning, not an exception."""
        with caplog.at_level(logging.WARNING, logger="dr.metrics.run_metrics"):
            export_run(report(), pushgateway=f"http://127.0.0.1:{free_port()}", metrics_file=None)
        assert "not exported to Pushgateway" in caplog.text

    def test_malformed_report_logs_a_warning(self, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
        """A report without runbook/target is a warning, and nothing is written."""
        with caplog.at_level(logging.WARNING, logger="dr.metrics.run_metrics"):
            export_run({"status": "succeeded"}, pushgateway=None, metrics_file=str(tmp_path / "x.prom"))
        assert "cannot read the run report" in caplog.text
        assert not (tmp_path / "x.prom").exists()


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[tuple[str, str, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.requests.append(("POST", self.path, body))
        self.send_response(200)
        self.end_headers()

    do_PUT = do_POST  # noqa: N815 (the name http.server dispatches to)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    """A tiny HTTP server that records what is pushed to it."""
    _Recorder.requests = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.requests
    server.shutdown()
    server.server_close()


class TestPushRequests:
    def test_push_uses_post_with_job_runbook_target_grouping(
            self, recorder: tuple[str, list[tuple[str, str, bytes]]]) -> None:
        """Runs are pushed with POST (pushadd) to /metrics/job/drctl/runbook/<runbook>/target/<target>."""
        url, requests = recorder
        export_run(report(), pushgateway=url, metrics_file=None)
        assert [(m, p) for m, p, _ in requests] == [("POST", "/metrics/job/drctl/runbook/failover/target/qa")]

    def test_failed_run_pushes_no_last_success(self, recorder: tuple[str, list[tuple[str, str, bytes]]]) -> None:
        """The body of a failed run's push has durations but no last-success gauge."""
        url, requests = recorder
        export_run(report(status="failed"), pushgateway=url, metrics_file=None)
        body = requests[0][2].decode()
        assert names.RUN_DURATION.name in body
        assert names.RUN_LAST_SUCCESS.name not in body

    def test_environment_variable_is_the_default_pushgateway(
            self, recorder: tuple[str, list[tuple[str, str, bytes]]], monkeypatch: pytest.MonkeyPatch) -> None:
        """Without an explicit URL, $DRCTL_PUSHGATEWAY is used."""
        url, requests = recorder
        monkeypatch.setenv(names.PUSHGATEWAY_ENV_VAR, url)
        export_run(report(runbook="drill", mode="drill"), pushgateway=None, metrics_file=None)
        assert requests[0][1] == "/metrics/job/drctl/runbook/drill/target/qa"


@pytest.mark.promtool
class TestRealPushgateway:
    def test_failed_run_does_not_erase_last_success_in_pushgateway(self, tmp_path: Path) -> None:
        """Pushgateway keeps the last success of an earlier run after a failed run is pushed to the same group."""
        with pushgateway(tmp_path) as url:
            export_run(report(runbook="drill", mode="drill"), pushgateway=url, metrics_file=None)
            export_run(report(runbook="drill", mode="drill", status="failed"), pushgateway=url, metrics_file=None)
            status, body = http_get(f"{url}/metrics")
        text = body.decode()
        assert status == 200
        group = {"job": "drctl", "runbook": "drill", "target": "qa", "instance": ""}
        assert value(text, "drctl_drill_last_success_timestamp_seconds", **group) == FINISHED
        assert value(text, "drctl_run_last_success_timestamp_seconds", **group) == FINISHED
        assert value(text, "drctl_run_duration_seconds", **group, outcome="failed") == 600.0
        assert value(text, "drctl_run_duration_seconds", **group, outcome="succeeded") is None
