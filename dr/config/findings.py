"""A finding of config validation: where, what is wrong, how to fix it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal


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
