"""Alert rules: promtool check/test, the contract's six alerts with their annotations and runbook pages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_support import ROOT, RULE_TESTS, RULES, promtool

from dr.metrics import names

CONTRACT_ALERTS = ("DRReplicationLagAboveRPO", "DRReplicationBroken", "DRLagMetricStale", "DRReadinessFailing",
                   "DRHealthCheckFailing", "DRDrillOverdue", "DRSplitBrainRisk", "DRPlanEvaluationFailing",
                   "DRBackupCopyStale")
RUNBOOK_BASE = "https://github.com/example/drctl/blob/main/runbooks/"
TEST_FILE = RULE_TESTS / "drctl-alerts.test.yml"


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def alert_tests() -> list[dict[str, Any]]:
    document = yaml.safe_load(TEST_FILE.read_text())
    return [case for group in document["tests"] for case in group.get("alert_rule_test", [])]


@pytest.mark.promtool
class TestPromtool:
    def test_rules_pass_promtool_check_rules(self) -> None:
        """`promtool check rules` accepts the file, lint included."""
        result = promtool("check", "rules", str(RULES))
        assert result.returncode == 0, result.stdout + result.stderr

    def test_rule_unit_tests_pass(self) -> None:
        """`promtool test rules` passes every firing and not-firing case."""
        result = promtool("test", "rules", str(TEST_FILE))
        assert result.returncode == 0, result.stdout + result.stderr

    @pytest.mark.parametrize(("original", "mutant"), [
        ("> 90 * 86400", "> 900 * 86400"),
        ("drctl_replication_lag_seconds < 0", "drctl_replication_lag_seconds < -1"),
        ("drctl_readiness_ok == 0\n        for: 10m", "drctl_readiness_ok == 0\n        for: 30m"),
        ("and on (env)", "unless on (env)"),
        ("max by (database) (drctl_writers) > 1", "sum by (database) (drctl_writers) > 1"),
        ("max by (database) (drctl_writers) > 1", "max by (database) (drctl_writers) > 2"),
        ("drctl_writers) > 1\n        for: 1m", "drctl_writers) > 1\n        for: 5m"),
        ("max by (database) (drctl_replication_up) == 0", "min by (database) (drctl_replication_up) == 0"),
        ("drctl_replication_up) == 0\n        for: 5m", "drctl_replication_up) == 0\n        for: 15m"),
        ("unless on (target)", "and on (target)"),
        ("max by (target) (drctl_drill_target_info)", "max by (target) (drctl_drill_target_info) * 0 > 1"),
        ("drctl_plan_check_ok == 0\n        for: 15m", "drctl_plan_check_ok == 0\n        for: 45m"),
        ("drctl_plan_check_ok == 0", "drctl_plan_check_ok < 0"),
        ("> on (job, instance, database) group_left ()\n          drctl_dr_backup_max_age_seconds",
         "> on (job, instance, database) group_left ()\n          drctl_dr_backup_max_age_seconds * 2"),
        ("unless on (job, instance, database)", "and on (job, instance, database)"),
        ("    and on (job, instance)\n          drctl_plan_evaluation_timestamp_seconds",
         "    unless on (job, instance)\n          drctl_plan_evaluation_timestamp_seconds"),
    ])
    def test_unit_tests_catch_a_broken_rule(self, tmp_path: Path, original: str, mutant: str) -> None:
        """A rule file with a mutated threshold, duration or join fails the unit tests."""
        text = RULES.read_text()
        assert original in text
        (tmp_path / "drctl-alerts.yml").write_text(text.replace(original, mutant, 1))
        (tmp_path / "tests").mkdir()
        (tmp_path / "tests" / TEST_FILE.name).write_text(TEST_FILE.read_text())
        result = promtool("test", "rules", str(tmp_path / "tests" / TEST_FILE.name))
        assert result.returncode != 0, "the unit tests did not notice the mutation"


class TestContract:
    def test_every_contract_alert_is_defined(self) -> None:
        """The alert names of docs/reference.md are all defined."""
        assert {rule["alert"] for rule in rules()} == set(CONTRACT_ALERTS)

    @pytest.mark.parametrize("rule", rules(), ids=lambda r: r["alert"])
    def test_alert_has_severity_summary_description_and_runbook(self, rule: dict[str, Any]) -> None:
        """Each rule has a severity, a summary, a description and a runbook_url to its page under runbooks/."""
        assert rule["labels"]["severity"] in {"critical", "warning"}
        assert rule["annotations"]["summary"].strip()
        assert rule["annotations"]["description"].strip()
        assert rule["annotations"]["runbook_url"] == f"{RUNBOOK_BASE}{rule['alert']}.md"
        assert rule.get("for"), "an alert without `for` pages on a single bad scrape"

    @pytest.mark.parametrize("alert", CONTRACT_ALERTS)
    def test_runbook_page_exists_with_diagnosis_and_actions(self, alert: str) -> None:
        """Each alert's runbook page exists and says how to diagnose, what to do, and when (not) to fail over."""
        page = (ROOT / "runbooks" / f"{alert}.md").read_text()
        assert page.startswith(f"# {alert}")
        for heading in ("## Diagnosis", "## Actions", "## When to fail over", "## When not to fail over"):
            assert heading in page, f"{alert}.md lacks {heading}"

    @pytest.mark.parametrize("alert", CONTRACT_ALERTS)
    def test_alert_has_firing_and_not_firing_unit_tests(self, alert: str) -> None:
        """The promtool unit tests cover each alert both firing and not firing."""
        cases = [case for case in alert_tests() if case["alertname"] == alert]
        assert any(case["exp_alerts"] for case in cases), f"no firing case for {alert}"
        assert any(not case["exp_alerts"] for case in cases), f"no not-firing case for {alert}"

    def test_rules_use_only_metrics_drctl_exports(self) -> None:
        """Every drctl_ metric an expression uses is declared in dr/metrics/names.py."""
        declared = {m.name for m in (*names.EXPORTER_METRICS, *names.RUN_METRICS)}
        used = {name for rule in rules() for name in re.findall(r"\bdrctl_[a-z_]+", rule["expr"])}
        assert used
        assert used <= declared
