"""pytest fixtures for the drctl sandbox. Enable in a conftest.py: `pytest_plugins = ["dr.testing.fixtures"]`.

- `sandbox`: moto in-process with the fidelity extensions, seeded; fast, for tests calling drctl's code.
- `sandbox_server`: a sandbox server (one per test session and worker), reset and re-seeded for each test,
  with `run_drctl(...)` to run drctl as a subprocess against it; for end-to-end tests.
- `sandbox_topology`: what both seed (default: the packaged example). Override it to seed your own:

      @pytest.fixture
      def sandbox_topology() -> Path:
          return Path(__file__).parent / "my-dr.yaml"

- `sandbox_timings`, `sandbox_clock`: promotion/PENDING durations (default instant) and the in-process
  sandbox's clock (default real time); override them like `sandbox_topology`.
- `fake_clock`: a `FakeClock` (never sleeps).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dr.clock import Clock, FakeClock
from dr.sandbox.session import Timings
from dr.testing.sandbox import InProcessSandbox, ServerSandbox, in_process_sandbox

if TYPE_CHECKING:
    from dr.config.model import Topology
    from dr.sandbox.session import ServedSandbox


@pytest.fixture
def sandbox_topology() -> str | Path | Topology | None:
    """The topology the sandbox fixtures seed: a path or a model; None is the packaged example."""
    return None


@pytest.fixture
def sandbox_clock() -> Clock | None:
    """The clock of the in-process sandbox's timed transitions (None: real time). Override it to return the
    FakeClock that the code under test also uses, and promotions complete as that clock advances."""
    return None


@pytest.fixture
def sandbox_timings() -> Timings:
    """Promotion and Route53 PENDING durations of the sandbox fixtures (default: instant)."""
    return Timings()


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(sandbox_topology: str | Path | Topology | None, sandbox_clock: Clock | None, sandbox_timings: Timings,
            tmp_path: Path) -> Iterator[InProcessSandbox]:
    """moto in-process, extensions installed, `sandbox_topology` seeded; `.topology` has the real ids."""
    with in_process_sandbox(sandbox_topology, tmp_path, clock=sandbox_clock, timings=sandbox_timings) as box:
        yield box


@pytest.fixture(scope="session")
def sandbox_server_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedSandbox]:
    """One sandbox server per test session (and xdist worker); started empty, seeded by `sandbox_server`."""
    from dr.sandbox.session import start_unseeded

    server = start_unseeded(tmp_path_factory.mktemp("sandbox-server") / "sandbox-dr.yaml")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sandbox_server(sandbox_server_session: ServedSandbox, sandbox_topology: str | Path | Topology | None,
                   sandbox_timings: Timings, tmp_path: Path) -> ServerSandbox:
    """The session's sandbox server, reset and seeded with `sandbox_topology` for this test."""
    from dr.sandbox.session import load_source

    sandbox_server_session.timings = sandbox_timings
    sandbox_server_session.seed(load_source(sandbox_topology))
    return ServerSandbox(sandbox_server_session, tmp_path / "drctl-state")
