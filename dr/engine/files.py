"""Private files in the state directory: directories 0700, files 0600, never opened through a symbolic link.

Journals, locks and reports hold user@host, process ids and account ids: only their owner reads them. A link
planted at one of their paths must not make drctl write (or truncate) the file it points to.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from dr.errors import UsageError

DIR_MODE = 0o700
FILE_MODE = 0o600
_NOFOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC


def private_dir(path: Path, *, under: Path | None = None) -> Path:
    """Create `path` (and every missing directory from `under` down to it) with mode 0700.

    A directory drctl names itself (`under`'s subdirectories) that exists with wider permissions is tightened;
    `under` itself only when drctl creates it (it may be a directory the operator chose, like $DRCTL_STATE_DIR).
    """
    chain = [path]
    if under is not None and path != under and under in path.parents:
        chain = [under, *[p for p in reversed(path.parents) if under in p.parents], path]
    chain[0].parent.mkdir(parents=True, exist_ok=True)
    for index, directory in enumerate(chain):
        try:
            directory.mkdir(mode=DIR_MODE)
        except FileExistsError:
            if directory.is_symlink() or not directory.is_dir():
                raise UsageError(f"{directory} is not a directory (or is a symbolic link): drctl keeps its state "
                                 "in real directories; remove it or set $DRCTL_STATE_DIR elsewhere") from None
            if index > 0 or under is None:
                _tighten(directory)
    return path


def _tighten(directory: Path) -> None:
    info = directory.stat()
    if info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) & 0o077:
        directory.chmod(stat.S_IMODE(info.st_mode) & DIR_MODE)


def open_private(path: Path, flags: int) -> int:
    """A descriptor for the regular file at `path`, created 0600, never through a symbolic link.

    `flags` are os.O_* access flags (O_RDWR, O_WRONLY | O_APPEND ...); O_TRUNC is refused: truncating is for
    the caller to do, after it holds the file. An existing file is tightened to 0600.
    """
    if flags & os.O_TRUNC:
        raise ValueError("open_private never truncates on open")
    fd = _open(path, flags | os.O_CREAT)
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise UsageError(f"{path} is not a regular file: remove it; drctl creates its own")
    if stat.S_IMODE(info.st_mode) != FILE_MODE and info.st_uid == os.geteuid():
        os.fchmod(fd, FILE_MODE)
    return fd


def read_private(path: Path) -> str:
    """The text of the regular file at `path`, not followed through a symbolic link (FileNotFoundError if none)."""
    fd = _open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path} is not a regular file")
        return handle.read().decode("utf-8")


def _open(path: Path, flags: int) -> int:
    try:
        return os.open(path, flags | _NOFOLLOW, FILE_MODE)
    except OSError as err:
        if err.errno in (errno.ELOOP, errno.EMLINK) or path.is_symlink():  # EMLINK: FreeBSD's answer
            raise UsageError(f"{path} is a symbolic link: drctl does not follow links in its state directory; "
                             "remove the link (and check who created it)") from None
        raise
