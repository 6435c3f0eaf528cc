"""Patch moto only where its internals still have the shape the extensions were written against.

Every patch goes through `replace` or `add`, which check the target first and raise `MotoShapeError`
with the installed moto version when moto changed underneath; a second install is a no-op.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from importlib.metadata import version as _dist_version
from typing import Any

from dr.errors import DrError

SUPPORTED_MINOR = (5, 2)
MIN_PATCH = 5
_MARK = "__drctl_sandbox__"


class MotoShapeError(DrError):
    """The installed moto is not the one the sandbox extensions are tested against."""

    exit_code = 2


def moto_version() -> str:
    return _dist_version("moto")


def check_moto_version(installed: str | None = None) -> None:
    """Raise unless moto is 5.2.x with x >= 5 (the pin in pyproject's `sandbox` extra)."""
    text = installed or moto_version()
    parts = text.split(".")
    try:
        major, minor, patch = int(parts[0]), int(parts[1]), int("".join(ch for ch in parts[2] if ch.isdigit()) or 0)
    except (IndexError, ValueError):
        raise MotoShapeError(_version_message(text)) from None
    if (major, minor) != SUPPORTED_MINOR or patch < MIN_PATCH:
        raise MotoShapeError(_version_message(text))


def _version_message(installed: str) -> str:
    return (
        f"sandbox extensions are tested against moto 5.2.x (>= 5.2.{MIN_PATCH}); installed {installed}. "
        "Install the pinned version: pip install 'drctl[sandbox]'"
    )


def shape_error(what: str) -> MotoShapeError:
    return MotoShapeError(
        f"sandbox extensions are tested against moto 5.2.x; installed {moto_version()}: {what}. "
        "The extension needs updating for this moto."
    )


def is_patched(func: object) -> bool:
    return bool(getattr(func, _MARK, False))


def original(cls: type, name: str) -> Callable[..., Any]:
    """The moto implementation a patch replaced (for wrappers that call through)."""
    func = getattr(cls, name)
    return getattr(func, "__drctl_original__", func)  # type: ignore[no-any-return]


def expect_params(func: object, params: Sequence[str], where: str) -> None:
    """Fail loudly unless `func` takes exactly these positional parameter names (after self)."""
    try:
        names = [p for p in inspect.signature(func).parameters if p != "self"]  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise shape_error(f"{where} is not a function") from None
    if names != list(params):
        raise shape_error(f"{where} takes {names}, expected {list(params)}")


def replace(cls: type, name: str, new: Callable[..., Any], params: Sequence[str] | None = None) -> None:
    """Replace `cls.name` (which must exist, with `params` if given) by `new`; idempotent."""
    current = cls.__dict__.get(name)
    if current is None:
        raise shape_error(f"{cls.__module__}.{cls.__name__}.{name} no longer exists")
    if is_patched(current):
        if current is new:
            return
        # a second extension would be silently skipped (and `original` could not chain): share one patch instead
        raise MotoShapeError(f"{cls.__name__}.{name} is already patched by {getattr(current, '__module__', '?')}; "
                             f"{getattr(new, '__module__', '?')} must register a hook on that patch "
                             "(e.g. dr/sandbox/extensions/_replica_hooks.py) instead of replacing it again")
    if params is not None:
        expect_params(current, params, f"{cls.__name__}.{name}")
    setattr(new, _MARK, True)
    new.__drctl_original__ = current  # type: ignore[attr-defined]
    setattr(cls, name, new)


def add(cls: type, name: str, new: Callable[..., Any]) -> None:
    """Add `cls.name`, which moto must not have (if it does, moto implemented it: re-check the extension)."""
    current = getattr(cls, name, None)
    if current is not None and is_patched(current):
        return
    if current is not None:
        raise shape_error(f"{cls.__name__}.{name} now exists in moto; the sandbox would shadow it")
    setattr(new, _MARK, True)
    setattr(cls, name, new)


def require_attrs(obj: object, names: Sequence[str], where: str) -> None:
    missing = [n for n in names if not hasattr(obj, n)]
    if missing:
        raise shape_error(f"{where} lacks {missing}")
