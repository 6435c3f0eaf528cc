"""Test helpers for the monitoring tests: Debian's Prometheus binaries, free ports, polling, processes.

Tests that need a binary FAIL when CI=true and it is missing (CI installs Debian's `prometheus` and
`prometheus-pushgateway`), and skip with the reason locally.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "deploy" / "prometheus" / "drctl-alerts.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "tests"
DASHBOARD = ROOT / "deploy" / "grafana" / "drctl.json"

T = TypeVar("T")


def require_binary(name: str) -> str:
    """The path of `name`; fail in CI (it must be installed there), skip locally."""
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} not found: install Debian's prometheus / prometheus-pushgateway packages"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: .ci/run must install it)")
    pytest.skip(message)


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([require_binary("promtool"), *args], input=stdin, capture_output=True, text=True,
                          timeout=60, check=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def poll(probe: Callable[[], T | None], *, deadline: float, what: str, interval: float = 0.2) -> T:
    """Call `probe` until it returns a value (not None) or `deadline` seconds pass; fail naming `what`."""
    end = time.monotonic() + deadline
    last_error: Exception | None = None
    while time.monotonic() < end:
        try:
            value = probe()
        except Exception as err:  # not up yet
            last_error = err
            value = None
        if value is not None:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {deadline:.0f}s waiting for {what} (last error: {last_error})")


def http_get(url: str, timeout: float = 5.0, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=timeout) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as err:
        return int(err.code), bytes(err.read())


def get_json(url: str) -> Any:
    return json.loads(http_get(url)[1])


@contextmanager
def running(args: list[str], *, ready_url: str, log: Path, env: dict[str, str] | None = None,
            deadline: float = 30.0, ready_codes: tuple[int, ...] = (200,)) -> Iterator[subprocess.Popen[bytes]]:
    """Start a process, wait until `ready_url` answers 200, and always stop it (SIGTERM, then SIGKILL)."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        def ready() -> bool | None:
            if proc.poll() is not None:
                pytest.fail(f"{args[0]} exited with {proc.returncode}: {log.read_text(errors='replace')[-2000:]}")
            return True if http_get(ready_url, timeout=1.0)[0] in ready_codes else None

        poll(ready, deadline=deadline, what=f"{Path(args[0]).name} at {ready_url}")
        yield proc
    finally:
        stop_process(proc)


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> int:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
    return int(proc.returncode)


@contextmanager
def pushgateway(tmp: Path, basic_auth: tuple[str, str] | None = None) -> Iterator[str]:
    """A Pushgateway on a free loopback port; yields its base URL. `basic_auth` = (user, bcrypt hash) makes it
    require HTTP basic auth (its --web.config.file)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [require_binary("prometheus-pushgateway"), f"--web.listen-address=127.0.0.1:{port}"]
    ready_codes: tuple[int, ...] = (200,)
    if basic_auth:
        config = tmp / "pushgateway-web.yml"
        config.write_text(f"basic_auth_users:\n  {basic_auth[0]}: '{basic_auth[1]}'\n")
        args.append(f"--web.config.file={config}")
        ready_codes = (401,)  # up, and asking for credentials
    with running(args, ready_url=f"{url}/-/ready", log=tmp / "pushgateway.log", ready_codes=ready_codes):
        yield url
