"""Helpers for the hostile-input tests: run `drctl` through its real entry point in-process, assert a clean refusal
(exit code, the input named, no traceback). The `no_aws` fixture (tests/conftest.py) proves no AWS client was made."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Mapping
from typing import Any

import pytest
from click.testing import CliRunner, Result

from dr.cli.main import run


class _Entry:
    """What CliRunner needs of a command, calling `dr.cli.main.run` (the console script's error handling)."""

    name = "drctl"

    def main(self, args: list[str], prog_name: str, **_: Any) -> None:
        sys.argv = [prog_name, *args]
        run()


def drctl(*args: str, env: Mapping[str, str | None] | None = None, stdin: str | None = None) -> Result:
    return CliRunner().invoke(_Entry(), list(args), env=env, input=stdin)  # type: ignore[arg-type]


def assert_refused(result: Result, *named: str, code: int = 2) -> str:
    """`result` exited `code` through drctl's own error handling, its stderr names every `named` text, and there
    is no traceback. Returns stderr."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        details = "".join(traceback.format_exception(result.exception))
        pytest.fail(f"uncaught {type(result.exception).__name__} (a traceback for the user):\n{details}")
    assert result.exit_code == code, f"exit {result.exit_code}, expected {code}: {result.stderr}"
    assert "Traceback" not in result.output
    for text in named:
        assert text in result.stderr, f"{text!r} not named in: {result.stderr}"
    return result.stderr
