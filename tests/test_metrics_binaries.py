"""The monitoring tests' guard for Debian's Prometheus binaries: fail in CI, skip (with the reason) locally."""

from __future__ import annotations

import pytest
from prometheus_support import require_binary

MISSING = "drctl-no-such-binary"


class TestRequireBinary:
    def test_missing_binary_fails_in_ci(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """With CI=true a missing promtool/prometheus is a test failure, never a silent skip."""
        monkeypatch.setenv("CI", "true")
        with pytest.raises(pytest.fail.Exception, match="CI=true"):
            require_binary(MISSING)

    def test_missing_binary_skips_locally_with_the_reason(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Outside CI a missing binary skips, naming the Debian packages to install."""
        monkeypatch.delenv("CI", raising=False)
        with pytest.raises(pytest.skip.Exception, match="prometheus-pushgateway packages"):
            require_binary(MISSING)

    def test_present_binary_is_found(self) -> None:
        """An installed binary is returned by path (sh stands in for promtool)."""
        assert require_binary("sh").endswith("/sh")
