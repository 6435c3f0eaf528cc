"""dr/cli/common.py output: piped or redirected output is never cut to the terminal width (ids and ARNs whole)."""

from __future__ import annotations

import json

import pytest
from test_checks_support import config, invoke, module, world

from dr.cli.common import console, table

__all__ = ["config", "module", "world"]  # fixtures shared from test_checks_support

LONG_ARN = "arn:aws:rds:eu-central-1:111111111111:db:orders-db-with-a-very-long-identifier-0689d833-952e-4b1c"


@pytest.fixture
def narrow(monkeypatch: pytest.MonkeyPatch, config: str) -> str:
    """The seeded world's config, with an 80-column terminal declared (stdout is CliRunner's pipe)."""
    monkeypatch.setenv("COLUMNS", "80")
    return config


class TestNotATerminal:
    def test_a_piped_table_keeps_an_arn_whole_on_one_line(self, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
        """COLUMNS=80 and stdout piped: a table row holds the whole ARN, not `arn:aws:rds:eu-central…`."""
        monkeypatch.setenv("COLUMNS", "80")
        rows = table("t", "resource", "reason")
        rows.add_row(LONG_ARN, "replica lag above the RPO of 300 s, measured 2 minutes ago by CloudWatch")
        console().print(rows)
        out = capsys.readouterr().out
        assert any(LONG_ARN in line for line in out.splitlines())
        assert "…" not in out

    def test_status_with_80_columns_shows_every_member_and_health_check_id_whole(self, narrow: str) -> None:
        """`drctl status | cat` at COLUMNS=80: member ids with env/region and health check ids are whole."""
        code, out = invoke("status", "-c", narrow)
        assert code == 0
        assert "…" not in out
        lines = out.splitlines()
        assert any("orders-db-euw1 (prod/eu-west-1)" in line for line in lines)
        doc = json.loads(invoke("status", "-c", narrow, "-o", "json")[1])
        for check in doc["health_checks"]:
            assert any(check["id"] in line for line in lines), check["id"]

    def test_readiness_with_80_columns_keeps_each_reason_on_one_line(self, narrow: str) -> None:
        """`drctl readiness | cat` at COLUMNS=80: each check's resource and reason stay whole on its row."""
        code, out = invoke("readiness", "--env", "qa", "-c", narrow)
        assert code == 0
        assert "…" not in out
        doc = json.loads(invoke("readiness", "--env", "qa", "-c", narrow, "-o", "json")[1])
        for check in doc["checks"]:
            assert any(check["resource"] in line and check["reason"] in line for line in out.splitlines())


class TestTerminal:
    def test_on_a_narrow_terminal_a_long_id_wraps_instead_of_being_cut(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """On an 80-column terminal the ARN folds onto the next line: every character is still there."""
        from rich.console import Console

        rows = table("t", "resource", "reason")
        rows.add_row(LONG_ARN, "a reason")
        out = Console(width=60, force_terminal=True, color_system=None)
        with out.capture() as captured:
            out.print(rows)
        text = captured.get()
        assert "…" not in text
        first_cells = [line.split("│")[1].strip() for line in text.splitlines() if line.count("│") == 3]
        assert LONG_ARN in "".join(first_cells)
