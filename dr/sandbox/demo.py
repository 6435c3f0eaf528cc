"""The sandbox demo: a short list of drctl invocations run, as a user would, against a seeded sandbox.

Adding a step to the demo is adding one line to DEMO_STEPS.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from dr.sandbox.session import drctl_command, subprocess_env

if TYPE_CHECKING:
    from dr.config.model import Topology
    from dr.sandbox.session import ServedSandbox

DEMO_STEPS: tuple[tuple[str, ...], ...] = (
    ("readiness", "--env", "{target}"),
    ("sandbox", "outage", "{source_region}"),
    ("failover", "--to", "{target}", "--yes", "--simulate-outage", "{source_region}", "--accept-data-loss"),
    ("sandbox", "outage", "{source_region}", "--end"),
    ("fence", "--env", "{source}", "--yes"),
    ("status",),
)
"""drctl arguments per step; `{source}` and `{target}` are the topology's first DR pair, `{source_region}` the
source's home region. The story of a regional outage, as on AWS: the source region goes down (its replication
breaks, its health checks fail), the unplanned failover needs nothing from it but must accept the data loss
(MySQL-family lag reads -1), the region comes back with its old primaries standalone and writable (split
brain), `drctl fence` fences them, and `drctl status` shows one writer per database."""


@dataclass(frozen=True)
class StepResult:
    argv: tuple[str, ...]
    exit_code: int
    output: Any = None
    """With json output: the step's own JSON document (or its raw stdout when that is not JSON)."""

    def to_dict(self) -> dict[str, Any]:
        return {"argv": ["drctl", *self.argv], "exit_code": self.exit_code, "output": self.output}


def dr_pair(topology: Topology) -> tuple[str, str]:
    """(source, target) of the first environment that is the DR side of another."""
    for name, env in topology.environments.items():
        if env.dr_for:
            return env.dr_for, name
    from dr.errors import UsageError

    raise UsageError("the topology has no DR pair (no environment with dr_for): nothing to demonstrate")


def demo_argv(topology: Topology, steps: Sequence[Sequence[str]] = DEMO_STEPS) -> list[tuple[str, ...]]:
    source, target = dr_pair(topology)
    region = topology.environments[source].region
    return [tuple(arg.format(source=source, target=target, source_region=region) for arg in step) for step in steps]


def run_demo(sandbox: ServedSandbox, steps: Sequence[Sequence[str]] = DEMO_STEPS, *, state_dir: Path | None = None,
             json_output: bool = False, log: TextIO = sys.stderr, timeout: float = 600) -> list[StepResult]:
    """Run each step as `drctl ...` against the sandbox, stopping at the first that does not exit 0.

    Runs keep their journal in `state_dir` (default: beside the sandbox's config), never in the user's own.
    With `json_output` each step runs with `-o json` and its document is kept in its result.
    """
    from dr.engine.env import STATE_DIR_ENV_VAR

    state = state_dir or sandbox.config_path.parent / "drctl-state"
    env = subprocess_env({**sandbox.env(), STATE_DIR_ENV_VAR: str(state)})
    results: list[StepResult] = []
    for argv in demo_argv(sandbox.topology, steps):
        log.write(f"\n$ drctl {shlex.join(argv)}\n")
        log.flush()
        result = _run_step(argv, env, json_output, timeout)
        results.append(result)
        code = result.exit_code
        if code != 0:
            log.write(f"drctl {shlex.join(argv)} exited {code}: demo stopped\n")
            break
    return results


def _run_step(argv: tuple[str, ...], env: dict[str, str], json_output: bool, timeout: float) -> StepResult:
    command = [*drctl_command(), *argv]
    if not json_output:
        return StepResult(argv, subprocess.run(command, env=env, timeout=timeout, check=False).returncode)
    done = subprocess.run([*command, "-o", "json"], env=env, timeout=timeout, check=False, text=True,
                          stdout=subprocess.PIPE)
    try:
        output: Any = json.loads(done.stdout)
    except ValueError:
        output = done.stdout
    return StepResult(argv, done.returncode, output)


NEXT_COMMAND = "drctl sandbox up --write-config sandbox-dr.yaml"
"""What a newcomer runs after the demo: a sandbox that stays up, to try the commands by hand (README)."""


def closing_lines(sandbox: ServedSandbox, *, state_dir: Path | None = None, timeout: float = 120) -> list[str]:
    """After the demo: what moved, the RTO and RPO achieved, where the journal is, and the next command to try.
    Read back through drctl itself (`runs list`, `runs show -o json`) while the sandbox still runs; [] when no
    failover report can be read."""
    from dr.engine.env import STATE_DIR_ENV_VAR

    state = state_dir or sandbox.config_path.parent / "drctl-state"
    env = subprocess_env({**sandbox.env(), STATE_DIR_ENV_VAR: str(state)})

    def document(*argv: str) -> Any:
        done = subprocess.run([*drctl_command(), *argv, "-o", "json"], env=env, timeout=timeout, check=False,
                              text=True, capture_output=True)
        return json.loads(done.stdout) if done.returncode == 0 else None

    try:
        runs = [r for r in (document("runs", "list") or {}).get("runs", []) if r.get("runbook") == "failover"]
        report = document("runs", "show", str(runs[-1]["run_id"])) if runs else None
    except (ValueError, OSError, subprocess.SubprocessError):
        report = None
    return summary_lines(report) if isinstance(report, dict) else []


def summary_lines(report: dict[str, Any]) -> list[str]:
    """Three lines from a failover report, then the next command."""
    steps = report.get("steps", [])
    databases = [s["name"].split(":", 1)[1] for s in steps
                 if s.get("name", "").startswith("promote:") and s.get("status") in ("succeeded", "already-done")]
    zones = [s for s in steps if s.get("name", "").startswith("dns:")]
    rto, rpo = report.get("rto", {}), report.get("rpo", {})
    window = rpo.get("data_loss_window_seconds")
    return [
        f"moved: {len(databases)} database(s) ({', '.join(databases)}) and the DNS of {len(zones)} zone(s) from "
        f"{report.get('source')} to {report.get('target')}: run {report.get('run_id')} {report.get('status')}",
        f"RTO {rto.get('elapsed_seconds', 0):.1f}s of {rto.get('target_seconds', 0):g}s ({_met(rto.get('met'))}); "
        f"RPO: data-loss window {'unknown' if window is None else f'{window:.1f}s'} of "
        f"{rpo.get('target_seconds', 0):g}s ({_met(rpo.get('met'))})",
        f"journal: {report.get('journal')} (inside the demo's sandbox, gone with it)",
        f"next: `{NEXT_COMMAND}` keeps a sandbox running; then, as the README's \"Try it without AWS\" shows, "
        "`drctl readiness --env qa` and `drctl failover --to qa`",
    ]


def _met(met: Any) -> str:
    return {True: "met", False: "MISSED"}.get(met, "n/a")
