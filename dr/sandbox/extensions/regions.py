"""Regions AWS does not have (the seed's `eu-east-1`) are accepted by every regional moto backend.

moto asks `allow_unknown_region()` (which reads `MOTO_ALLOW_NONEXISTENT_REGION`) on each lookup of a regional
backend, through the name `moto.core.base_backend` imported. The environment variable alone is not enough in a
process that also runs in-process sandboxes: one that restores its environment on close would remove it under a
server still serving. So the extension answers True where moto asks, and sets the variable for child processes.
"""

from __future__ import annotations

import os

ENV_VAR = "MOTO_ALLOW_NONEXISTENT_REGION"


def _allowed() -> bool:
    return True


def install() -> None:
    from moto import settings
    from moto.core import base_backend

    from dr.sandbox.extensions._guard import shape_error

    if not hasattr(settings, "allow_unknown_region") or not hasattr(base_backend, "allow_unknown_region"):
        raise shape_error("moto's allow_unknown_region (settings, core.base_backend) no longer exists")
    base_backend.allow_unknown_region = _allowed
    os.environ[ENV_VAR] = "true"
