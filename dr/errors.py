"""The one error hierarchy of drctl: every expected failure is a DrError with a user-facing message."""

from __future__ import annotations


class DrError(Exception):
    """Base of every expected drctl failure; `str(err)` is what the operator reads."""

    exit_code = 1


class ConfigError(DrError):
    """The topology file is missing, unreadable or invalid (exit 2, nothing touched)."""

    exit_code = 2

    def __init__(self, message: str, findings: list[object] | None = None) -> None:
        super().__init__(message)
        self.findings = findings or []


class UsageError(DrError):
    """The command line asks for something impossible (exit 2, nothing touched)."""

    exit_code = 2


class GateRefused(DrError):
    """A safety gate refused the run: RPO exceeded, DR side not ready, declined (exit 3, nothing touched)."""

    exit_code = 3


class LockHeld(GateRefused):
    """Another run holds the lock for this source/target pair (exit 3)."""


class AwsCallError(DrError):
    """An AWS call failed in a way the caller should report (not retried any further)."""

    def __init__(self, message: str, *, code: str = "", retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


class StepFailed(DrError):
    """A runbook step failed; the journal and the report say which, and what to do next."""


class Interrupted(DrError):
    """The run was interrupted by a signal; the journal is consistent and `drctl resume` continues."""

    exit_code = 130
