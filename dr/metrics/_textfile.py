"""Merge a run's families into a node-exporter textfile, atomically, keeping what other runs wrote.

One file holds every runbook and target: a run replaces only its own series (same runbook and target)
of the families it writes. A failed run does not write last-success families, so those survive.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

GROUP_LABELS = ("runbook", "target")


def merge_textfile(path: Path, families: list[Metric], group: Mapping[str, str]) -> None:
    """Write `families` into the textfile at `path`, replacing the previous series of `group` among them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path):
        old = _read(path)
        merged = _merge(old, families, group)
        _write_atomically(path, generate_latest(_Static(merged)))


def _read(path: Path) -> list[Metric]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return list(text_string_to_metric_families(text))


def _belongs_to(labels: Mapping[str, str], group: Mapping[str, str]) -> bool:
    """A sample belongs to the group when every group label it carries has the group's value."""
    return all(labels[key] == value for key, value in group.items() if key in labels)


def _merge(old: list[Metric], new: list[Metric], group: Mapping[str, str]) -> list[Metric]:
    replaced = {family.name for family in new}
    by_name: dict[str, Metric] = {}
    for family in old:
        kept = [s for s in family.samples if family.name not in replaced or not _belongs_to(s.labels, group)]
        if kept:
            by_name[family.name] = _family_like(family, kept)
    for family in new:
        if family.name in by_name:
            by_name[family.name].samples.extend(family.samples)
        else:
            by_name[family.name] = family
    return [by_name[name] for name in sorted(by_name)]


def _family_like(family: Metric, samples: list[Sample]) -> Metric:
    copy = Metric(family.name, family.documentation, family.type, family.unit)
    copy.samples = list(samples)
    return copy


class _Static:
    """A collector that yields fixed families (for `generate_latest`)."""

    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        yield from self._families


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialise writers of the same textfile (two runs finishing together must not lose each other)."""
    lock_path = path.with_name(path.name + ".lock")
    with open(lock_path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temp file in the same directory, then rename: node-exporter never reads half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def new_registry(families: list[Metric]) -> CollectorRegistry:
    """A per-call registry holding exactly `families`."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Static(families))
    return registry
