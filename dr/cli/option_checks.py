"""Validate the run options and the environment hooks before anything runs: exit 2 naming the option and a fix.

Every check here is cheap and local (no AWS call, nothing written), so a mistyped option is refused before the
topology is even read and long before a lock is taken or a step runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path

from dr.errors import UsageError

INCIDENT_MAX_AGE = timedelta(days=7)
"""An incident older than a week is a typo (a wrong year, month or day), not an RTO clock to start."""
CLOCK_SKEW = timedelta(minutes=1)
"""How far in the future --incident-start may be: the operator's clock and this machine's may differ a little."""
INCIDENT_EXAMPLE = "2026-12-05T03:12:00Z"


def incident_start(text: str, now: datetime) -> datetime:
    """`--incident-start`: an ISO 8601 time with an explicit zone, not in the future, at most 7 days ago."""
    fix = f"write it with a zone, e.g. {INCIDENT_EXAMPLE} (UTC) or 2026-12-05T04:12:00+01:00"
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--incident-start {text!r} is not an ISO 8601 time: {fix}") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise UsageError(f"--incident-start {text!r} has no time zone (it would be read as this machine's guess): "
                         f"{fix}")
    try:
        age = now - parsed
    except OverflowError:
        raise UsageError(f"--incident-start {text!r} is out of range: {fix}") from None
    if age < -CLOCK_SKEW:
        raise UsageError(f"--incident-start {text!r} is in the future (now is {now:%Y-%m-%dT%H:%M:%SZ}): "
                         "give the time the incident began")
    if age > INCIDENT_MAX_AGE:
        raise UsageError(f"--incident-start {text!r} is more than {INCIDENT_MAX_AGE.days} days ago (now is "
                         f"{now:%Y-%m-%dT%H:%M:%SZ}): check the date; the RTO clock starts at the incident")
    return parsed


def outage_regions(option: Iterable[str], environ: Mapping[str, str] | None = None) -> set[str]:
    """`--simulate-outage` values and `$DRCTL_SIMULATE_OUTAGE` (comma-separated): each a region AWS has."""
    from dr.aws.faults import OUTAGE_ENV_VAR
    from dr.config.regions import known_regions, region_hint

    env = os.environ if environ is None else environ
    sources = [("--simulate-outage", r) for r in option]
    sources += [(f"${OUTAGE_ENV_VAR}", r) for r in env.get(OUTAGE_ENV_VAR, "").split(",")]
    chosen: set[str] = set()
    for where, raw in sources:
        from_env = where.startswith("$")
        region = raw.strip() if from_env else raw  # "a, b" in the variable is a list; an option value is exact
        if not region and from_env:
            continue  # "a,,b" or an empty variable: nothing named
        if region not in known_regions():
            raise UsageError(f"{where} {raw!r} is not an AWS region: {region_hint(region)}")
        chosen.add(region)
    return chosen


def port(value: int, option: str = "--port") -> int:
    if not 1 <= value <= 65535:
        raise UsageError(f"{option} {value} is not a TCP port: use 1 to 65535 (e.g. 9877)")
    return value


def pushgateway(url: str | None) -> str | None:
    """`--pushgateway` / `$DRCTL_PUSHGATEWAY`: an http(s) URL with a host (credentials allowed, never shown)."""
    if url is None:
        return None
    from dr.metrics.pushgateway import PushTarget

    try:
        PushTarget.parse(url)
    except ValueError as err:
        raise UsageError(f"--pushgateway: {err}") from None
    return url


def metrics_file(path: str | None) -> Path | None:
    """`--metrics-file`: a file (or a name to create) in an existing, writable directory."""
    if path is None:
        return None
    target = Path(path)
    fix = "name a file in an existing directory you can write to (node-exporter's textfile directory)"
    if not path.strip() or "\0" in path or path.endswith("/"):
        raise UsageError(f"--metrics-file {path!r} is not a file name: {fix}")
    try:
        if target.is_dir():
            raise UsageError(f"--metrics-file {path!r} is a directory: {fix}, e.g. {target / 'drctl.prom'}")
        if target.exists() and not (target.is_file() and os.access(target, os.W_OK)):
            raise UsageError(f"--metrics-file {path!r} exists and is not a writable regular file: {fix}")
        parent = target.parent
        if not parent.is_dir():
            raise UsageError(f"--metrics-file {path!r}: directory {str(parent)!r} does not exist: {fix}")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise UsageError(f"--metrics-file {path!r}: directory {str(parent)!r} is not writable: {fix}")
    except OSError as err:  # a name too long, a loop of symlinks: still the operator's to fix
        raise UsageError(f"--metrics-file {path!r}: {err.strerror or err}: {fix}") from None
    return target


def environment_hooks() -> None:
    """Parse every environment hook now, so that a bad value is exit 2 before the run, not a failure in it."""
    from dr.aws.dns_answers import verify_mode
    from dr.engine.env import kill_after_events, max_concurrency

    kill_after_events()
    max_concurrency()
    verify_mode()
