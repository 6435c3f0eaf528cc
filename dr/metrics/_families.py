"""Build the metric families of one run: step histogram, budgets, run duration, last-success timestamps."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric

from dr.metrics import names
from dr.metrics._report import RunRecord


def run_families(run: RunRecord, *, now: float, group_labels: bool) -> list[Metric]:
    """The families of `run`. With `group_labels` every series carries runbook and target itself (textfile);
    without, they are left to the Pushgateway grouping key, which attaches them to every series it serves.

    Last-success timestamps are included only when the run succeeded, so that exporting a failed run
    never replaces the previous success.
    """
    group = {"runbook": run.runbook, "target": run.target} if group_labels else {}
    families: list[Metric] = [
        _step_histogram(run, group),
        _step_budgets(run, group),
        _gauge(names.RUN_DURATION, {**group, "outcome": run.outcome}, run.duration_seconds),
    ]
    if run.succeeded:
        finished = run.finished_at if run.finished_at is not None else now
        families.append(_gauge(names.RUN_LAST_SUCCESS, group, finished))
        if run.is_drill:
            drill_labels = {"target": run.target} if group_labels else {}
            families.append(_gauge(names.DRILL_LAST_SUCCESS, drill_labels, finished))
    return families


def _gauge(metric: names.MetricName, labels: dict[str, str], value: float) -> GaugeMetricFamily:
    family = GaugeMetricFamily(metric.name, metric.help, labels=list(labels))
    family.add_metric(list(labels.values()), value)
    return family


def _step_histogram(run: RunRecord, group: dict[str, str]) -> HistogramMetricFamily:
    metric = names.STEP_DURATION
    family = HistogramMetricFamily(metric.name, metric.help, labels=[*group, "step", "outcome"])
    observed: dict[tuple[str, str], list[float]] = defaultdict(list)
    for step in run.steps:
        observed[(step.name, step.outcome)].append(step.duration_seconds)
    for (step_name, outcome), durations in observed.items():
        family.add_metric([*group.values(), step_name, outcome], cumulative_buckets(durations), sum(durations))
    return family


def _step_budgets(run: RunRecord, group: dict[str, str]) -> GaugeMetricFamily:
    metric = names.STEP_BUDGET
    family = GaugeMetricFamily(metric.name, metric.help, labels=[*group, "step"])
    budgets = {step.name: step.budget_seconds for step in run.steps if step.budget_seconds is not None}
    for step_name, budget in budgets.items():
        family.add_metric([*group.values(), step_name], budget)
    return family


def cumulative_buckets(values: Sequence[float],
                       bounds: Sequence[float] = names.STEP_DURATION_BUCKETS) -> list[tuple[str, float]]:
    """Prometheus histogram buckets (cumulative, ending with +Inf) for `values`."""
    buckets = [(_le(bound), float(sum(1 for v in values if v <= bound))) for bound in bounds]
    buckets.append(("+Inf", float(len(values))))
    return buckets


def _le(bound: float) -> str:
    return repr(float(bound))
