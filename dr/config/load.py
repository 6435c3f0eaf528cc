"""Find and load the topology file: --config, else $DRCTL_CONFIG, else ./dr.yaml."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from dr.config.findings import Finding
from dr.config.model import Topology
from dr.config.validate import validate
from dr.errors import ConfigError

CONFIG_ENV_VAR = "DRCTL_CONFIG"
DEFAULT_CONFIG = "dr.yaml"


def config_path(explicit: str | Path | None) -> Path:
    if explicit:
        return Path(explicit)
    return Path(os.environ.get(CONFIG_ENV_VAR) or DEFAULT_CONFIG)


if TYPE_CHECKING:
    _SafeLoader = yaml.SafeLoader
else:  # libyaml's parser when PyYAML has it (its wheels do): ~8x faster than the pure-Python one, which
    # made reading a seed-scale topology 0.27 s of every command's start (docs/benchmarks.md)
    _SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SafeLoader):
    """A SafeLoader that refuses duplicate keys (plain YAML silently keeps the last one)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping", node.start_mark,
                f"duplicate key {key!r} (first on line {seen[key] + 1})", key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_document(path: Path) -> object:
    """The parsed YAML of `path`; unreadable or malformed files raise ConfigError naming the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"no topology file at {path}",
            [Finding(str(path), "file not found",
                     f"pass --config PATH, set ${CONFIG_ENV_VAR}, or create ./{DEFAULT_CONFIG}")],
        ) from None
    except OSError as err:
        raise ConfigError(f"cannot read {path}: {err.strerror}",
                          [Finding(str(path), f"cannot read: {err.strerror}", "check the path and permissions")]
                          ) from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(f"{path} is not valid YAML at {where}: {problem}",
                          [Finding(where, f"YAML syntax: {problem}", "fix the YAML at that position")]) from None


def check_file(path: Path) -> tuple[Topology | None, list[Finding]]:
    """Validate a file without raising for invalid content (for `drctl config validate`)."""
    try:
        raw = read_document(path)
    except ConfigError as err:
        return None, [f for f in err.findings if isinstance(f, Finding)]
    return validate(raw)


def load(explicit: str | Path | None = None) -> Topology:
    """The validated topology, or ConfigError listing every finding."""
    path = config_path(explicit)
    model, findings = check_file(path)
    if model is None:
        errors = [f for f in findings if f.severity == "error"]
        raise ConfigError(f"{path}: {len(errors)} problem(s) in the topology file", list(findings))
    return model
