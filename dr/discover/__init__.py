"""Topology from AWS: discover environments' database pairs, DNS records and readiness; report drift."""

from dr.discover.drift import Drift, DriftKind, detect_drift, drift
from dr.discover.inputs import EnvSpec
from dr.discover.model import Discovery
from dr.discover.run import discover

__all__ = ["Discovery", "Drift", "DriftKind", "EnvSpec", "detect_drift", "discover", "drift"]
