"""Names of the facts (`ctx.set_fact(key, value)`) that the engine itself reads.

Facts are small JSON values that steps share; the engine journals each one and restores them on
resume. The report reads these:

- `rpo.data_loss_window_seconds.<database>` (float, seconds): how much acknowledged writes the
  promotion of `<database>` may have lost, i.e. the replica's lag when it was promoted (0 for a
  planned switchover that waited for the replica to catch up). The report's
  `rpo.data_loss_window_seconds` is the largest of these; without any, it is null (unknown). A fact
  recorded as null means that database's window is unknown (lag -1 or no datapoint, passed with
  --accept-data-loss): the report's window and its `met` are then null too.
- `advice.<key>` (str): something the operator must do even when the run succeeded (e.g. "orders-db in
  eu-central-1 is NOT fenced: run `drctl fence --env prod` as soon as its region answers"). The report's
  `next_action` lists every advice after its usual text, and `advice` holds them as a list.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
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


def rpo_unknown(facts: Mapping[str, Any]) -> list[str]:
    """Databases whose window fact is recorded as null: unknown (lag -1 or no datapoint, passed knowingly)."""
    return sorted(key[len(RPO_WINDOW_PREFIX):] for key, value in facts.items()
                  if key.startswith(RPO_WINDOW_PREFIX) and value is None)


ADVICE_PREFIX = "advice."


def advice_fact(key: str) -> str:
    """The fact key of one piece of advice for the operator (set it to None to withdraw it)."""
    return ADVICE_PREFIX + key


def advices(facts: Mapping[str, Any]) -> list[str]:
    """Every standing piece of advice, in key order."""
    return [str(facts[k]) for k in sorted(facts) if k.startswith(ADVICE_PREFIX) and facts[k]]


DNS_ANSWERED_PREFIX = "dns.answered."
"""Per record (`dns.answered.<fqdn>`): when its answer changed to the target (`at`, ISO 8601: the change was INSYNC,
or the routing control update was accepted), its `ttl`, and `how` — when clients have followed is `at` + `ttl`."""


def answered_fact(fqdn: str) -> str:
    return f"{DNS_ANSWERED_PREFIX}{fqdn}"


def dns_answers(facts: Mapping[str, Any]) -> list[tuple[datetime, float]]:
    """(when the answer changed, the record's TTL) of every record a run moved."""
    from dr.clock import parse_iso

    out = []
    for key, value in facts.items():
        if key.startswith(DNS_ANSWERED_PREFIX) and isinstance(value, dict) and value.get("at"):
            out.append((parse_iso(str(value["at"])), float(value.get("ttl", 0))))
    return out
