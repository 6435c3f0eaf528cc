"""Export a finished run's metrics to a Pushgateway and/or a node-exporter textfile; never fails the run.

Pushgateway: one group per (job="drctl", runbook, target), written with PUSHADD (HTTP POST), which
replaces only the metric names being pushed. A failed run pushes step durations and run duration but
no last-success gauges, so the previous success stays visible to `DRDrillOverdue` and dashboards.
Dry runs (`--dry-run`, `drill --mode dry-run`) export nothing: their steps are only planned, and they must
not overwrite a real run's numbers or count as a drill.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dr.metrics import names

if TYPE_CHECKING:
    from collections.abc import Callable

    from dr.metrics._report import RunRecord
    from dr.metrics.pushgateway import PushTarget

log = logging.getLogger(__name__)

PUSH_TIMEOUT_SECONDS = 5.0
"""A slow or dead Pushgateway must not hold a failover's exit for long."""


def export_run(report: Mapping[str, Any], *, pushgateway: str | None, metrics_file: str | None) -> None:
    """Export `report` (docs/reference.md) to `pushgateway` (default `$DRCTL_PUSHGATEWAY`) and/or `metrics_file`.

    Never raises: every failure is logged as a warning, since a metrics problem must never fail a run.
    """
    url = pushgateway or os.environ.get(names.PUSHGATEWAY_ENV_VAR) or None
    if not url and not metrics_file:
        return
    try:
        from dr.metrics._report import DRY_RUN, parse_report

        run = parse_report(report)
    except Exception as err:  # a malformed report must not break the run either
        log.warning("run metrics not exported: cannot read the run report (%s: %s)", type(err).__name__, err)
        return
    if run.mode == DRY_RUN:
        log.debug("run metrics not exported for a dry run")
        return
    if url:
        _push_guarded(run, url)
    if metrics_file:
        _guarded("textfile", metrics_file, lambda: _write(run, Path(metrics_file)))


def _guarded(kind: str, where: str, action: Callable[[], None]) -> None:
    try:
        action()
    except Exception as err:
        log.warning("run metrics not exported to %s %s: %s: %s", kind, where, type(err).__name__, err)


def _push_guarded(run: RunRecord, url: str) -> None:
    """Push, logging failures against the URL with its password redacted."""
    from dr.metrics.pushgateway import PushTarget, redact

    try:
        target = PushTarget.parse(url)
    except ValueError as err:
        log.warning("run metrics not exported to Pushgateway: %s", err)
        return
    _guarded("Pushgateway", redact(url), lambda: _push(run, target))


def _push(run: RunRecord, target: PushTarget) -> None:
    from prometheus_client import pushadd_to_gateway

    from dr.metrics._families import run_families
    from dr.metrics._textfile import new_registry

    registry = new_registry(run_families(run, now=time.time(), group_labels=False))
    pushadd_to_gateway(target.url, job=names.PUSHGATEWAY_JOB, registry=registry,
                       grouping_key={"runbook": run.runbook, "target": run.target}, timeout=PUSH_TIMEOUT_SECONDS,
                       handler=target.handler())


def _write(run: RunRecord, path: Path) -> None:
    from dr.metrics._families import run_families
    from dr.metrics._textfile import merge_textfile

    families = run_families(run, now=time.time(), group_labels=True)
    merge_textfile(path, families, {"runbook": run.runbook, "target": run.target})
