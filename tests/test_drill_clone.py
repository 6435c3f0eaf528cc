"""Clone drills against the in-process sandbox: what they create, promote and delete, and what they never touch."""

from __future__ import annotations

import json
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from drill_support import aws_state, drctl, drill_json, drill_resources, shared_sandbox

from dr.drill import clones
from dr.drill.leftovers import find_leftovers
from dr.testing import InProcessSandbox

__all__ = ["shared_sandbox"]


def run_clone_drill(box: InProcessSandbox, *extra: str) -> Any:
    return drctl("drill", "--to", "qa", "--mode", "clone", "--yes", "-c", str(box.config_path), "-o", "json", *extra)


@dataclass
class DrillRun:
    before: dict[str, Any]
    after: dict[str, Any]
    exit_code: int
    report: dict[str, Any]
    promoted: set[str]
    metrics: str
    stdout: str
    markdown_path: Path


@pytest.fixture(scope="module")
def clone_run(shared_sandbox: InProcessSandbox, tmp_path_factory: pytest.TempPathFactory) -> DrillRun:
    """One successful clone drill with text output and a metrics file, and the AWS state before and after it."""
    metrics = tmp_path_factory.mktemp("metrics") / "drctl.prom"
    box = shared_sandbox
    before = aws_state(box.topology, box.clients)
    result = drctl("drill", "--to", "qa", "--mode", "clone", "--yes", "-c", str(box.config_path),
                   "--metrics-file", str(metrics))
    assert result.exit_code == 0, result.stderr
    after = aws_state(box.topology, box.clients)
    promoted = {e.identifier for e in box.control.promotion_events()}
    saved = next(line for line in result.stderr.splitlines() if "drill report saved" in line)
    md_path, json_path = saved.split("drill report saved: ")[1].split(" and ")
    report = json.loads(Path(json_path).read_text(encoding="utf-8"))
    return DrillRun(before, after, result.exit_code, report, promoted, metrics.read_text(), result.stdout,
                    Path(md_path))


class TestCloneDrillSucceeds:
    def test_production_databases_records_and_health_checks_are_unchanged(self, clone_run: DrillRun) -> None:
        """A clone drill leaves every production database, record and health check exactly as it found them."""
        assert clone_run.after == clone_run.before

    def test_every_database_is_cloned_promoted_verified_and_deleted(self, clone_run: DrillRun) -> None:
        """Each database gets a clone step, a promotion, a verification and a deletion, all successful."""
        steps = {s["name"]: s["status"] for s in clone_run.report["steps"]}
        for db in ("orders", "customers", "inventory", "payments"):
            for prefix in ("drill-clone", "drill-promote", "drill-verify", "drill-delete"):
                assert steps[f"{prefix}:{db}"] == "succeeded", (prefix, db)
        assert clone_run.report["status"] == "succeeded"
        assert clone_run.report["runbook"] == "drill"
        assert clone_run.report["drill"]["cleanup"] == {"when": "in run", "deleted": [], "errors": []}

    def test_rds_clones_were_really_promoted_in_aws(self, clone_run: DrillRun) -> None:
        """The sandbox saw a promotion of each rds-instance clone, and of no production replica."""
        clone_ids = {c["database"]: c["id"] for c in clone_run.report["drill"]["clones"]}
        assert {clone_ids["orders"], clone_ids["customers"]} <= clone_run.promoted
        assert not clone_run.promoted & {"orders-db-euw1", "customers-db-euw1", "orders-db", "customers-db"}

    def test_clones_are_named_after_the_run_and_live_in_the_dr_region(self, clone_run: DrillRun) -> None:
        """Each clone's id carries the run id's tail; all live in prod's account in eu-west-1."""
        for clone in clone_run.report["drill"]["clones"]:
            assert clone["id"].startswith(f"drill-{clone['database']}-")
            assert (clone["env"], clone["region"]) == ("prod", "eu-west-1")
        kinds = {c["database"]: c["kind"] for c in clone_run.report["drill"]["clones"]}
        assert kinds == {"orders": "instance-replica", "customers": "instance-replica",
                         "inventory": "cluster-copy", "payments": "cluster-copy"}

    def test_nothing_tagged_as_a_drill_remains(self, clone_run: DrillRun, shared_sandbox: InProcessSandbox) -> None:
        """After the drill no drill-tagged database and no drill_name record exists anywhere."""
        found, errors = find_leftovers(shared_sandbox.topology, shared_sandbox.clients)
        assert (found, errors) == ([], [])
        assert drill_resources(clone_run.after) == []

    def test_dns_is_exercised_on_drill_names_and_the_rest_reported(self, clone_run: DrillRun) -> None:
        """Records with drill_name are exercised; the ones without are named as not exercised."""
        drill = clone_run.report["drill"]
        assert sorted(drill["dns_exercised"]) == ["drill-api.example.com.", "drill-payments.internal.example.com."]
        assert sorted(drill["dns_not_exercised"]) == ["shop.example.com.", "www.example.com."]
        assert "dns-not-exercised" in [f["kind"] for f in drill["findings"]]
        dns_steps = [s for s in clone_run.report["steps"] if s["name"].startswith("drill-dns:")]
        assert len(dns_steps) == 2
        assert all(s["status"] == "succeeded" for s in dns_steps)

    def test_report_measures_rto_and_rpo_against_targets(self, clone_run: DrillRun) -> None:
        """The JSON report carries the achieved RTO (critical-path steps) and RPO (lag at start), both met."""
        report = clone_run.report
        assert report["rto"]["met"] is True
        assert 0 < report["rto"]["elapsed_seconds"] <= report["rto"]["run_elapsed_seconds"]
        assert report["rto"]["target_seconds"] == 900
        assert report["rpo"]["met"] is True
        assert set(report["rpo"]["per_database"]) == {"orders", "customers", "inventory", "payments"}
        assert report["drill"]["timeline"][0]["step"] == "prechecks"
        assert set(report["drill"]["promotion_seconds"]) == {"orders", "customers", "inventory", "payments"}

    def test_markdown_report_is_printed_and_saved_with_the_json(self, clone_run: DrillRun) -> None:
        """Text output is the Markdown report (timeline, steps vs budget, findings), saved next to the JSON."""
        files = clone_run.report["report_files"]
        assert Path(files["markdown"]) == clone_run.markdown_path
        assert clone_run.markdown_path.read_text(encoding="utf-8") == clone_run.stdout
        assert clone_run.stdout.startswith(f"# DR drill {clone_run.report['run_id']}")
        for section in ("## Findings", "## Steps vs budget", "## Timeline", "## Coverage and cleanup"):
            assert section in clone_run.stdout

    def test_successful_drill_writes_its_last_success_metric(self, clone_run: DrillRun) -> None:
        """The metrics file holds the drill's last-success timestamp for the target and its step durations."""
        assert 'drctl_drill_last_success_timestamp_seconds{target="qa"}' in clone_run.metrics
        promote_lines = [line for line in clone_run.metrics.splitlines()
                         if line.startswith("drctl_step_duration_seconds_count")
                         and 'step="drill-promote:orders"' in line]
        assert len(promote_lines) == 1
        assert 'runbook="drill"' in promote_lines[0]


class TestCloneDrillOtherRuns:
    def test_simulated_outage_of_the_source_region_does_not_stop_a_clone_drill(
            self, shared_sandbox: InProcessSandbox) -> None:
        """With eu-central-1 down the drill still clones, promotes and cleans up in the DR region."""
        result = run_clone_drill(shared_sandbox, "--simulate-outage", "eu-central-1")
        report = drill_json(result)
        assert result.exit_code == 0, report["drill"]["findings"]
        assert "eu-central-1 unreachable" in next(s["detail"] for s in report["steps"] if s["name"] == "prechecks")
        places = [("prod", "eu-west-1")]
        assert find_leftovers(shared_sandbox.topology, shared_sandbox.clients, places=places)[0] == []


class TestCloneDrillCleanupOnFailure:
    def test_a_failing_step_still_deletes_everything_and_exits_1(
            self, shared_sandbox: InProcessSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
        """When a DNS change is refused, the clones already created are deleted and the drill exits 1."""
        from botocore.exceptions import ClientError

        from runbooks.steps.drill_dns import DrillUpsertZone

        def refuse(self: Any, ctx: Any) -> str:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, "ChangeResourceRecordSets")

        monkeypatch.setattr(DrillUpsertZone, "act", refuse)
        box = shared_sandbox
        before = aws_state(box.topology, box.clients)
        result = run_clone_drill(box)
        report = drill_json(result)
        assert result.exit_code == 1
        assert report["status"] == "failed"
        assert report["drill"]["cleanup"]["when"] == "after the run failed"
        assert {d["id"] for d in report["drill"]["cleanup"]["deleted"]} >= {c["id"] for c in report["drill"]["clones"]}
        assert aws_state(box.topology, box.clients) == before
        assert "step-failed" in [f["kind"] for f in report["drill"]["findings"]]

    @pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
    def test_an_interrupt_stops_the_drill_deletes_everything_and_exits_130(
            self, shared_sandbox: InProcessSandbox, monkeypatch: pytest.MonkeyPatch, signum: int) -> None:
        """A signal right after a clone is created: no new step starts, the sweep deletes the clones, exit 130."""
        original = clones.create_instance_replica
        sent: list[int] = []

        def create_then_interrupt(*args: Any, **kwargs: Any) -> str:
            detail = original(*args, **kwargs)
            if not sent:  # one signal: a second one means "stop at once", which is the engine's business
                sent.append(signum)
                os.kill(os.getpid(), signum)
            return detail

        monkeypatch.setattr(clones, "create_instance_replica", create_then_interrupt)
        box = shared_sandbox
        before = aws_state(box.topology, box.clients)
        result = run_clone_drill(box)
        report = drill_json(result)
        assert result.exit_code == 130
        assert report["status"] == "interrupted"
        assert not any(s["name"].startswith("drill-promote") and s["status"] == "succeeded" for s in report["steps"])
        created = {c["id"] for c in report["drill"]["clones"] if c["database"] in ("orders", "customers")}
        assert {d["id"] for d in report["drill"]["cleanup"]["deleted"]} >= created
        assert aws_state(box.topology, box.clients) == before
        assert "cleaned up" in report["next_action"]
