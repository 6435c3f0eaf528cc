"""Write a topology as a YAML file that `drctl config validate` accepts: the sandbox's matching config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dr.config.model import Topology

_QUIET_WHEN_DEFAULT = ("aws", "state")
"""Sections left out of the file while they hold only defaults (the file stays close to the original)."""

HEADER = (
    "# Written by drctl sandbox: the topology with the sandbox's real hosted-zone and health-check ids\n"
    "# (and a role in its account for each environment that had none).\n"
)


def to_yaml(topology: Topology, header: str = HEADER) -> str:
    import yaml

    document: dict[str, Any] = _tidy(topology.model_dump(mode="json", exclude_none=True))
    for section in _QUIET_WHEN_DEFAULT:
        if getattr(topology, section) == type(getattr(topology, section))():
            document.pop(section, None)
    return header + yaml.safe_dump(document, sort_keys=False, default_flow_style=False, width=120)


def write_topology(topology: Topology, path: str | Path, header: str = HEADER) -> Path:
    """Write `topology` to `path` (parents created), atomically; returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(to_yaml(topology, header), encoding="utf-8")
    tmp.replace(target)
    return target


def _tidy(value: Any) -> Any:
    """Whole-number floats (durations in seconds) as integers, so the file reads `rto: 900`."""
    if isinstance(value, dict):
        return {k: _tidy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tidy(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
