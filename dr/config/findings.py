"""A finding of config validation: where, what is wrong, how to fix it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Literal, TypeVar

T = TypeVar("T")

MAX_FINDINGS_SHOWN = 50
"""A hostile or wrong file can hold hundreds of thousands of problems: the first ones are what to fix."""
MAX_NAMES_SHOWN = 20


@dataclass(frozen=True)
class Finding:
    path: str
    message: str
    hint: str = ""
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        text = f"{self.severity}: {self.path or '<file>'}: {self.message}"
        return f"{text}\n  fix: {self.hint}" if self.hint else text

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def dotted(loc: tuple[int | str, ...]) -> str:
    """('databases', 2, 'replica', 'env') -> 'databases[2].replica.env'."""
    out = ""
    for part in loc:
        if part == "[key]":  # pydantic's marker for an invalid mapping key: the key itself is the path's end
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def first(items: Sequence[T], limit: int = MAX_FINDINGS_SHOWN) -> tuple[Sequence[T], int]:
    """The first `limit` items and how many more there are."""
    return items[:limit], max(0, len(items) - limit)


def more_line(hidden: int, what: str = "finding") -> str:
    """The line that stands for the items not shown."""
    return f"... and {hidden:,} more {what}{'s' if hidden != 1 else ''} not shown: fix these first"


def name_list(names: Iterable[object], limit: int = MAX_NAMES_SHOWN) -> str:
    """`a, b, c` for a hint, cut after `limit` names with how many more ("... and 12 more"). Names are shown as
    text: a hostile file can make them numbers or booleans."""
    ordered = sorted({str(name) for name in names})
    shown = ", ".join(ordered[:limit])
    return f"{shown}, ... and {len(ordered) - limit:,} more" if len(ordered) > limit else shown
