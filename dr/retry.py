"""The one retry-policy builder: tenacity, stopped by attempts or a deadline on drctl's clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)
from tenacity.stop import stop_base

from dr.aws.errors import is_retryable
from dr.clock import Clock


@dataclass(frozen=True)
class stop_at_deadline(stop_base):  # noqa: N801 - named like tenacity's own policies
    """Stop when the next attempt could not start before `deadline` (a `clock.monotonic()` value)."""

    clock: Clock
    deadline: float

    def __call__(self, retry_state: RetryCallState) -> bool:
        upcoming = retry_state.upcoming_sleep or 0.0
        return self.clock.monotonic() + upcoming >= self.deadline


def retrying(
    *,
    clock: Clock,
    attempts: int = 5,
    deadline: float | None = None,
    initial: float = 0.2,
    maximum: float = 5.0,
    retry_on: Callable[[BaseException], bool] = is_retryable,
    before_sleep: Callable[[RetryCallState], None] | None = None,
) -> Retrying:
    """A tenacity `Retrying` that retries `retry_on` errors with jittered exponential backoff.

    It stops after `attempts`, or when the deadline (on `clock`) would be passed, whichever is first,
    and re-raises the last error. Sleeping goes through `clock`, so tests never sleep.
    """
    stop: stop_base = stop_after_attempt(attempts)
    if deadline is not None:
        stop = stop | stop_at_deadline(clock, deadline)
    return Retrying(
        stop=stop,
        # Exponential backoff from `initial`, capped at `maximum`, plus up to `initial` of jitter so that
        # parallel steps throttled together do not retry in lock-step.
        wait=wait_exponential(multiplier=initial, max=maximum) + wait_random(0, initial),
        retry=retry_if_exception(retry_on),
        sleep=clock.sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
