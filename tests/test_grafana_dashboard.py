"""The Grafana dashboard: provisioning format, datasource variable, and every PromQL expression valid."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_support import DASHBOARD, promtool

from dr.metrics import names

GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}


def dashboard() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return document


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in the document, depth first."""
    if isinstance(node, dict):
        yield node
        for child in node.values():
            yield from walk(child)
    elif isinstance(node, list):
        for child in node:
            yield from walk(child)


def expressions() -> list[str]:
    return [obj["expr"] for obj in walk(dashboard()) if isinstance(obj.get("expr"), str)]


def panels() -> list[dict[str, Any]]:
    return [p for p in walk(dashboard().get("panels", [])) if "gridPos" in p and p.get("type") != "row"]


def as_promql(expr: str) -> str:
    """Grafana's variables replaced by values Prometheus accepts (template variables are regex matchers)."""
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return re.sub(r"\$\{?\w+\}?", ".*", expr)


def check_with_promtool(exprs: list[str], tmp: Path) -> tuple[int, str]:
    """`promtool check rules` on a recording-rules file holding each expression (promtool parses offline)."""
    rules = {"groups": [{"name": "grafana-drctl", "rules": [
        {"record": f"grafana:drctl_panel_expr:{i}", "expr": as_promql(expr)} for i, expr in enumerate(exprs)]}]}
    path = tmp / "dashboard-exprs.rules.yml"
    path.write_text(yaml.safe_dump(rules, sort_keys=False))
    result = promtool("check", "rules", str(path))
    return result.returncode, result.stdout + result.stderr


@pytest.mark.promtool
class TestPromql:
    def test_every_expression_parses(self, tmp_path: Path) -> None:
        """promtool accepts every PromQL expression of the dashboard (panels and annotations)."""
        exprs = expressions()
        assert len(exprs) >= 15
        code, output = check_with_promtool(exprs, tmp_path)
        assert code == 0, output

    def test_the_check_rejects_a_broken_expression(self, tmp_path: Path) -> None:
        """The same check fails on a malformed expression (so the test above can fail)."""
        code, _ = check_with_promtool([*expressions(), "sum by (env (drctl_readiness_ok)"], tmp_path)
        assert code != 0


class TestStructure:
    def test_dashboard_is_in_provisioning_format(self) -> None:
        """A bare dashboard model (no API wrapper), null id, a stable uid, a title."""
        board = dashboard()
        assert "dashboard" not in board
        assert board["id"] is None
        assert board["uid"] == "drctl-dr"
        assert board["title"]

    def test_datasource_is_a_variable_used_everywhere(self) -> None:
        """Every panel, query and annotation uses the `datasource` variable, never a hard-coded uid."""
        variables = {v["name"]: v for v in dashboard()["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource"
        assert variables["datasource"]["query"] == "prometheus"
        sources = [obj["datasource"] for obj in walk(dashboard()) if isinstance(obj.get("datasource"), dict)]
        assert sources
        assert all(s == {"type": "prometheus", "uid": "${datasource}"} for s in sources)

    def test_panel_ids_are_unique(self) -> None:
        """Grafana needs a unique id per panel."""
        ids = [p["id"] for p in walk(dashboard().get("panels", [])) if "gridPos" in p]
        assert len(ids) == len(set(ids))

    def test_expressions_use_only_metrics_drctl_exports(self) -> None:
        """Every drctl_ name in queries and variables is declared in dr/metrics/names.py (or a histogram part)."""
        declared = {m.name for m in (*names.EXPORTER_METRICS, *names.RUN_METRICS)}
        declared |= {f"{names.STEP_DURATION.name}_{suffix}" for suffix in ("bucket", "sum", "count")}
        variables = [v["definition"] for v in dashboard()["templating"]["list"] if "definition" in v]
        used = {n for text in (*expressions(), *variables) for n in re.findall(r"\bdrctl_[a-z_]+", text)}
        assert used <= declared

    @pytest.mark.parametrize(("topic", "metrics"), [
        ("lag vs RPO", {"drctl_replication_lag_seconds", "drctl_rpo_target_seconds"}),
        ("readiness", {"drctl_readiness_ok"}),
        ("writable copies (split brain)", {"drctl_writers"}),
        ("replication from the writer", {"drctl_replication_up"}),
        ("health", {"drctl_health_check_healthy"}),
        ("active site", {"drctl_active_site"}),
        ("last drill age", {"drctl_drill_last_success_timestamp_seconds", "drctl_drill_target_info"}),
        ("step durations vs budgets", {"drctl_step_duration_seconds_sum", "drctl_step_duration_seconds_count",
                                       "drctl_step_budget_seconds"}),
    ])
    def test_a_panel_shows_each_topic(self, topic: str, metrics: set[str]) -> None:
        """For each topic of the issue one panel queries all of its metrics together."""
        def used(panel: dict[str, Any]) -> set[str]:
            return {n for t in panel.get("targets", []) for n in re.findall(r"\bdrctl_[a-z_]+", t.get("expr", ""))}

        assert any(metrics <= used(p) for p in panels()), f"no panel shows {topic}"

    def test_no_panel_uses_a_deprecated_series(self) -> None:
        """drctl_active_site_info is kept one release for other users only: the dashboard uses drctl_active_site."""
        used = {n for text in expressions() for n in re.findall(r"\bdrctl_[a-z_]+", text)}
        assert names.ACTIVE_SITE_INFO.name not in used

    def test_step_durations_are_labelled_as_the_last_runs_values(self) -> None:
        """Each run replaces the pushed step histogram: no quantile of one run's buckets; the panels say "last run"."""
        assert not any("histogram_quantile" in e and "drctl_step_duration_seconds_bucket" in e for e in expressions())
        step_panels = [p for p in panels() if any("drctl_step_duration_seconds" in t.get("expr", "")
                                                  for t in p.get("targets", []))]
        assert step_panels
        assert all("last run" in p["title"].lower() for p in step_panels)
