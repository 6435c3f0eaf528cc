"""Find and load the topology file: --config, else $DRCTL_CONFIG, else ./dr.yaml."""

from __future__ import annotations

import os
import stat
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
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping", node.start_mark, "a key that is a list or a mapping",
                key_node.start_mark) from None
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping", node.start_mark,
                f"duplicate key {key!r} (first on line {seen[key] + 1})", key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


MAX_CONFIG_BYTES = 10 * 1024 * 1024
"""A topology is kilobytes (seed scale: ~200 KB); a bigger file is a wrong path or hostile, not a topology."""
MAX_ALIASES = 100
"""YAML aliases allowed in one file: the example uses none; thousands expand into a "billion laughs"."""


def read_document(path: Path) -> object:
    """The parsed YAML of `path`; unreadable or malformed files raise ConfigError naming the line."""
    text = _read_text(path)
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else _reader_position(err)
        problem = getattr(err, "problem", None) or getattr(err, "reason", None) or str(err)
        raise ConfigError(f"{path} is not valid YAML at {where}: {problem}",
                          [Finding(where, f"YAML syntax: {problem}", "fix the YAML at that position")]) from None
    except (ValueError, OverflowError) as err:  # a value YAML cannot build: an int of 5,000 digits, 2026-13-45
        raise ConfigError(f"{path} has a value that cannot be read: {err}",
                          [Finding(str(path), f"unreadable value: {err}", "write that value as a quoted string "
                                                                          "or correct it")]) from None
    except RecursionError:
        raise ConfigError(f"{path} nests too deeply to be a topology",
                          [Finding(str(path), "YAML nested too deeply", "check that --config names your dr.yaml")]
                          ) from None


def _reader_position(err: yaml.YAMLError) -> str:
    position = getattr(err, "position", None)  # the reader's errors (control characters) carry no mark
    return f"character {position + 1}" if isinstance(position, int) else "unknown position"


def _read_text(path: Path) -> str:
    """The file's text: a regular file (never a FIFO, device or directory), at most MAX_CONFIG_BYTES, UTF-8."""
    data = _read_bytes(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        problem = f"not UTF-8 text: byte {data[err.start]:#04x} at byte offset {err.start} (line {line})"
        raise ConfigError(f"{path} is {problem}",
                          [Finding(str(path), problem, "save the topology file as UTF-8 text, or check that "
                                                       "--config names your dr.yaml")]) from None
    aliases = _alias_count(text)
    if aliases > MAX_ALIASES:
        raise ConfigError(f"{path} uses {aliases} YAML aliases (at most {MAX_ALIASES})",
                          [Finding(str(path), f"{aliases} YAML aliases (*name), at most {MAX_ALIASES}",
                                   "write the values out")])
    return text


def _read_bytes(path: Path) -> bytes:
    # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it before any read.
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ConfigError(
            f"no topology file at {path}",
            [Finding(str(path), "file not found",
                     f"pass --config PATH, set ${CONFIG_ENV_VAR}, or create ./{DEFAULT_CONFIG}")],
        ) from None
    except OSError as err:
        raise _unreadable(path, err) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        kind = _kind(info.st_mode)
        raise ConfigError(f"{path} is {kind}, not a regular file",
                          [Finding(str(path), f"{kind}, not a regular file",
                                   "pass --config the path of your dr.yaml file")])
    with os.fdopen(fd, "rb") as handle:
        if info.st_size > MAX_CONFIG_BYTES:
            raise _too_big(path, info.st_size)
        try:
            data = handle.read(MAX_CONFIG_BYTES + 1)  # the size may have grown since fstat: never read more
        except OSError as err:
            raise _unreadable(path, err) from None
    if len(data) > MAX_CONFIG_BYTES:
        raise _too_big(path, len(data))
    return data


def _too_big(path: Path, size: int) -> ConfigError:
    problem = f"{size:,} bytes or more, larger than the {MAX_CONFIG_BYTES // 2**20} MB limit for a topology file"
    hint = "check that --config names your dr.yaml (a topology is kilobytes)"
    return ConfigError(f"{path} is {problem}", [Finding(str(path), problem, hint)])


def _unreadable(path: Path, err: OSError) -> ConfigError:
    reason = err.strerror or str(err)
    return ConfigError(f"cannot read {path}: {reason}",
                       [Finding(str(path), f"cannot read: {reason}", "check the path and permissions")])


def _kind(mode: int) -> str:
    for test, kind in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "a special file"


def _alias_count(text: str) -> int:
    """How many alias events the YAML has (0 for text that does not even scan: the parser reports that)."""
    if "*" not in text:
        return 0
    count = 0
    try:
        for token in yaml.scan(text, Loader=_SafeLoader):
            count += isinstance(token, yaml.AliasToken)
    except yaml.YAMLError:
        return count
    return count


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
