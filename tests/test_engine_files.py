"""Private state files: directories 0700, journal/lock/report 0600, never written through a symbolic link."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dr.drill import history
from dr.engine.files import open_private, private_dir
from dr.engine.journal.local import LocalBackend
from dr.engine.lock.base import LockInfo
from dr.engine.lock.local import LocalLock
from dr.errors import UsageError

ME = LockInfo(key="prod--qa", run_id="r1", holder="alice@bastion", pid=100, since=datetime(2026, 1, 1, tzinfo=UTC))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture(autouse=True)
def _wide_umask() -> object:
    """The modes must not depend on the operator's umask: test under the common, permissive 022."""
    old = os.umask(0o022)
    yield None
    os.umask(old)


class TestModes:
    def test_journal_and_its_directories_are_private(self, tmp_path: Path) -> None:
        """A new journal: the state dir and runs/ are 0700, the journal file 0600."""
        state = tmp_path / "state"
        backend = LocalBackend(state)
        backend.append("r1", 1, '{"seq": 1}')
        backend.close()
        assert mode(state) == 0o700
        assert mode(state / "runs") == 0o700
        assert mode(state / "runs" / "r1.jsonl") == 0o600
        assert backend.read("r1") == ['{"seq": 1}']

    def test_lock_file_and_directory_are_private(self, tmp_path: Path) -> None:
        """The lock file is 0600 in a 0700 locks/ directory, and holds the holder's record."""
        lock = LocalLock(tmp_path / "state", "prod--qa")
        lock.acquire(ME)
        try:
            assert mode(lock.path) == 0o600
            assert mode(lock.path.parent) == 0o700
            assert lock.holder() == ME
        finally:
            lock.release()

    def test_drill_reports_are_private(self, tmp_path: Path) -> None:
        """Saved drill reports (JSON and Markdown) are 0600 in 0700 directories."""
        json_path, md_path = history.save({"run_id": "d1", "started_at": "x"}, "# d1\n", tmp_path / "state")
        assert mode(json_path) == mode(md_path) == 0o600
        assert mode(json_path.parent) == mode(json_path.parent.parent) == 0o700

    def test_existing_wide_journal_and_runs_dir_are_tightened(self, tmp_path: Path) -> None:
        """A journal and runs/ left 0644/0755 by an older drctl become 0600/0700 when written again."""
        runs = tmp_path / "state" / "runs"
        runs.mkdir(parents=True, mode=0o755)
        old = runs / "r1.jsonl"
        old.write_text('{"seq": 1}\n')
        old.chmod(0o644)
        backend = LocalBackend(tmp_path / "state")
        backend.append("r1", 2, '{"seq": 2}')
        backend.close()
        assert mode(old) == 0o600
        assert mode(runs) == 0o700
        assert old.read_text().splitlines() == ['{"seq": 1}', '{"seq": 2}']

    def test_an_operator_chosen_state_dir_keeps_its_mode(self, tmp_path: Path) -> None:
        """$DRCTL_STATE_DIR that exists (it may be shared) is not chmod-ed; drctl's own runs/ is 0700."""
        state = tmp_path / "shared"
        state.mkdir(mode=0o755)
        LocalBackend(state).append("r1", 1, "{}")
        assert mode(state) == 0o755
        assert mode(state / "runs") == 0o700


class TestSymlinks:
    def test_symlinked_lock_path_does_not_truncate_its_target(self, tmp_path: Path) -> None:
        """A link planted at the lock path: acquire refuses (exit 2, naming the path) and the target is intact."""
        target = tmp_path / "precious.txt"
        target.write_text("keep me\n")
        lock = LocalLock(tmp_path / "state", "prod--qa")
        lock.path.parent.mkdir(parents=True)
        lock.path.symlink_to(target)
        with pytest.raises(UsageError) as err:
            lock.acquire(ME)
        assert err.value.exit_code == 2
        assert str(lock.path) in str(err.value)
        assert "symbolic link" in str(err.value)
        assert target.read_text() == "keep me\n"
        assert mode(target) == 0o644

    def test_symlinked_journal_path_is_not_written_through(self, tmp_path: Path) -> None:
        """A link at a journal's path: append refuses; the linked file gets no event."""
        target = tmp_path / "precious.txt"
        target.write_text("keep me")  # no final newline: the torn-tail repair must not cut it either
        runs = tmp_path / "state" / "runs"
        runs.mkdir(parents=True)
        (runs / "r1.jsonl").symlink_to(target)
        with pytest.raises(UsageError):
            LocalBackend(tmp_path / "state").append("r1", 1, "{}")
        assert target.read_text() == "keep me"

    def test_symlinked_report_tmp_is_replaced_not_followed(self, tmp_path: Path) -> None:
        """A link planted at a drill report's temporary name is removed, never written through."""
        target = tmp_path / "precious.txt"
        target.write_text("keep me")
        folder = tmp_path / "state" / "drills" / "d1"
        folder.mkdir(parents=True)
        (folder / f"{history.REPORT_JSON}.tmp").symlink_to(target)
        json_path, _ = history.save({"run_id": "d1"}, "# d1\n", tmp_path / "state")
        assert target.read_text() == "keep me"
        assert '"run_id": "d1"' in json_path.read_text()

    def test_symlinked_state_subdirectory_is_refused(self, tmp_path: Path) -> None:
        """locks/ as a link to another directory: refused naming it, nothing created there."""
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        (tmp_path / "state").mkdir()
        (tmp_path / "state" / "locks").symlink_to(elsewhere)
        with pytest.raises(UsageError, match="locks"):
            LocalLock(tmp_path / "state", "prod--qa").acquire(ME)
        assert list(elsewhere.iterdir()) == []


class TestOpenPrivate:
    def test_refuses_truncating_flags(self, tmp_path: Path) -> None:
        """O_TRUNC is never passed through: truncation happens only after the caller holds the file."""
        with pytest.raises(ValueError, match="truncates"):
            open_private(tmp_path / "f", os.O_RDWR | os.O_TRUNC)

    def test_refuses_a_fifo(self, tmp_path: Path) -> None:
        """A FIFO at a state file's path is refused as not a regular file."""
        fifo = tmp_path / "f"
        os.mkfifo(fifo)
        with pytest.raises(UsageError, match="not a regular file"):
            open_private(fifo, os.O_RDWR)

    def test_private_dir_creates_the_chain_under_the_state_dir(self, tmp_path: Path) -> None:
        """Every directory from the state dir down is created 0700."""
        leaf = private_dir(tmp_path / "s" / "drills" / "d1", under=tmp_path / "s")
        assert [mode(p) for p in (tmp_path / "s", leaf.parent, leaf)] == [0o700] * 3
