"""The benchmark's peak-RSS measurement is the failover process's own, not the benchmark's memory it was forked
from (benchmarks/failover.py `run_measured`)."""

from __future__ import annotations

import os
import sys

import pytest

from benchmarks.failover import run_measured

ALLOCATE = "b = bytearray({mib} * 2**20); b[::4096] = b'x' * len(b[::4096])"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
class TestPeakMemory:
    def test_a_small_child_of_a_big_benchmark_reports_its_own_peak(self) -> None:
        """With 200 MiB held here, a child that allocates 40 MiB reports ~50 MiB (its interpreter and the 40), not
        the 200+ MiB of the process it was forked from (wait4's ru_maxrss carried that over the exec)."""
        held = bytearray(200 * 2**20)
        held[::4096] = b"x" * len(held[::4096])
        done, peak = run_measured([sys.executable, "-c", ALLOCATE.format(mib=40)], dict(os.environ), 60)
        assert done.returncode == 0, done.stderr
        assert 40 <= peak < 120
        del held

    def test_the_peak_follows_what_the_child_allocates(self) -> None:
        """A child that allocates 150 MiB reports at least that."""
        done, peak = run_measured([sys.executable, "-c", ALLOCATE.format(mib=150)], dict(os.environ), 60)
        assert done.returncode == 0, done.stderr
        assert 150 <= peak < 250
