"""How long a promotion may take before its step fails: per engine by default, per database in the topology.

AWS: promoting a read replica "can take several minutes or longer to complete, depending on the size of the read
replica" (Aurora User Guide, "Promoting a read replica to a DB cluster for Aurora MySQL"); an RDS instance is
rebooted and takes a backup around its promotion (RDS API Reference, PromoteReadReplica), so it gets the most.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, TypeAdapter, ValidationError

from dr.config.durations import format_duration, parse_duration

MAX_PROMOTION_BUDGET = 86400.0
"""A day: a larger budget is a typo (a run would wait that long on one promotion)."""

DEFAULT_PROMOTION_BUDGETS: dict[str, float] = {
    "rds-instance": 600.0,
    "aurora-cluster": 480.0,
    "aurora-global": 480.0,
}
"""Seconds per engine (keys are `Engine` values): 10 min for an RDS instance (rebooted, with a backup around its
promotion), 8 min for an Aurora replica cluster or global database. Chosen so that the default failover's steps
along the critical path (prechecks 60 s, RPO gate 60 s, promotion, DNS/confirm 120 s) fit the default RTO of 15
min, as `drctl plan` shows; a larger database sets its own `promotion_budget`."""


def _sensible(seconds: float) -> float:
    if seconds <= 0:
        raise ValueError("a promotion budget must be longer than zero (AWS promotions take minutes); write e.g. 20m")
    if seconds > MAX_PROMOTION_BUDGET:
        raise ValueError(f"a promotion budget of {format_duration(seconds)} is more than a day: a run would wait "
                         "that long on one promotion; write e.g. 30m")
    return seconds


PromotionBudget = Annotated[float, BeforeValidator(parse_duration), AfterValidator(_sensible)]
"""A duration longer than zero and at most a day, in any form `dr.config.durations` accepts."""

_BUDGET = TypeAdapter(PromotionBudget)


def fill_engine_budgets(data: Any) -> Any:
    """The raw topology with `promotion_budgets.<engine>` copied into each database of that engine that has no
    `promotion_budget` of its own. An invalid engine budget is not copied (it is reported once, where written)."""
    if not isinstance(data, Mapping) or not isinstance(data.get("databases"), list):
        return data
    valid = engine_budgets(data.get("promotion_budgets"))
    filled = [
        {**db, "promotion_budget": valid[db["engine"]]}
        if isinstance(db, Mapping) and "promotion_budget" not in db and isinstance(db.get("engine"), str)
        and db["engine"] in valid
        else db
        for db in data["databases"]
    ]
    return {**data, "databases": filled}


def engine_budgets(raw: object) -> dict[str, float]:
    """The valid entries of a raw `promotion_budgets` mapping, in seconds (invalid ones are left out)."""
    if not isinstance(raw, Mapping):
        return {}
    out: dict[str, float] = {}
    for engine, value in raw.items():
        if engine not in DEFAULT_PROMOTION_BUDGETS:
            continue
        try:
            out[str(engine)] = _BUDGET.validate_python(value)
        except ValidationError:
            continue
    return out
