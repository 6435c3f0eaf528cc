"""dr/cli/conventions.py and the app's conventions: shell completion, -V, help that names values and shows none
for flags, every command's exit codes in its --help and in the README, drill --dry-run."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from dr import __version__
from dr.cli.conventions import EXIT_CODES
from dr.cli.main import app

README = Path(__file__).resolve().parent.parent / "README.md"


def commands() -> dict[str, Any]:
    """Every visible command by its full name (`drill cleanup`), groups included."""
    out: dict[str, Any] = {}

    def walk(group: Any, prefix: str) -> None:
        for name, command in getattr(group, "commands", {}).items():
            if command.hidden:
                continue
            out[f"{prefix}{name}"] = command
            walk(command, f"{prefix}{name} ")

    walk(typer.main.get_command(app), "")
    return out


def help_of(name: str) -> str:
    result = CliRunner().invoke(app, [*name.split(), "--help"], prog_name="drctl", env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


class TestCompletion:
    def test_show_completion_prints_a_bash_script_for_drctl(self) -> None:
        """`drctl --show-completion bash` prints the script that `--install-completion` installs."""
        result = CliRunner().invoke(app, ["--show-completion", "bash"], prog_name="drctl")
        assert result.exit_code == 0
        assert "_DRCTL_COMPLETE=complete_bash" in result.output
        assert "complete -o default -F _drctl_completion drctl" in result.output

    def test_the_completion_protocol_completes_commands_and_options(self) -> None:
        """What the installed script asks drctl: `drctl fai<TAB>` and `drctl drill --mo<TAB>`."""
        def complete(words: str) -> list[str]:
            env = {"_DRCTL_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1)}
            return CliRunner().invoke(app, [], prog_name="drctl", env=env).output.split()

        assert complete("drctl fai") == ["failover", "failback"]
        assert complete("drctl drill --mo") == ["--mode"]


class TestVersion:
    def test_short_v_prints_the_version(self) -> None:
        """`drctl -V` is `drctl --version`."""
        result = CliRunner().invoke(app, ["-V"])
        assert (result.exit_code, result.output) == (0, f"drctl {__version__}\n")


class TestHelp:
    @pytest.mark.parametrize("name", sorted(commands()))
    def test_help_shows_no_type_placeholders(self, name: str) -> None:
        """No `<bool>` after a flag, no `<str>`/`<int>` instead of a value's name, in any command's --help."""
        assert not re.findall(r"<(bool|str|int|float|path)>", help_of(name))

    @pytest.mark.parametrize("name", sorted(commands()))
    def test_every_command_lists_its_exit_codes_in_its_help(self, name: str) -> None:
        """Each runnable command's --help ends with its exit codes, one line per code (kubectl/terraform style)."""
        command = commands()[name]
        if hasattr(command, "commands") and command.callback is None:
            pytest.skip("a group of subcommands, each with its own exit codes")
        assert name in EXIT_CODES
        text = help_of(name)
        assert "Exit codes:" in text
        for code, meaning in EXIT_CODES[name]:
            assert re.search(rf"^\s*{code}\s+{re.escape(meaning[:40])}", text, re.MULTILINE), (code, meaning)

    def test_readme_has_every_commands_exit_codes(self) -> None:
        """The README's per-command table says what `--help` says (readiness: 1 = not ready)."""
        readme = README.read_text(encoding="utf-8")
        table = readme.split("| command | exit codes", 1)[1].split("\n\n", 1)[0].splitlines()
        for name, codes in EXIT_CODES.items():
            row = next((line for line in table if line.startswith(f"| `drctl {name}`")), None)
            assert row is not None, name
            assert [c for c, _ in codes] == re.findall(r"`(\d+)`", row), name


class TestDrillDryRun:
    def test_dry_run_contradicting_another_mode_is_a_usage_error(self) -> None:
        """`drill --dry-run --mode full` exits 2 before loading anything."""
        result = CliRunner().invoke(app, ["drill", "--to", "qa", "--dry-run", "--mode", "full", "-c", "nowhere.yaml"])
        assert result.exit_code == 2
        assert "--dry-run is --mode dry-run" in result.output


class TestReferenceInTheRepository:
    def test_no_document_or_code_cites_a_contract_outside_the_repository(self) -> None:
        """The interface is documented in docs/reference.md: nothing cites an outside "CONTRACT §"."""
        root = README.parent
        files = [README, *[p for folder in ("docs", "deploy", "dr", "runbooks", "scripts")
                           for p in (root / folder).rglob("*") if p.is_file() and p.suffix != ".pyc"]]
        citing = [str(p.relative_to(root)) for p in files
                  if re.search(r"CONTRACT\s*§", p.read_text(encoding="utf-8", errors="replace"))]
        assert citing == []
        assert (root / "docs" / "reference.md").is_file()
