"""The shared exposition: rendered once per max_age however many scrapes ask, re-rendered after it."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge

from dr.metrics._exposition import SharedExposition


class TestSharedExposition:
    def test_scrapes_within_max_age_share_one_rendering_and_a_later_one_sees_the_change(self) -> None:
        """A value set after a rendering shows only once max_age has passed since it."""
        registry = CollectorRegistry()
        gauge = Gauge("drctl_test_value", "test", registry=registry)
        now = [100.0]
        shared = SharedExposition(registry, max_age=1.0, monotonic=lambda: now[0])
        gauge.set(1)
        first = shared.body()
        gauge.set(2)
        now[0] += 0.5
        assert shared.body() is first
        assert b"drctl_test_value 1.0" in first
        now[0] += 0.5
        assert b"drctl_test_value 2.0" in shared.body()
