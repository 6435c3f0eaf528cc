"""Every Prometheus metric name, label set and bucket list drctl emits: alerts and dashboards depend on them.

Names follow Prometheus conventions: base units (seconds), `_total` for counters, `_info` for
constant-1 gauges that carry labels. docs/reference.md is the public list; this module is its code form.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricName:
    """One metric: its exposition name, help text and label names (in exposition order)."""

    name: str
    help: str
    labels: tuple[str, ...] = ()


# Exporter: the live view of the topology, refreshed from AWS in the background.
REPLICATION_LAG = MetricName(
    "drctl_replication_lag_seconds",
    "Replication lag in seconds of the copy that replicates from the current writer (the direction follows "
    "failovers); -1 means AWS reports replication not running.",
    ("database", "source_region", "replica_region"))
LAG_SAMPLE_AGE = MetricName(
    "drctl_replication_lag_sample_age_seconds",
    "Age of the newest replication-lag datapoint in seconds (+Inf when none was ever read).",
    ("database",))
RPO_TARGET = MetricName("drctl_rpo_target_seconds", "Recovery point objective of the topology in seconds.")
RTO_TARGET = MetricName("drctl_rto_target_seconds", "Recovery time objective of the topology in seconds.")
WRITERS = MetricName(
    "drctl_writers",
    "Writable copies of the database (exist, replicate from nothing, serve, not fenced); above 1 is a split-brain "
    "risk.", ("database",))
REPLICATION_UP = MetricName(
    "drctl_replication_up",
    "1 when a copy in another region replicates from the current writer (replicating, lag >= 0), else 0.",
    ("database",))
READINESS_OK = MetricName(
    "drctl_readiness_ok", "1 when every resource of this readiness check of the environment is ready, else 0.",
    ("env", "check"))
HEALTH_CHECK_HEALTHY = MetricName(
    "drctl_health_check_healthy", "1 when the Route53 health check reports healthy, else 0.",
    ("env", "health_check"))
ACTIVE_SITE = MetricName(
    "drctl_active_site", "1 for the environment the DNS record currently sends traffic to, 0 for its other sides.",
    ("record", "env"))
ACTIVE_SITE_INFO = MetricName(
    "drctl_active_site_info", "Deprecated (use drctl_active_site == 1; removed in the next release): always 1, "
    "the environment the DNS record currently sends traffic to.", ("record", "env"))
DRILL_TARGET_INFO = MetricName(
    "drctl_drill_target_info", "Always 1: an environment of the topology that drills must exercise (a DR side).",
    ("target",))
PLAN_CHECK_OK = MetricName(
    "drctl_plan_check_ok", "1 when this plan-evaluation check passed for the target environment, else 0 "
    "(drctl plan evaluate; re-run every --evaluate-interval).", ("check", "env"))
PLAN_CHECK_INFO = MetricName(
    "drctl_plan_check_info", "Always 1: why the plan-evaluation check passed or failed (reason truncated to "
    "200 characters; one series per check and env).", ("check", "env", "reason"))
PLAN_EVALUATION_TIMESTAMP = MetricName(
    "drctl_plan_evaluation_timestamp_seconds", "Unix time of the last completed plan evaluation.")
DR_BACKUP_AGE = MetricName(
    "drctl_dr_backup_age_seconds", "Age in seconds of the newest restorable copy of the database in its DR region "
    "(RDS automated-backup replication or AWS Backup, as dr_backup names).", ("database", "region"))
DR_BACKUP_MAX_AGE = MetricName(
    "drctl_dr_backup_max_age_seconds", "The configured maximum age (dr_backup max_age) of the database's newest "
    "restorable copy in its DR region, in seconds.", ("database",))
BUILD_INFO = MetricName("drctl_build_info", "Always 1: the drctl version of this exporter.", ("version",))
EXPORTER_ERRORS = MetricName(
    "drctl_exporter_errors_total", "Failed reads of AWS by the exporter's refresher, per source.", ("source",))
EXPORTER_LAST_REFRESH = MetricName(
    "drctl_exporter_last_refresh_timestamp_seconds",
    "Unix time of the last refresh in which every source was read without error.")
EXPORTER_SOURCE_LAST_SUCCESS = MetricName(
    "drctl_exporter_source_last_success_timestamp_seconds",
    "Unix time of the last successful read of this source.", ("source",))
EXPORTER_REFRESH_DURATION = MetricName(
    "drctl_exporter_refresh_duration_seconds", "Wall time the last refresh took, in seconds.")

# Run metrics: pushed to a Pushgateway and/or written to a node-exporter textfile after each run.
STEP_DURATION = MetricName(
    "drctl_step_duration_seconds", "Duration of runbook steps in seconds.", ("runbook", "step", "outcome"))
STEP_BUDGET = MetricName(
    "drctl_step_budget_seconds", "Time budget of a runbook step in seconds (for comparing with durations).",
    ("runbook", "step"))
RUN_DURATION = MetricName(
    "drctl_run_duration_seconds", "Duration of the last run in seconds.", ("runbook", "target", "outcome"))
RUN_LAST_SUCCESS = MetricName(
    "drctl_run_last_success_timestamp_seconds", "Unix time the last successful run finished.",
    ("runbook", "target"))
DRILL_LAST_SUCCESS = MetricName(
    "drctl_drill_last_success_timestamp_seconds", "Unix time the last successful DR drill finished.",
    ("target",))

STEP_DURATION_BUCKETS: tuple[float, ...] = (
    1.0, 2.5, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 180.0, 300.0, 450.0, 600.0, 900.0)
"""Step-duration buckets in seconds, up to and including 900 (the default RTO): +Inf is added on top."""

PUSHGATEWAY_JOB = "drctl"
"""The `job` of the Pushgateway grouping key; the key is (job, runbook, target)."""

PUSHGATEWAY_ENV_VAR = "DRCTL_PUSHGATEWAY"
"""Default Pushgateway URL when no explicit one is given."""
PUSHGATEWAY_USERNAME_ENV_VAR = "DRCTL_PUSHGATEWAY_USERNAME"
"""Basic-auth user for the Pushgateway (else the URL's user:password@)."""
PUSHGATEWAY_PASSWORD_ENV_VAR = "DRCTL_PUSHGATEWAY_PASSWORD"
"""Basic-auth password for the Pushgateway; never printed."""

BROKEN_LAG = -1.0
"""The lag value that means replication is not running (as AWS publishes it)."""

# Sources of the exporter's refresher, the values of `drctl_exporter_errors_total{source}`.
SOURCE_LAG = "lag"
SOURCE_READINESS = "readiness"
SOURCE_HEALTH = "health"
SOURCE_DNS = "dns"
SOURCE_WRITERS = "writers"
"""Writable copies and replication from the current writer (drctl_writers, drctl_replication_up)."""
SOURCE_PLAN = "plan"
"""Plan evaluation, on its own schedule (--evaluate-interval): counted in errors, not read by the refresher."""
SOURCES: tuple[str, ...] = (SOURCE_LAG, SOURCE_READINESS, SOURCE_HEALTH, SOURCE_DNS, SOURCE_WRITERS)
ERROR_SOURCES: tuple[str, ...] = (*SOURCES, SOURCE_PLAN)
PLAN_REASON_MAX_CHARS = 200
"""Longer reasons are cut (the full text is in `drctl plan evaluate`): label values stay small."""

EXPORTER_METRICS: tuple[MetricName, ...] = (
    REPLICATION_LAG, LAG_SAMPLE_AGE, RPO_TARGET, RTO_TARGET, WRITERS, REPLICATION_UP, READINESS_OK,
    HEALTH_CHECK_HEALTHY, ACTIVE_SITE, ACTIVE_SITE_INFO, DRILL_TARGET_INFO, PLAN_CHECK_OK, PLAN_CHECK_INFO,
    PLAN_EVALUATION_TIMESTAMP, DR_BACKUP_AGE, DR_BACKUP_MAX_AGE, BUILD_INFO, EXPORTER_ERRORS,
    EXPORTER_LAST_REFRESH, EXPORTER_SOURCE_LAST_SUCCESS,
    EXPORTER_REFRESH_DURATION)
RUN_METRICS: tuple[MetricName, ...] = (STEP_DURATION, STEP_BUDGET, RUN_DURATION, RUN_LAST_SUCCESS, DRILL_LAST_SUCCESS)
