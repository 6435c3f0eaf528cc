"""Test helpers for drctl and for its users' tests: a fake clock and the sandbox (in-process or server).

The pytest fixtures live in `dr.testing.fixtures`; enable them with `pytest_plugins = ["dr.testing.fixtures"]`
in a conftest.py. Importing this package imports neither pytest nor moto.
"""

from __future__ import annotations

from dr.clock import FakeClock
from dr.testing.process import SandboxProcess
from dr.testing.sandbox import InProcessSandbox, ServerSandbox, in_process_sandbox, served_sandbox

__all__ = ["FakeClock", "InProcessSandbox", "SandboxProcess", "ServerSandbox", "in_process_sandbox", "served_sandbox"]
