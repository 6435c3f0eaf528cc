"""Real `drctl` processes: SIGKILL at every journal point then resume; two runs at once; SIGINT and resume.

The fault-injection hooks are $DRCTL_FAULT_KILL_AFTER_JOURNAL_EVENTS (the journal kills its own process
right after its N-th durable event) and the test runbook's $DRCTL_TEST_KILL_AFTER_ACT (kill right after
a mutation, before its outcome is journaled).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from dr.engine.report_text import render_text
from tests.fake_runbooks import EXAMPLE, HOLD_FILE_ENV_VAR, KILL_AFTER_ACT_ENV_VAR, LEDGER_ENV_VAR

ROOT = Path(__file__).resolve().parent.parent
DRCTL = [sys.executable, "-c", "from dr.cli.main import run; run()"]
EXPECTED = sorted(["first", "par-a", "par-b", "par-c:prod-qa", "last:prod-qa"])
EVENTS_IN_A_FULL_RUN = 26
"""run-started; precheck: started, 2 facts, finished; 5 mutating steps x (started, intent, outcome,
finished); run-finished."""


def env_for(workdir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRCTL_")}
    env.update({"PYTHONPATH": str(ROOT), "DRCTL_STATE_DIR": str(workdir / "state"),
                "DRCTL_RUNBOOK_MODULES": "tests.fake_runbooks", LEDGER_ENV_VAR: str(workdir / "ledger")})
    env.update(extra)
    return env


def drctl(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DRCTL, *args], env=env, capture_output=True, text=True, timeout=60, check=False)


@dataclass
class KillPoint:
    name: str
    extra: dict[str, str]


def kill_points() -> list[KillPoint]:
    points = [KillPoint(f"after-event-{n}", {"DRCTL_FAULT_KILL_AFTER_JOURNAL_EVENTS": str(n)})
              for n in range(1, EVENTS_IN_A_FULL_RUN + 1)]
    points += [KillPoint(f"after-act-{step}", {KILL_AFTER_ACT_ENV_VAR: step})
               for step in ("first", "par-a", "par-b", "par-c", "last")]
    return points


def crash_and_resume(base: Path, point: KillPoint) -> str | None:
    """Run until killed at `point`, resume, check the end state; None when all is well, else the problem."""
    workdir = base / point.name
    workdir.mkdir()
    run_id = f"crash-{point.name}"
    first = drctl(["run", "test-ledger", "--to", "qa", "-c", str(EXAMPLE), "--yes", "--run-id", run_id],
                  env_for(workdir, **point.extra))
    if first.returncode != -signal.SIGKILL:
        return f"{point.name}: first run was not killed (rc {first.returncode}): {first.stderr[-500:]}"
    resumed = drctl(["resume", run_id, "-o", "json", "--yes"], env_for(workdir))
    if resumed.returncode != 0:
        return f"{point.name}: resume rc {resumed.returncode}: {resumed.stderr[-800:]}"
    ledger = (workdir / "ledger").read_text().splitlines() if (workdir / "ledger").exists() else []
    if sorted(ledger) != EXPECTED:
        return f"{point.name}: ledger {ledger} != each mutation exactly once {EXPECTED}"
    report = json.loads(resumed.stdout)
    statuses = {s["name"]: s["status"] for s in report["steps"]}
    if report["status"] != "succeeded" or set(statuses.values()) != {"succeeded"}:
        return f"{point.name}: report {report['status']} {statuses}"
    outcomes = {s["name"]: s["outcome"] for s in report["steps"]}
    expected = dict.fromkeys(("first", "par-a", "par-b", "par-c", "last"), "verified") | {"precheck": "checked"}
    if outcomes != expected:
        return f"{point.name}: outcomes {outcomes} (a mutation of the killed attempt is this run's, verified)"
    if report["in_flight"] or "in flight" in render_text(report):
        return f"{point.name}: a SUCCEEDED report still lists steps in flight: {report['in_flight']}"
    return None


class TestCrashAndResume:
    def test_full_run_journals_the_expected_number_of_events(self, tmp_path: Path) -> None:
        """The kill points below cover every event of a full run: the count is what the test assumes."""
        result = drctl(["run", "test-ledger", "--to", "qa", "-c", str(EXAMPLE), "--yes", "--run-id", "full"],
                       env_for(tmp_path))
        assert result.returncode == 0, result.stderr
        journal = (tmp_path / "state" / "runs" / "full.jsonl").read_text().splitlines()
        assert len(journal) == EVENTS_IN_A_FULL_RUN

    def test_sigkill_at_every_journal_point_then_resume_does_each_mutation_once(self, tmp_path: Path) -> None:
        """31 kill points (after each of 26 journal events, after each of 5 mutations): the same end state."""
        points = kill_points()
        with ThreadPoolExecutor(max_workers=4) as pool:
            problems = [p for p in pool.map(lambda point: crash_and_resume(tmp_path, point), points) if p]
        assert len(points) >= 20
        assert problems == []


def wait_for(predicate: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


class TestConcurrentRuns:
    def test_two_runs_on_one_pair_exactly_one_runs_the_other_exits_3(self, tmp_path: Path) -> None:
        """prod->qa and qa->prod started together: one holds the lock, the other is refused naming it."""
        env = env_for(tmp_path, **{HOLD_FILE_ENV_VAR: str(tmp_path / "release")})
        commands = [["run", "test-hold", "--to", "qa", "--run-id", "one"],
                    ["run", "test-hold", "--to", "prod", "--from", "qa", "--run-id", "two"]]
        procs = [subprocess.Popen([*DRCTL, *c, "-c", str(EXAMPLE), "--yes"], env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for c in commands]
        wait_for(lambda: any(p.poll() is not None for p in procs))
        loser = next(p for p in procs if p.poll() is not None)
        winner = next(p for p in procs if p is not loser)
        (tmp_path / "release").touch()
        _, loser_err = loser.communicate(timeout=30)
        _, winner_err = winner.communicate(timeout=30)
        assert loser.returncode == 3, loser_err
        assert winner.returncode == 0, winner_err
        winner_id = "one" if winner is procs[0] else "two"
        assert f"locked by run {winner_id}" in loser_err
        assert "pid" in loser_err
        assert "since" in loser_err
        assert (tmp_path / "ledger").read_text().splitlines() == ["after-hold"]


class TestInterrupt:
    def test_sigint_leaves_a_consistent_journal_exits_130_and_resume_finishes(self, tmp_path: Path) -> None:
        """SIGINT during a step: it finishes, nothing new starts, exit 130; `drctl resume` completes the run."""
        env = env_for(tmp_path, **{HOLD_FILE_ENV_VAR: str(tmp_path / "release")})
        stderr = tmp_path / "stderr"
        with stderr.open("w") as err_file:
            proc = subprocess.Popen([*DRCTL, "run", "test-hold", "--to", "qa", "-c", str(EXAMPLE), "--yes",
                                     "--run-id", "int-1"], env=env, text=True, stdout=subprocess.PIPE,
                                    stderr=err_file)
        journal = tmp_path / "state" / "runs" / "int-1.jsonl"
        wait_for(lambda: journal.exists() and '"step-intent"' in journal.read_text())
        proc.send_signal(signal.SIGINT)
        wait_for(lambda: "SIGINT received" in stderr.read_text())
        (tmp_path / "release").touch()
        proc.communicate(timeout=30)
        assert proc.returncode == 130, stderr.read_text()
        assert "after-hold" not in ((tmp_path / "ledger").read_text() if (tmp_path / "ledger").exists() else "")
        records = [json.loads(line) for line in journal.read_text().splitlines()]
        assert (records[-1]["type"], records[-1]["status"]) == ("run-finished", "interrupted")
        resumed = drctl(["resume", "int-1", "--yes", "-o", "json"], env)
        assert resumed.returncode == 0, resumed.stderr
        assert {s["name"]: (s["status"], s["outcome"]) for s in json.loads(resumed.stdout)["steps"]} == {
            "hold": ("succeeded", "verified"), "after-hold": ("succeeded", "verified")}
