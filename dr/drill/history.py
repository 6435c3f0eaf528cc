"""Saved drill reports (Markdown and JSON, one directory per run under the state dir) and the history of
past drills: achieved RTO and RPO per drill, and their trend."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPORT_JSON = "drill-report.json"
REPORT_MD = "drill-report.md"
TREND_TOLERANCE = 0.05
"""RTO changes within 5 % count as steady."""


def drills_dir(state: Path | None = None) -> Path:
    from dr.engine.env import state_dir

    return (state or state_dir()) / "drills"


def save(report: Mapping[str, Any], markdown: str, state: Path | None = None) -> tuple[Path, Path]:
    """Write the drill's JSON and Markdown reports atomically; return their paths."""
    from dr.engine.env import state_dir
    from dr.engine.files import private_dir

    root = state or state_dir()
    folder = private_dir(drills_dir(root) / str(report["run_id"]), under=root)
    json_path, md_path = folder / REPORT_JSON, folder / REPORT_MD
    _atomic_write(json_path, json.dumps(report, indent=2, default=str) + "\n")
    _atomic_write(md_path, markdown)
    return json_path, md_path


def _atomic_write(path: Path, text: str) -> None:
    from dr.engine.files import open_private

    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.unlink(missing_ok=True)  # a leftover (or a planted link): never written through
    with os.fdopen(open_private(tmp, os.O_WRONLY | os.O_EXCL), "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def load_all(state: Path | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    """Every saved drill report, oldest first, and the files that could not be read."""
    reports: list[dict[str, Any]] = []
    unreadable: list[str] = []
    folder = drills_dir(state)
    for path in sorted(folder.glob(f"*/{REPORT_JSON}")) if folder.is_dir() else []:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(document, dict) and "run_id" in document:
                reports.append(document)
                continue
        except (OSError, ValueError):
            pass
        unreadable.append(str(path))
    reports.sort(key=lambda r: str(r.get("started_at", "")))
    return reports, unreadable


@dataclass(frozen=True)
class HistoryRow:
    run_id: str
    started_at: str
    mode: str
    target: str
    status: str
    rto_seconds: float | None
    rto_target_seconds: float
    rto_met: bool | None
    rpo_seconds: float | None
    rpo_target_seconds: float
    rpo_met: bool | None
    rto_change: str
    """Against the previous drill of the same target and mode that measured an RTO: better, worse, steady, first."""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def rows(reports: Sequence[Mapping[str, Any]]) -> list[HistoryRow]:
    out: list[HistoryRow] = []
    previous: dict[tuple[str, str], float] = {}
    for r in reports:
        mode = str((r.get("drill") or {}).get("mode", r.get("mode", "")))
        key = (str(r.get("target")), mode)
        rto, rpo = r.get("rto") or {}, r.get("rpo") or {}
        achieved = rto.get("elapsed_seconds")
        change = "n/a"
        if achieved is not None:
            change = _change(previous.get(key), float(achieved))
            previous[key] = float(achieved)
        out.append(HistoryRow(
            str(r["run_id"]), str(r.get("started_at", "")), mode, str(r.get("target", "")), str(r.get("status", "")),
            achieved, float(rto.get("target_seconds") or 0.0), rto.get("met"),
            rpo.get("data_loss_window_seconds"), float(rpo.get("target_seconds") or 0.0), rpo.get("met"), change))
    return out


def _change(before: float | None, now: float) -> str:
    if before is None:
        return "first"
    if abs(now - before) <= TREND_TOLERANCE * max(before, 1e-9):
        return "steady"
    return "better" if now < before else "worse"


def trend(history: Sequence[HistoryRow]) -> str:
    """improving / worsening / steady over the measured drills (first half vs second half), else n/a."""
    measured = [r.rto_seconds for r in history if r.rto_seconds is not None]
    if len(measured) < 2:
        return "n/a"
    half = len(measured) // 2
    early = sum(measured[:half]) / half
    late = sum(measured[half:]) / (len(measured) - half)
    change = _change(early, late)
    return {"better": "improving", "worse": "worsening"}.get(change, "steady")


def render_table(history: Sequence[HistoryRow]) -> str:
    if not history:
        return "no drills recorded yet (run `drctl drill --to ENV`)\n"
    header = ("run id", "started", "mode", "target", "status", "RTO (target)", "RPO (target)", "RTO vs previous")
    body = [(r.run_id, r.started_at, r.mode, r.target, r.status,
             f"{_num(r.rto_seconds)} ({r.rto_target_seconds:.0f}) {_mark(r.rto_met)}".rstrip(),
             f"{_num(r.rpo_seconds)} ({r.rpo_target_seconds:.0f}) {_mark(r.rpo_met)}".rstrip(), r.rto_change)
            for r in history]
    widths = [max(len(str(row[i])) for row in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in [header, *body]]
    return "\n".join(lines) + f"\ntrend of achieved RTO: {trend(history)}\n"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


def _mark(met: bool | None) -> str:
    return {True: "met", False: "MISSED"}.get(met, "") if met is not None else ""
