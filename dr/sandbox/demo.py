"""The sandbox demo: a short list of drctl invocations run, as a user would, against a seeded sandbox.

Adding a step to the demo is adding one line to DEMO_STEPS.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from dr.sandbox.session import drctl_command, subprocess_env

if TYPE_CHECKING:
    from dr.config.model import Topology
    from dr.sandbox.session import ServedSandbox

DEMO_STEPS: tuple[tuple[str, ...], ...] = (
    ("readiness", "--env", "{target}"),
    ("status",),
)
"""drctl arguments per step; `{source}` and `{target}` are the topology's first DR pair."""


@dataclass(frozen=True)
class StepResult:
    argv: tuple[str, ...]
    exit_code: int


def dr_pair(topology: Topology) -> tuple[str, str]:
    """(source, target) of the first environment that is the DR side of another."""
    for name, env in topology.environments.items():
        if env.dr_for:
            return env.dr_for, name
    from dr.errors import UsageError

    raise UsageError("the topology has no DR pair (no environment with dr_for): nothing to demonstrate")


def demo_argv(topology: Topology, steps: Sequence[Sequence[str]] = DEMO_STEPS) -> list[tuple[str, ...]]:
    source, target = dr_pair(topology)
    return [tuple(arg.format(source=source, target=target) for arg in step) for step in steps]


def run_demo(sandbox: ServedSandbox, steps: Sequence[Sequence[str]] = DEMO_STEPS,
             log: TextIO = sys.stderr, timeout: float = 600) -> list[StepResult]:
    """Run each step as `drctl ...` against the sandbox, stopping at the first that does not exit 0."""
    env = subprocess_env(sandbox.env())
    results: list[StepResult] = []
    for argv in demo_argv(sandbox.topology, steps):
        log.write(f"\n$ drctl {shlex.join(argv)}\n")
        log.flush()
        code = subprocess.run([*drctl_command(), *argv], env=env, timeout=timeout, check=False).returncode
        results.append(StepResult(argv, code))
        if code != 0:
            log.write(f"drctl {shlex.join(argv)} exited {code}: demo stopped\n")
            break
    return results
