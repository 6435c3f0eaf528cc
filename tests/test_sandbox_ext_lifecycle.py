"""Sandbox settings for resources live as long as moto's backends: a fresh mock_aws starts clean."""

from __future__ import annotations

import pytest
from moto import mock_aws
from moto.core.base_backend import BackendDict

from dr.config.model import Engine
from dr.sandbox.control import LocalControl
from dr.sandbox.extensions import STATE, install
from dr.sandbox.extensions.state import LagKey


class TestLifecycle:
    def test_moto_reset_forgets_resource_settings_but_keeps_knobs(self) -> None:
        """Lag and health set for one world's resources are gone when moto resets; timings stay."""
        install()
        control = LocalControl()
        control.reset()
        control.set_promotion_seconds(3.0)
        control.set_change_pending_seconds(1.5)
        STATE.health["hc-1"] = False
        control.set_replica_lag("111111111111", "eu-west-1", Engine.RDS_INSTANCE, "orders-db-euw1", 2.0)
        control.set_default_lag(2.0)
        assert LagKey("111111111111", "eu-west-1", Engine.RDS_INSTANCE.value, "orders-db-euw1") in STATE.lag
        with mock_aws():
            assert STATE.lag == {}
            assert STATE.health == {}
            assert STATE.default_lag_seconds is None, "a seeded world's default lag goes with it"
            assert STATE.promotion_seconds == 3.0
            assert STATE.change_pending_seconds == 1.5
        control.reset()

    def test_patch_is_marked_and_idempotent(self) -> None:
        """A second install leaves a single wrapper around moto's reset."""
        install()
        first = BackendDict.__dict__["reset"].__func__
        install()
        assert BackendDict.__dict__["reset"].__func__ is first
        assert getattr(first, "__drctl_sandbox__", False)


class TestUnknownRegions:
    def test_a_region_aws_lacks_stays_accepted_when_the_environment_variable_goes(
            self, monkeypatch: pytest.MonkeyPatch) -> None:
        """An in-process sandbox restoring its environment removes MOTO_ALLOW_NONEXISTENT_REGION; a server in the
        same process must still accept the seed's eu-east-1 (this failed depending on test order)."""
        import boto3

        from dr.sandbox.extensions.regions import ENV_VAR

        install()
        monkeypatch.delenv(ENV_VAR, raising=False)
        with mock_aws():
            client = boto3.client("rds", region_name="eu-east-1", aws_access_key_id="testing",
                                  aws_secret_access_key="testing")
            assert client.describe_db_instances()["DBInstances"] == []
