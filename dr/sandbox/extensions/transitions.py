"""Timed status transitions: an object reads `during` until a wall-clock deadline, then `final`.

Installed as a `status` property on moto's model classes, so every reader (the serializer, moto's own
state checks) sees the transition without a background thread; the deadline uses the sandbox clock,
so tests advance a `FakeClock` instead of sleeping.

A reader never changes the size of the object's `__dict__` (an elapsed transition is set to None, not popped):
moto's serializer iterates that dict in other request threads, and a key popped under it raised "dictionary
changed size during iteration" in a describe racing a status read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dr.sandbox.extensions._guard import shape_error
from dr.sandbox.extensions.state import STATE

_KEY = "_drctl_transition"


@dataclass(frozen=True)
class Transition:
    during: str
    final: str
    until: datetime


def begin(obj: Any, during: str, final: str, seconds: float) -> datetime:
    """Start a transition on `obj` lasting `seconds`; returns when it ends. Zero seconds: `final` at once."""
    now = STATE.now()
    if seconds <= 0:
        obj.status = final
        return now
    until = now + timedelta(seconds=seconds)
    # The transition first, then the settled value (the setter keeps a transition to that same value): a
    # concurrent reader sees `during` or the old status, never `final` before the transition has begun.
    obj.__dict__[_KEY] = Transition(during, final, until)
    obj.status = final
    return until


def pending(obj: Any) -> Transition | None:
    """The transition still running on `obj`, if any (settles an elapsed one)."""
    transition: Transition | None = obj.__dict__.get(_KEY)
    if transition is None:
        return None
    if STATE.now() >= transition.until:
        obj.__dict__[_KEY] = None  # settled; assigning an existing key keeps the dict's size
        return None
    return transition


def install_on(cls: type) -> None:
    """Give `cls` a transition-aware `status` property; wraps an existing property, or an instance attribute."""
    current = cls.__dict__.get("status")
    if isinstance(current, property) and getattr(current.fget, "__drctl_sandbox__", False):
        return
    fget: Callable[[Any], Any]
    fset: Callable[[Any, Any], None]
    if current is None:
        _require_instance_attribute(cls)
        fget, fset = _attr_get, _attr_set
    elif isinstance(current, property) and current.fget is not None and current.fset is not None:
        fget, fset = current.fget, current.fset
    else:
        raise shape_error(f"{cls.__name__}.status is neither an instance attribute nor a settable property")

    def get_status(self: Any) -> Any:
        transition = pending(self)
        return transition.during if transition else fget(self)

    def set_status(self: Any, value: Any) -> None:
        transition: Transition | None = self.__dict__.get(_KEY)
        if transition is not None and transition.final != value:  # another status ends the transition
            self.__dict__[_KEY] = None
        fset(self, value)

    get_status.__drctl_sandbox__ = True  # type: ignore[attr-defined]
    cls.status = property(get_status, set_status)  # type: ignore[attr-defined]


def _attr_get(obj: Any) -> Any:
    return obj.__dict__.get("status")


def _attr_set(obj: Any, value: Any) -> None:
    obj.__dict__["status"] = value


def _require_instance_attribute(cls: type) -> None:
    for base in cls.__mro__[1:]:
        if "status" in base.__dict__ and not (
            isinstance(base.__dict__["status"], property)
            and getattr(base.__dict__["status"].fget, "__drctl_sandbox__", False)
        ):
            raise shape_error(f"{cls.__name__}.status is defined on {base.__name__}, not as an instance attribute")


def settled_status(obj: Any) -> str:
    """The status for a state check: moto reports a new cluster `creating` exactly once, which means nothing."""
    status = str(obj.status)
    return str(obj.status) if status == "creating" else status
