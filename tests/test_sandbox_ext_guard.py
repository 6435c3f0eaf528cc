"""The sandbox extensions refuse to run on a moto they were not tested against, and install idempotently."""

from __future__ import annotations

import pytest

from dr.sandbox.extensions import _guard, install


class _Target:
    def action(self, db_kwargs: dict[str, str]) -> str:
        return "moto"


class TestMotoVersionGuard:
    def test_installed_moto_is_the_pinned_minor(self) -> None:
        """The venv's moto passes the guard (the pin in pyproject and the guard agree)."""
        _guard.check_moto_version()
        assert _guard.moto_version().startswith("5.2.")

    @pytest.mark.parametrize("version", ["5.3.0", "6.0.1", "5.1.9", "5.2.4", "garbage"])
    def test_other_versions_are_refused_with_the_installed_version_named(self, version: str) -> None:
        """Any moto outside 5.2.x (x >= 5) raises a clear error naming the installed version."""
        with pytest.raises(_guard.MotoShapeError, match=rf"tested against moto 5\.2\.x.*installed {version}"):
            _guard.check_moto_version(version)

    def test_the_guard_and_the_pyproject_pin_name_the_same_versions(self) -> None:
        """The sandbox extra pins moto to exactly the range the guard accepts (>=5.2.5,<5.3)."""
        import tomllib
        from pathlib import Path

        pyproject = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())
        [moto_pin] = [d for d in pyproject["project"]["optional-dependencies"]["sandbox"] if d.startswith("moto")]
        major, minor = _guard.SUPPORTED_MINOR
        assert moto_pin.endswith(f">={major}.{minor}.{_guard.MIN_PATCH},<{major}.{minor + 1}")

    def test_install_is_idempotent(self) -> None:
        """Installing twice patches once: the patched methods keep pointing at moto's originals."""
        from moto.rds.models import RDSBackend

        install()
        first = RDSBackend.promote_read_replica
        install()
        assert RDSBackend.promote_read_replica is first
        assert _guard.is_patched(first)
        assert not _guard.is_patched(_guard.original(RDSBackend, "promote_read_replica"))


class TestShapeGuard:
    def test_replacing_a_method_moto_no_longer_has_fails_loudly(self) -> None:
        """A patch target that disappeared raises MotoShapeError instead of silently adding it."""
        with pytest.raises(_guard.MotoShapeError, match="no longer exists"):
            _guard.replace(_Target, "vanished", lambda self: None)

    def test_replacing_a_method_whose_signature_changed_fails_loudly(self) -> None:
        """A patch target whose parameters changed raises MotoShapeError naming both signatures."""
        with pytest.raises(_guard.MotoShapeError, match=r"takes \['db_kwargs'\], expected \['identifier'\]"):
            _guard.replace(_Target, "action", lambda self, identifier: None, ["identifier"])

    def test_adding_a_method_moto_now_implements_fails_loudly(self) -> None:
        """When moto implements an operation the sandbox adds, the guard says so instead of shadowing it."""
        with pytest.raises(_guard.MotoShapeError, match="now exists in moto"):
            _guard.add(_Target, "action", lambda self: None)

    @pytest.mark.parametrize(
        ("module", "owner", "name"),
        [
            ("moto.rds.models", "RDSBackend", "promote_read_replica"),
            ("moto.rds.models", "RDSBackend", "promote_read_replica_db_cluster"),
            ("moto.rds.models", "RDSBackend", "delete_db_instance"),
            ("moto.rds.models", "RDSBackend", "modify_db_instance"),
            ("moto.rds.models", "RDSBackend", "create_auto_snapshot"),
            ("moto.rds.models", "RDSBackend", "create_auto_cluster_snapshot"),
            ("moto.rds.models", "RDSBackend", "create_db_cluster"),
            ("moto.rds.models", "RDSBackend", "create_global_cluster"),
            ("moto.rds.models", "RDSBackend", "remove_from_global_cluster"),
            ("moto.rds.models", "RDSBackend", "delete_db_cluster"),
            ("moto.rds.models", "RDSBackend", "restore_db_cluster_to_point_in_time"),
            ("moto.rds.models", "DBInstance", "remove_replica"),
            ("moto.cloudwatch.models", "CloudWatchBackend", "get_metric_data"),
            ("moto.route53.responses", "Route53", "change_resource_record_sets"),
            ("moto.route53.models", "Route53Backend", "change_resource_record_sets"),
            ("moto.route53.responses", "Route53", "get_change"),
            ("moto.route53.responses", "Route53", "get_health_check_status"),
        ],
    )
    def test_every_patched_moto_method_is_patched_after_install(self, module: str, owner: str, name: str) -> None:
        """Each moto internal an extension replaces is in place after install (pins the extension set)."""
        import importlib

        install()
        cls = getattr(importlib.import_module(module), owner)
        assert _guard.is_patched(cls.__dict__[name])

    @pytest.mark.parametrize(
        ("module", "owner", "name"),
        [
            ("moto.rds.models", "RDSBackend", "switchover_global_cluster"),
            ("moto.rds.models", "RDSBackend", "failover_global_cluster"),
            ("moto.rds.responses", "RDSResponse", "switchover_global_cluster"),
            ("moto.rds.responses", "RDSResponse", "failover_global_cluster"),
            ("moto.route53.responses", "Route53", "test_dns_answer"),
        ],
    )
    def test_operations_moto_lacks_are_added_by_the_sandbox(self, module: str, owner: str, name: str) -> None:
        """The operations moto 5.2 does not implement are the sandbox's own (not moto's) after install."""
        import importlib

        install()
        cls = getattr(importlib.import_module(module), owner)
        assert _guard.is_patched(cls.__dict__[name])


class TestOnePatchPerMethod:
    def test_a_second_extension_replacing_a_patched_method_is_refused(self) -> None:
        """Two extensions replacing one moto method: the second would be skipped silently (its rule lost), so
        `replace` refuses it, naming the hook mechanism; re-installing the same patch stays a no-op."""
        import pytest

        from dr.sandbox.extensions._guard import MotoShapeError, replace

        class Backend:
            def stop(self, ident: str) -> str:
                return ident

        def first(self: object, ident: str) -> str:
            return "first"

        def second(self: object, ident: str) -> str:
            return "second"

        replace(Backend, "stop", first, ["ident"])
        replace(Backend, "stop", first, ["ident"])
        with pytest.raises(MotoShapeError, match="register a hook"):
            replace(Backend, "stop", second, ["ident"])
        assert Backend().stop("x") == "first"
