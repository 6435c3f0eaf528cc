"""Regions AWS does not have (the seed's `eu-east-1`) are accepted by every regional moto backend."""

from __future__ import annotations

import os

ENV_VAR = "MOTO_ALLOW_NONEXISTENT_REGION"


def install() -> None:
    from moto import settings

    if not hasattr(settings, "allow_unknown_region"):
        from dr.sandbox.extensions._guard import shape_error

        raise shape_error("moto.settings.allow_unknown_region no longer exists")
    os.environ[ENV_VAR] = "true"
