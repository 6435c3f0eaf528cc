"""Names of the facts (`ctx.set_fact(key, value)`) that the engine itself reads.

Facts are small JSON values that steps share; the engine journals each one and restores them on
resume. The report reads these:

- `rpo.data_loss_window_seconds.<database>` (float, seconds): how much acknowledged writes the
  promotion of `<database>` may have lost, i.e. the replica's lag when it was promoted (0 for a
  planned switchover that waited for the replica to catch up). The report's
  `rpo.data_loss_window_seconds` is the largest of these; without any, it is null (unknown).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

RPO_WINDOW_PREFIX = "rpo.data_loss_window_seconds."


def rpo_window_fact(database: str) -> str:
    """The fact key under which a runbook records `database`'s data-loss window."""
    return RPO_WINDOW_PREFIX + database


def rpo_windows(facts: Mapping[str, Any]) -> dict[str, float]:
    """Every recorded data-loss window, by database name."""
    out: dict[str, float] = {}
    for key, value in facts.items():
        if key.startswith(RPO_WINDOW_PREFIX) and isinstance(value, int | float):
            out[key[len(RPO_WINDOW_PREFIX):]] = float(value)
    return out
