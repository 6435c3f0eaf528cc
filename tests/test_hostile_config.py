"""Hostile topology files: special files, binary, oversized, alias bombs, deep nesting, wrong shapes. Each is exit 2
with a message naming the file (or the bad key), never a hang or a traceback, and no AWS client made."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from dr.config.findings import MAX_FINDINGS_SHOWN
from dr.config.load import MAX_ALIASES, MAX_CONFIG_BYTES, read_document
from dr.errors import ConfigError
from tests.fake_runbooks import EXAMPLE
from tests.hostile_support import assert_refused, drctl

pytestmark = pytest.mark.usefixtures("no_aws")

VALID = EXAMPLE.read_bytes()


def _fifo(tmp: Path) -> Path:
    os.mkfifo(tmp / "fifo.yaml")
    return tmp / "fifo.yaml"


def _sparse(size: int) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        path = tmp / "huge.yaml"
        with path.open("wb") as handle:
            handle.truncate(size)
        return path
    return make


SPECIAL: dict[str, tuple[Callable[[Path], Path], str]] = {
    "fifo": (_fifo, "a FIFO (named pipe), not a regular file"),
    "directory": (lambda tmp: tmp, "a directory, not a regular file"),
    "dev-zero": (lambda tmp: Path("/dev/zero"), "a character device, not a regular file"),
    "dev-null": (lambda tmp: Path("/dev/null"), "a character device, not a regular file"),
    "dev-urandom": (lambda tmp: Path("/dev/urandom"), "a character device, not a regular file"),
    "over-the-cap": (_sparse(MAX_CONFIG_BYTES + 1), "larger than the 10 MB limit"),
    "far-over-the-cap": (_sparse(50 * MAX_CONFIG_BYTES), "larger than the 10 MB limit"),
    "missing": (lambda tmp: tmp / "nope.yaml", "file not found"),
    "missing-dir": (lambda tmp: tmp / "no" / "dir.yaml", "file not found"),
    "through-a-file": (lambda tmp: Path(str(EXAMPLE) + "/child.yaml"), "cannot read"),
}


def _write(tmp: Path, data: bytes, name: str = "dr.yaml") -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path


CONTENT: dict[str, tuple[bytes, str]] = {
    "invalid-utf8": (b"version: 1\n\xff\xfe\n", "byte offset 11 (line 2)"),
    "latin1": ("version: 1\nname: caf\u00e9\n".encode("latin-1"), "not UTF-8 text"),
    "utf16": ("version: 1\n".encode("utf-16"), "not UTF-8 text"),
    "truncated-utf8": (b"version: 1\nx: \xe2\x82", "byte offset 14"),
    "elf-binary": (b"\x7fELF\x02\x01\x01" + bytes(range(256)), "not UTF-8 text"),
    "gzip": (b"\x1f\x8b\x08\x00" + bytes(64), "not UTF-8 text"),
    "nul-bytes": (b"version: 1\n\x00\x00\x00\n", "character 12: YAML syntax"),
    "empty": (b"", "must be a YAML mapping"),
    "only-comment": (b"# nothing\n", "must be a YAML mapping"),
    "null-doc": (b"~\n", "must be a YAML mapping"),
    "scalar": (b"hello\n", "must be a YAML mapping"),
    "number": (b"42\n", "must be a YAML mapping"),
    "list": (b"- 1\n- 2\n", "must be a YAML mapping"),
    "two-documents": (b"version: 1\n---\nversion: 2\n", "YAML syntax"),
    "python-tag": (b"!!python/object/apply:os.system ['true']\n", "YAML syntax"),
    "custom-tag": (b"version: !secret x\n", "YAML syntax"),
    "unclosed-flow": (b"environments: {prod: [\n", "YAML syntax"),
    "tab-indent": (b"version: 1\nenvironments:\n\tprod: {}\n", "YAML syntax"),
    "duplicate-key": (b"version: 1\nversion: 1\n", "duplicate key 'version'"),
    "unhashable-key": (b"? [a, b]\n: 1\n", "YAML syntax"),
    "undefined-alias": (b"version: *nope\n", "YAML syntax"),
    "deep-lists": (b"x: " + b"[" * 5000 + b"]" * 5000 + b"\n", "x"),
    "deep-maps": (b"x: " + b"{a: " * 3000 + b"1" + b"}" * 3000 + b"\n", "x"),
    "alias-bomb": (b"a: &a [x, x, x, x, x, x, x, x, x]\n"
                   + b"".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n".encode()
                              for i in range(12)), f"at most {MAX_ALIASES}"),
    "unknown-top-key": (VALID + b"\nfrobnicate: 1\n", "frobnicate"),
    "version-string": (VALID.replace(b"version: 1", b"version: 'one'", 1), "version"),
    "environments-list": (b"version: 1\nenvironments: [prod, qa]\n", "environments"),
    "environment-number-key": (b"version: 1\nenvironments:\n  1: {}\n", "environments"),
    "rich-markup-key": (b"version: 1\n'[/bold]': 1\n'[red]x': 2\n", "[/bold]"),
    "huge-int": (b"version: " + b"9" * 5000 + b"\n", "unreadable value"),
    "bad-date": (b"version: 1\nwhen: 2026-13-45\n", "unreadable value"),
    "huge-float": (b"version: 1e999999\n", "version"),
    "control-chars-key": (b"version: 1\n\"\\x1b[31mred\": 1\n", "red"),
    "bom-then-garbage": (b"\xef\xbb\xbf\xff", "not UTF-8 text"),
}


class TestSpecialFiles:
    @pytest.mark.parametrize("case", sorted(SPECIAL))
    def test_config_validate_refuses(self, case: str, tmp_path: Path) -> None:
        """`drctl config validate` on a special, missing or oversized path: exit 2 naming the path, no hang."""
        make, message = SPECIAL[case]
        path = make(tmp_path)
        assert_refused(drctl("config", "validate", "-c", str(path)), str(path), message)

    @pytest.mark.parametrize("case", ["fifo", "dev-zero", "over-the-cap", "directory"])
    def test_failover_refuses_before_any_aws_call(self, case: str, tmp_path: Path) -> None:
        """`drctl failover` with such a --config: exit 2 naming it, no AWS client made, no journal."""
        make, message = SPECIAL[case]
        path = make(tmp_path)
        assert_refused(drctl("failover", "--to", "qa", "--yes", "-c", str(path)), str(path), message)
        assert not (tmp_path / "drctl-state" / "runs").exists()

    def test_the_cap_is_checked_on_what_is_read_not_only_the_size(self, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
        """A file whose stat size lies (a growing file) is still cut at the cap."""
        path = _write(tmp_path, b"#" * (MAX_CONFIG_BYTES + 10))
        real_fstat = os.fstat

        class _Small:
            def __init__(self, real: os.stat_result) -> None:
                self._real = real
                self.st_size = 10

            def __getattr__(self, name: str) -> object:
                return getattr(self._real, name)

        monkeypatch.setattr(os, "fstat", lambda fd: _Small(real_fstat(fd)))
        with pytest.raises(ConfigError, match="10 MB"):
            read_document(path)


class TestContent:
    @pytest.mark.parametrize("case", sorted(CONTENT))
    def test_config_validate_refuses(self, case: str, tmp_path: Path) -> None:
        """A hostile topology file: exit 2, the file or the bad key named, no traceback."""
        data, named = CONTENT[case]
        path = _write(tmp_path, data)
        assert_refused(drctl("config", "validate", "-c", str(path)), named)

    @pytest.mark.parametrize("case", ["invalid-utf8", "alias-bomb", "deep-lists", "python-tag", "rich-markup-key"])
    def test_run_commands_refuse(self, case: str, tmp_path: Path) -> None:
        """The same files given to failover, status and readiness: exit 2, no AWS client made."""
        data, _ = CONTENT[case]
        path = _write(tmp_path, data)
        for args in (["failover", "--to", "qa", "--yes"], ["status"], ["readiness", "--env", "qa"]):
            assert_refused(drctl(*args, "-c", str(path)), str(path))

    def test_utf8_error_names_file_offset_and_line(self, tmp_path: Path) -> None:
        """The UTF-8 error says which file, which byte, at which offset and line."""
        path = _write(tmp_path, b"version: 1\nenvironments:\n  pr\xc3od: {}\n")
        stderr = assert_refused(drctl("config", "validate", "-c", str(path)), str(path))
        assert "byte 0xc3 at byte offset 29 (line 3)" in stderr

    def test_json_output_of_a_binary_file_is_one_document(self, tmp_path: Path) -> None:
        """-o json on a binary file: exit 2 and a JSON document saying invalid."""
        result = drctl("config", "validate", "-o", "json", "-c", str(_write(tmp_path, b"\xff" * 100)))
        assert result.exit_code == 2
        document = json.loads(result.stdout)
        assert document["valid"] is False
        assert "not UTF-8" in document["findings"][0]["message"]


class TestBoundedListing:
    def test_thousands_of_unknown_keys_print_the_first_and_a_count(self, tmp_path: Path) -> None:
        """5,000 unknown keys: 50 findings printed, then how many more; the output stays small."""
        body = b"version: 1\n" + b"".join(f"k{i}: 1\n".encode() for i in range(5000))
        path = _write(tmp_path, body)
        stderr = assert_refused(drctl("config", "validate", "-c", str(path)), "k0", "more findings not shown")
        assert "k4999" not in stderr
        errors = int(re.search(r"invalid, (\d+) error", stderr).group(1))  # type: ignore[union-attr]
        assert errors > 5000
        assert f"and {errors - MAX_FINDINGS_SHOWN:,} more findings" in stderr
        assert len(stderr) < 40_000

    def test_run_commands_bound_the_listing_too(self, tmp_path: Path) -> None:
        """failover with that file: exit 2, at most 50 findings and the count of the rest."""
        body = b"version: 1\n" + b"".join(f"k{i}: 1\n".encode() for i in range(2000))
        stderr = assert_refused(drctl("failover", "--to", "qa", "--yes", "-c", str(_write(tmp_path, body))),
                                "more findings not shown")
        assert stderr.count("error: ") == MAX_FINDINGS_SHOWN

    def test_json_listing_is_bounded_with_a_count(self, tmp_path: Path) -> None:
        """-o json: the first 50 findings and `findings_not_shown`."""
        body = b"version: 1\n" + b"".join(f"k{i}: 1\n".encode() for i in range(300))
        document = json.loads(drctl("config", "validate", "-o", "json", "-c", str(_write(tmp_path, body))).stdout)
        assert len(document["findings"]) == MAX_FINDINGS_SHOWN
        assert document["findings_not_shown"] == document["errors"] - MAX_FINDINGS_SHOWN

    def test_a_hint_listing_many_environments_is_cut(self, tmp_path: Path) -> None:
        """A reference to an unknown environment among 500: the hint names 20 and how many more."""
        envs = "".join(f"  e{i}: {{account_id: '111111111111', region: eu-west-1}}\n" for i in range(500))
        body = (f"version: 1\nenvironments:\n{envs}databases:\n  - {{name: x, engine: rds-instance, "
                "primary: {env: nope, id: a}, replica: {env: e1, region: eu-west-1, id: b}}\n")
        stderr = assert_refused(drctl("config", "validate", "-c", str(_write(tmp_path, body.encode()))), "'nope'")
        assert "... and 480 more" in stderr
