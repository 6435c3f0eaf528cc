"""The environment variables the engine and the run commands read, in one place."""

from __future__ import annotations

import os
from pathlib import Path

STATE_DIR_ENV_VAR = "DRCTL_STATE_DIR"
"""Local journal and lock directory (default: $XDG_STATE_HOME/drctl, else ~/.local/state/drctl)."""
RUNBOOK_MODULES_ENV_VAR = "DRCTL_RUNBOOK_MODULES"
"""Comma-separated extra modules to import so that they register runbooks (plugins, tests)."""
PUSHGATEWAY_ENV_VAR = "DRCTL_PUSHGATEWAY"
"""Default for `--pushgateway URL`."""
MAX_CONCURRENCY_ENV_VAR = "DRCTL_MAX_CONCURRENCY"
"""Caps the steps a parallel group runs at once (1 = strictly sequential: the benchmark's contrast run)."""
FAULT_KILL_AFTER_EVENTS_ENV_VAR = "DRCTL_FAULT_KILL_AFTER_JOURNAL_EVENTS"
"""FAULT INJECTION, tests only: the journal SIGKILLs its own process right after its N-th durable event."""


def state_dir() -> Path:
    """Where local journals and locks live."""
    explicit = os.environ.get(STATE_DIR_ENV_VAR)
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "state"
    return base / "drctl"


def runbook_modules() -> list[str]:
    return [m.strip() for m in os.environ.get(RUNBOOK_MODULES_ENV_VAR, "").split(",") if m.strip()]


def kill_after_events() -> int | None:
    """N from DRCTL_FAULT_KILL_AFTER_JOURNAL_EVENTS, or None when unset; anything but a whole number >= 1 is a
    usage error (exit 2)."""
    return _positive_int(FAULT_KILL_AFTER_EVENTS_ENV_VAR)


def max_concurrency() -> int | None:
    """The cap from DRCTL_MAX_CONCURRENCY, or None (each group's own limit applies); anything but a whole number
    >= 1 is a usage error (exit 2)."""
    return _positive_int(MAX_CONCURRENCY_ENV_VAR)


MAX_HOOK_VALUE = 1_000_000


def _positive_int(name: str) -> int | None:
    from dr.errors import UsageError

    raw = os.environ.get(name, "")
    value = raw.strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_HOOK_VALUE:
        raise UsageError(f"${name}={raw[:40]!r} is not a whole number from 1 to {MAX_HOOK_VALUE:,}: "
                         f"set it to one (e.g. {name}=3) or unset it")
    return int(value)
