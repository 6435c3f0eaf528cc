"""How drill resources are named and tagged, so that cleanup finds every one of them by tag alone."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

RUN_ID_TAG = "drctl:run-id"
DRILL_TAG = "drctl:drill"
DATABASE_TAG = "drctl:database"
DRILL_TAG_VALUE = "true"

_IDENT_BAD = re.compile(r"[^a-z0-9-]+")
_HYPHENS = re.compile(r"-{2,}")
MAX_IDENT = 63
"""RDS identifiers: 1-63 letters, digits or hyphens, a letter first, no `--`, no trailing hyphen."""


def drill_tags(run_id: str, database: str) -> list[dict[str, str]]:
    """The tags every resource a drill creates carries (RDS tag list shape)."""
    return [
        {"Key": RUN_ID_TAG, "Value": run_id},
        {"Key": DRILL_TAG, "Value": DRILL_TAG_VALUE},
        {"Key": DATABASE_TAG, "Value": database},
    ]


def tag_map(tag_list: Iterable[Mapping[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tag_list or () if "Key" in t and "Value" in t}


def is_drill_resource(tags: Mapping[str, str], run_id: str | None = None) -> bool:
    """True for a resource a drill created (of `run_id`, when given)."""
    if tags.get(DRILL_TAG) != DRILL_TAG_VALUE or RUN_ID_TAG not in tags:
        return False
    return run_id is None or tags[RUN_ID_TAG] == run_id


def clone_id(database: str, run_id: str) -> str:
    """A deterministic, valid RDS identifier for the drill clone of `database` in run `run_id`.

    Deterministic so that a resumed drill and `drctl drill cleanup` find the same clone.
    """
    suffix = _clean(run_id)[-20:].strip("-") or "run"
    head = _clean(database)[: MAX_IDENT - len("drill--") - len(suffix)].strip("-") or "db"
    return _clean(f"drill-{head}-{suffix}")


def writer_id(cluster_id: str) -> str:
    """The writer instance the drill adds to an Aurora clone cluster."""
    return _clean(f"{cluster_id[: MAX_IDENT - 2]}-w")


def _clean(text: str) -> str:
    ident = _HYPHENS.sub("-", _IDENT_BAD.sub("-", text.lower())).strip("-")
    if not ident or not ident[0].isalpha():
        ident = "d" + ident
    return ident[:MAX_IDENT].rstrip("-")
