"""End-to-end tests: drctl as a subprocess against the sandbox server (`sandbox_server` fixture, dr.testing).

Everything under tests/e2e is marked `e2e`, so `pytest -m "not e2e"` is the quick in-process run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)
