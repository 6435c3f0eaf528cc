"""deploy/kubernetes: schema-valid (kubernetes-validate, offline, pinned schema version), a weekly clone
drill, the exporter Deployment and Service, IRSA service account, resource requests, no secrets."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.30.0"
"""The schema version the manifests are validated against (bundled with kubernetes-validate: no network)."""


def documents() -> list[dict[str, Any]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        docs += [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    return docs


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [d for d in documents() if d["kind"] == kind]


def containers() -> list[dict[str, Any]]:
    cron = of_kind("CronJob")[0]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    deploy = of_kind("Deployment")[0]["spec"]["template"]["spec"]["containers"]
    return [*cron, *deploy]


class TestSchemas:
    @pytest.mark.parametrize("doc", documents(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
    def test_manifest_is_valid_for_the_pinned_kubernetes_version(self, doc: dict[str, Any]) -> None:
        """Each manifest validates strictly (unknown fields are errors) against Kubernetes 1.30's schema."""
        import kubernetes_validate

        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)

    def test_validation_rejects_a_misspelt_field(self) -> None:
        """The strict check is real: a typo in the CronJob (`schedul`) is an error."""
        import kubernetes_validate

        cron = of_kind("CronJob")[0]
        broken = {**cron, "spec": {**cron["spec"], "schedul": cron["spec"]["schedule"]}}
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)

    def test_kustomization_lists_every_manifest(self) -> None:
        """`kubectl apply -k` installs every file in the folder."""
        listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
        assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}


class TestDrillCronJob:
    def test_cronjob_runs_a_weekly_clone_drill_with_options_drctl_knows(self) -> None:
        """Once a week, never concurrently, `drctl drill --mode clone --yes` with options the CLI accepts."""
        import typer

        from dr.cli.main import app

        cron = of_kind("CronJob")[0]
        minute, hour, dom, month, dow = cron["spec"]["schedule"].split()
        assert minute.isdigit()
        assert hour.isdigit()
        assert (dom, month) == ("*", "*")
        assert re.fullmatch(r"[0-6]", dow)
        assert cron["spec"]["concurrencyPolicy"] == "Forbid"
        container = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
        args = container["args"]
        assert container["command"] == ["drctl"]
        assert args[:1] == ["drill"]
        assert args[args.index("--mode") + 1] == "clone"
        drill = typer.main.get_command(app).commands["drill"]  # type: ignore[attr-defined]
        known = {opt for param in drill.params for opt in param.opts}
        assert {a for a in args if a.startswith("--")} <= known

    def test_drill_metrics_go_to_the_pushgateway_prometheus_scrapes(self) -> None:
        """No textfile nothing scrapes: DRCTL_PUSHGATEWAY from the ConfigMap is the drill's --pushgateway."""
        import typer

        from dr.cli.main import app

        cron = of_kind("CronJob")[0]
        container = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
        assert "--metrics-file" not in container["args"]
        configmap = of_kind("ConfigMap")[0]
        assert {"configMapRef": {"name": configmap["metadata"]["name"]}} in container["envFrom"]
        assert configmap["data"]["DRCTL_PUSHGATEWAY"].startswith("http")
        drill = typer.main.get_command(app).commands["drill"]  # type: ignore[attr-defined]
        assert next(p for p in drill.params if "--pushgateway" in p.opts).envvar == "DRCTL_PUSHGATEWAY"

    def test_drill_keeps_its_reports_on_a_persistent_volume(self) -> None:
        """DRCTL_STATE_DIR is on the PVC, so `drctl drill history` sees past drills."""
        spec = of_kind("CronJob")[0]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        env = {e["name"]: e.get("value") for e in spec["containers"][0]["env"]}
        mounts = {m["mountPath"]: m["name"] for m in spec["containers"][0]["volumeMounts"]}
        volumes = {v["name"]: v for v in spec["volumes"]}
        claim = volumes[mounts[env["DRCTL_STATE_DIR"]]]["persistentVolumeClaim"]["claimName"]
        assert claim == of_kind("PersistentVolumeClaim")[0]["metadata"]["name"]


class TestExporter:
    def test_exporter_serves_9877_behind_a_service_with_healthz_probes(self) -> None:
        """The Deployment runs `drctl exporter --port 9877`, probes /healthz; the Service selects its pods."""
        deployment = of_kind("Deployment")[0]
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["args"][:3] == ["exporter", "--port", "9877"]
        assert container["ports"][0]["containerPort"] == 9877
        assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
        service = of_kind("Service")[0]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= labels.items()
        assert service["spec"]["ports"][0]["port"] == 9877

    def test_exporter_binds_the_pod_ip_not_every_interface(self) -> None:
        """--address is $(POD_IP), filled from the downward API's status.podIP; never 0.0.0.0."""
        container = of_kind("Deployment")[0]["spec"]["template"]["spec"]["containers"][0]
        args = container["args"]
        assert "0.0.0.0" not in args
        assert args[args.index("--address") + 1] == "$(POD_IP)"
        env = {e["name"]: e for e in container["env"]}
        assert env["POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"

    def test_exporter_args_are_options_drctl_exporter_knows(self) -> None:
        """Every --option of the Deployment's args is an option of `drctl exporter`."""
        from typer.main import get_command

        from dr.cli.main import app

        exporter = get_command(app).commands["exporter"]  # type: ignore[attr-defined]
        known = {opt for param in exporter.params for opt in param.opts}
        args = of_kind("Deployment")[0]["spec"]["template"]["spec"]["containers"][0]["args"]
        assert {a for a in args if a.startswith("--")} <= known


class TestSafety:
    def test_workloads_use_the_irsa_service_account(self) -> None:
        """Both workloads run as the `drctl` service account, annotated with an IAM role ARN (IRSA)."""
        account = of_kind("ServiceAccount")[0]
        assert re.fullmatch(r"arn:aws:iam::\d{12}:role/.+", account["metadata"]["annotations"][
            "eks.amazonaws.com/role-arn"])
        pods = [of_kind("CronJob")[0]["spec"]["jobTemplate"]["spec"]["template"]["spec"],
                of_kind("Deployment")[0]["spec"]["template"]["spec"]]
        assert {p["serviceAccountName"] for p in pods} == {account["metadata"]["name"]}

    def test_every_container_requests_cpu_and_memory_and_runs_unprivileged(self) -> None:
        """Resource requests everywhere; non-root, read-only root filesystem, no privilege escalation."""
        for container in containers():
            assert {"cpu", "memory"} <= set(container["resources"]["requests"])
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert container["securityContext"]["allowPrivilegeEscalation"] is False

    def test_no_secrets_in_the_manifests(self) -> None:
        """No Secret objects and no credential-looking keys or values: AWS access comes from IRSA."""
        assert not of_kind("Secret")
        text = "\n".join(p.read_text() for p in K8S.glob("*.yaml"))
        assert not re.search(r"AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN)|AKIA[0-9A-Z]{16}", text)
        for container in containers():
            names = [e["name"] for e in container.get("env", [])]
            assert not [n for n in names if re.search(r"SECRET|PASSWORD|TOKEN|KEY", n)]

    def test_configmap_topology_is_a_valid_drctl_config(self, tmp_path: Path) -> None:
        """The dr.yaml shipped in the ConfigMap passes drctl's own validation; the drill's target is a DR side."""
        from dr.config import load

        path = tmp_path / "dr.yaml"
        path.write_text(of_kind("ConfigMap")[0]["data"]["dr.yaml"], encoding="utf-8")
        topology = load(path)
        args = of_kind("CronJob")[0]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
        target = args[args.index("--to") + 1]
        assert topology.environments[target].dr_for
