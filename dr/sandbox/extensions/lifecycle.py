"""Sandbox state follows moto's lifecycle: when moto resets its backends, per-resource settings go too.

moto resets every backend when a `mock_aws()` starts and on `POST /moto-api/reset`; without this, lag or
health settings registered for one test's resources would answer for the next test's fresh ones.
"""

from __future__ import annotations

from typing import Any

from dr.sandbox.extensions._guard import _MARK, is_patched, shape_error
from dr.sandbox.extensions.state import STATE


def install() -> None:
    from moto.core.base_backend import BackendDict

    current = BackendDict.__dict__.get("reset")
    if not isinstance(current, classmethod):
        raise shape_error("moto.core.base_backend.BackendDict.reset is no longer a classmethod")
    if is_patched(current.__func__):
        return
    moto_reset = current.__func__

    def reset(cls: Any) -> None:
        from dr.sandbox.extensions.arc_model import ARC

        moto_reset(cls)
        STATE.forget_resources()
        ARC.forget()

    setattr(reset, _MARK, True)
    setattr(BackendDict, "reset", classmethod(reset))  # noqa: B010 - replacing a classmethod
