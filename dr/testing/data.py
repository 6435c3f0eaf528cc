"""Reading the sandbox's `data_report()` in tests: which family a database belongs to, what was lost, and
whether two copies ever took writes at once.

    report = sandbox.control.data_report()
    family = family_of(report, "orders-db")
    assert lost_writes(report, family) == 0
    assert concurrent_writer_ticks(report, family) == 0
"""

from __future__ import annotations

from typing import Any


class DataReportError(LookupError):
    """The report has no such copy or family."""


def copy(report: dict[str, Any], identifier: str, region: str | None = None) -> dict[str, Any]:
    """The live copy now named `identifier` (in `region`), else the newest copy created under that name."""
    matches = [c for c in report["copies"] if region in (None, c["region"])]
    live = [c for c in matches if c["identifier"] == identifier and not c["deleted"]]
    created = [c for c in matches if c["created_identifier"] == identifier]
    found = live or created
    if not found:
        raise DataReportError(f"no database copy {identifier!r}{f' in {region}' if region else ''} in the report")
    return dict(found[-1])


def family_of(report: dict[str, Any], identifier: str, region: str | None = None) -> str:
    """The family (copies linked by replication and promotion) of the copy named `identifier`."""
    return str(copy(report, identifier, region)["family"])


def family(report: dict[str, Any], name: str) -> dict[str, Any]:
    """A family by its name, or by the identifier of one of its copies."""
    if name not in _names(report):
        try:
            name = family_of(report, name)
        except DataReportError:
            raise DataReportError(f"no database family {name!r} in the report; families: {_names(report)}") from None
    return next(dict(item) for item in report["families"] if item["family"] == name)


def _names(report: dict[str, Any]) -> list[str]:
    return [str(item["family"]) for item in report["families"]]


def lost_writes(report: dict[str, Any], name: str) -> int:
    """Writes acknowledged on any branch of the family that are neither on the current writer's branch
    nor in its history below a fork point."""
    return int(family(report, name)["lost_writes"])


def loss_window_seconds(report: dict[str, Any], name: str) -> float:
    """Time from the first to the last lost write of the family (0 when nothing was lost)."""
    return float(family(report, name)["loss_window_seconds"])


def concurrent_writer_ticks(report: dict[str, Any], name: str) -> int:
    """How many load ticks saw more than one copy of the family accept a write (split brain)."""
    return int(family(report, name)["concurrent_writer_ticks"])


def writers(report: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The family's copies that accept writes now."""
    fam = family(report, name)["family"]
    return [c for c in report["copies"] if c["family"] == fam and c["accepts_writes"]]


def current_writer(report: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The family's current writer: the live standalone copy on its newest branch."""
    found = family(report, name)["current_writer"]
    return dict(found) if found else None
