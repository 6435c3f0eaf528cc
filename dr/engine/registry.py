"""Runbook name -> Runbook class. The `runbooks` package registers failover, failback and drill;
`$DRCTL_RUNBOOK_MODULES` (comma-separated modules) imports more, e.g. test runbooks."""

from __future__ import annotations

import importlib

from dr.engine.env import RUNBOOK_MODULES_ENV_VAR, runbook_modules
from dr.engine.runbook import Runbook
from dr.errors import UsageError

_RUNBOOKS: dict[str, type[Runbook]] = {}
_loaded: set[str] = set()


def register(cls: type[Runbook]) -> type[Runbook]:
    """Class decorator: make a runbook resumable and runnable by name."""
    _RUNBOOKS[cls.name] = cls
    return cls


def _load_plugins() -> None:
    for module in runbook_modules():
        if module not in _loaded:
            try:
                importlib.import_module(module)
            except ImportError as err:
                raise UsageError(f"${RUNBOOK_MODULES_ENV_VAR} names {module!r}, which cannot be imported: {err}"
                                 ) from err
            _loaded.add(module)


def get(name: str) -> type[Runbook]:
    """The runbook class called `name`; UsageError (exit 2) naming the known ones."""
    _load_plugins()
    if name not in _RUNBOOKS:
        try:
            importlib.import_module(f"runbooks.{name}")
        except ModuleNotFoundError as err:
            if err.name not in (f"runbooks.{name}", "runbooks"):
                raise
    if name not in _RUNBOOKS:
        raise UsageError(f"unknown runbook {name!r}; known: {', '.join(names()) or 'none registered'}")
    return _RUNBOOKS[name]


def names() -> list[str]:
    _load_plugins()
    return sorted(_RUNBOOKS)
