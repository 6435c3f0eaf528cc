"""`drctl readiness --env ENV`: exit 0 ready, 1 not ready, 2 configuration or usage error; text and JSON."""

from __future__ import annotations

import json
from pathlib import Path

from test_checks_support import Seeded, config, invoke, module, world

__all__ = ["config", "module", "world"]  # fixtures shared from test_checks_support


class TestExitCodes:
    def test_ready_environment_exits_0(self, config: str) -> None:
        """The seeded qa side is ready: exit 0 and the text says so."""
        code, out = invoke("readiness", "--env", "qa", "-c", config)
        assert code == 0
        assert "qa is ready" in out

    def test_not_ready_environment_exits_1_with_the_reason(self, world: Seeded, config: str) -> None:
        """An ECS service under min_running: exit 1, the failing check and its reason in the JSON."""
        ecs = world.clients.client("ecs", "qa")
        ecs.update_service(cluster="ecs-1", service="service-a", desiredCount=0)
        world.on_teardown(lambda: ecs.update_service(cluster="ecs-1", service="service-a", desiredCount=2))
        code, out = invoke("readiness", "--env", "qa", "-c", config, "-o", "json")
        assert code == 1
        doc = json.loads(out)
        assert (doc["env"], doc["ready"], doc["failed"]) == ("qa", False, 1)
        failing = [c for c in doc["checks"] if not c["ok"]]
        assert failing == [{"env": "qa", "check": "ecs-service", "resource": "ecs-1/service-a", "ok": False,
                            "reason": "ECS service ecs-1/service-a: 0 running < min_running 2"}]

    def test_outage_of_the_target_region_exits_1_quickly(self, config: str) -> None:
        """With qa's region down readiness of qa fails (exit 1) instead of hanging."""
        code, out = invoke("readiness", "--env", "qa", "-c", config, "-o", "json", "--simulate-outage", "eu-west-1")
        assert code == 1
        assert "simulated outage of eu-west-1" in out

    def test_invalid_config_exits_2(self, tmp_path: Path) -> None:
        """An invalid topology file is a configuration error: exit 2."""
        bad = tmp_path / "dr.yaml"
        bad.write_text("version: 1\nenvironments: {}\nunknown_key: 1\n")
        code, out = invoke("readiness", "--env", "qa", "-c", str(bad))
        assert code == 2
        assert "unknown_key" in out

    def test_missing_config_exits_2(self, tmp_path: Path) -> None:
        """A topology file that does not exist: exit 2."""
        code, _ = invoke("readiness", "--env", "qa", "-c", str(tmp_path / "absent.yaml"))
        assert code == 2

    def test_unknown_environment_exits_2(self, config: str) -> None:
        """An environment the topology does not have is a usage error: exit 2, naming it."""
        code, out = invoke("readiness", "--env", "staging", "-c", config)
        assert code == 2
        assert "staging" in out


class TestOutput:
    def test_json_document_is_stable(self, config: str) -> None:
        """JSON: env, ready, checked_at, passed, failed and every check with env/check/resource/ok/reason."""
        code, out = invoke("readiness", "--env", "qa", "-c", config, "-o", "json")
        assert code == 0
        doc = json.loads(out)
        assert set(doc) == {"env", "ready", "checked_at", "passed", "failed", "checks"}
        assert doc["passed"] == len(doc["checks"]) > 0
        assert all(set(c) == {"env", "check", "resource", "ok", "reason"} for c in doc["checks"])

    def test_text_lists_every_check_with_its_reason(self, config: str) -> None:
        """The text table names each check, its resource and its reason."""
        _, out = invoke("readiness", "--env", "qa", "-c", config)
        assert "lag-within-rpo" in out
        assert "lag 2 s <= RPO 300 s" in out
        assert "EKS cluster cluster-1 is ACTIVE" in out
