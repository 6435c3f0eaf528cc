"""Start-up time of `drctl --version` and `drctl --help` next to `aws --version` on the same machine.

The AWS CLI comes from `$DRCTL_BENCH_AWS`, else a cached private venv (made with `pip install awscli` when
installing is allowed); without one the row says so. Each command runs a few times; the median counts.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from dr.sandbox.session import drctl_command

AWS_ENV_VAR = "DRCTL_BENCH_AWS"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "drctl-bench" / "awscli-venv"


@dataclass(frozen=True)
class StartTime:
    command: str
    median: float | None
    runs: int
    note: str = ""


def time_command(argv: list[str], runs: int) -> float:
    """Median wall time of `argv` over `runs` runs, after one warm-up (page cache, .pyc files)."""
    subprocess.run(argv, capture_output=True, check=True, timeout=120)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True, timeout=120)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def aws_cli(install: bool) -> tuple[Path | None, str]:
    """The `aws` executable to compare with, and how it was found (or why there is none)."""
    explicit = os.environ.get(AWS_ENV_VAR)
    if explicit:
        return Path(explicit), f"from ${AWS_ENV_VAR}"
    cached = CACHE / "bin" / "aws"
    if cached.exists():
        return cached, f"pip awscli in {CACHE}"
    if not install:
        return None, f"skipped: no AWS CLI in {CACHE} (run scripts/bench without --quick once to install it)"
    try:
        subprocess.run([sys.executable, "-m", "venv", str(CACHE)], check=True, capture_output=True, timeout=300)
        subprocess.run([str(CACHE / "bin" / "pip"), "install", "--quiet", "awscli"], check=True,
                       capture_output=True, timeout=600)
    except (subprocess.SubprocessError, OSError) as err:
        return None, f"skipped: `pip install awscli` into {CACHE} failed ({type(err).__name__})"
    return cached, f"pip awscli in {CACHE} (installed now)"


def measure(runs: int = 5, install_aws: bool = True) -> list[StartTime]:
    drctl = drctl_command()
    out = [StartTime("drctl --version", time_command([*drctl, "--version"], runs), runs),
           StartTime("drctl --help", time_command([*drctl, "--help"], runs), runs)]
    aws, note = aws_cli(install_aws)
    if aws is None:
        out.append(StartTime("aws --version", None, 0, note))
        return out
    try:
        out.append(StartTime("aws --version", time_command([str(aws), "--version"], runs), runs, note))
    except (subprocess.SubprocessError, OSError) as err:
        out.append(StartTime("aws --version", None, 0, f"skipped: {aws} --version failed ({err})"))
    return out
