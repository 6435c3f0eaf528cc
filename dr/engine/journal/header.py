"""The journal header (the `run-started` event): enough to rebuild the run on resume."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from dr.clock import iso, parse_iso
from dr.engine.step import RunOptions


def topology_hash(path: Path) -> str:
    """sha256 of the topology file's bytes: resume refuses when the file changed since the run began."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def options_to_data(options: RunOptions) -> dict[str, Any]:
    data = asdict(options)
    data["simulate_outage"] = sorted(options.simulate_outage)
    return data


def options_from_data(data: dict[str, Any]) -> RunOptions:
    return RunOptions(
        dry_run=bool(data.get("dry_run", False)), yes=bool(data.get("yes", False)),
        accept_data_loss=bool(data.get("accept_data_loss", False)),
        simulate_outage=frozenset(data.get("simulate_outage", [])), planned=data.get("planned"),
        extra=dict(data.get("extra", {})),
    )


@dataclass(frozen=True)
class RunHeader:
    run_id: str
    runbook: str
    source: str
    target: str
    mode: str
    topology_path: str
    topology_hash: str
    started_at: datetime
    clock_started_at: datetime
    rto_seconds: float
    rpo_seconds: float
    user: str = ""
    host: str = ""
    pid: int = 0
    options: RunOptions = field(default_factory=RunOptions)

    def to_data(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "runbook": self.runbook, "source": self.source, "target": self.target,
            "mode": self.mode, "topology_path": self.topology_path, "topology_hash": self.topology_hash,
            "started_at": iso(self.started_at), "clock_started_at": iso(self.clock_started_at),
            "rto_seconds": self.rto_seconds, "rpo_seconds": self.rpo_seconds,
            "user": self.user, "host": self.host, "pid": self.pid, "options": options_to_data(self.options),
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> RunHeader:
        return cls(
            run_id=data["run_id"], runbook=data["runbook"], source=data["source"], target=data["target"],
            mode=data.get("mode", "real"), topology_path=data["topology_path"],
            topology_hash=data["topology_hash"], started_at=parse_iso(data["started_at"]),
            clock_started_at=parse_iso(data["clock_started_at"]), rto_seconds=float(data["rto_seconds"]),
            rpo_seconds=float(data["rpo_seconds"]), user=data.get("user", ""), host=data.get("host", ""),
            pid=int(data.get("pid", 0)), options=options_from_data(data.get("options", {})),
        )
