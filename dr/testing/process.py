"""`drctl sandbox up` as a child process, for end-to-end tests of the command users run."""

from __future__ import annotations

import shlex
import signal
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from dr.sandbox.session import drctl_command, subprocess_env

READY_TIMEOUT = 90.0


@dataclass
class SandboxProcess:
    """A running `drctl sandbox up`: the environment it printed (the `export` lines) and its process."""

    process: subprocess.Popen[str]
    env: dict[str, str] = field(default_factory=dict)
    banner: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, config_out: Path, *args: str, timeout: float = READY_TIMEOUT) -> SandboxProcess:
        """Start `drctl sandbox up --port 0 --write-config CONFIG_OUT ARGS` and wait until it is serving."""
        argv = [*drctl_command(), "sandbox", "up", "--port", "0", "--write-config", str(config_out), *args]
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env=subprocess_env({}))
        running = cls(process)
        watchdog = threading.Timer(timeout, process.kill)  # a hung start must not hang the test run
        watchdog.start()
        try:
            running._read_banner()
        finally:
            watchdog.cancel()
        return running

    def _read_banner(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.banner.append(line.rstrip("\n"))
            if line.startswith("export "):
                key, _, value = line[len("export "):].strip().partition("=")
                self.env[key] = "".join(shlex.split(value))
            if "DRCTL_CONFIG" in self.env:
                return
        _, err = self.process.communicate(timeout=10)
        raise RuntimeError(f"drctl sandbox up exited {self.process.returncode} before serving: {err.strip()}")

    def stop(self, timeout: float = 30) -> tuple[int, str]:
        """SIGTERM (the normal way to stop it); returns (exit code, stderr)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            _, err = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        return self.process.returncode, err

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
