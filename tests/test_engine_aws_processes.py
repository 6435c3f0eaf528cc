"""Real `drctl` processes sharing run state in AWS (a moto server): the DynamoDB lease keeps two runs
apart, and a SIGKILLed run resumes at once from its S3 journal (its own dead lease is taken over)."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_runbooks import EXAMPLE, HOLD_FILE_ENV_VAR, KILL_AFTER_ACT_ENV_VAR, LEDGER_ENV_VAR
from tests.test_engine_crash import DRCTL, EXPECTED, ROOT, wait_for

STATE = "\nstate: {s3_bucket: team-drctl, dynamodb_table: drctl-locks, lease: 60s}\n"


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """A moto server with the state bucket and lock table in the DR (qa) account, eu-west-1."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    _reset(url)  # moto's backends are per process: start from an empty AWS
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    from dr.aws.factory import ClientFactory
    from dr.config import load

    config = tmp_path / "dr.yaml"
    config.write_text(EXAMPLE.read_text() + STATE)
    clients = ClientFactory(load(config))
    clients.client("s3", "qa", "eu-west-1").create_bucket(
        Bucket="team-drctl", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    clients.client("dynamodb", "qa", "eu-west-1").create_table(
        TableName="drctl-locks", KeySchema=[{"AttributeName": "lock_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "lock_id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    try:
        yield url
    finally:
        _reset(url)
        server.stop()


def _reset(url: str) -> None:
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=10).close()


def env_for(tmp_path: Path, url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRCTL_")}
    env.update({"PYTHONPATH": str(ROOT), "AWS_ENDPOINT_URL": url, "DRCTL_STATE_DIR": str(tmp_path / "local"),
                "DRCTL_RUNBOOK_MODULES": "tests.fake_runbooks", LEDGER_ENV_VAR: str(tmp_path / "ledger")})
    env.update(extra)
    return env


def drctl(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DRCTL, *args], env=env, capture_output=True, text=True, timeout=90, check=False)


class TestSharedStateInAws:
    def test_two_processes_exactly_one_holds_the_dynamodb_lease(self, tmp_path: Path, endpoint: str) -> None:
        """Two runs on one pair at once through DynamoDB: one runs, the other exits 3 naming it."""
        env = env_for(tmp_path, endpoint, **{HOLD_FILE_ENV_VAR: str(tmp_path / "release")})
        config = str(tmp_path / "dr.yaml")
        procs = [subprocess.Popen([*DRCTL, "run", "test-hold", "--to", "qa", "-c", config, "--yes",
                                   "--run-id", run_id], env=env, text=True, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE) for run_id in ("one", "two")]
        wait_for(lambda: any(p.poll() is not None for p in procs), timeout=60)
        loser = next(p for p in procs if p.poll() is not None)
        winner = next(p for p in procs if p is not loser)
        (tmp_path / "release").touch()
        _, loser_err = loser.communicate(timeout=60)
        _, winner_err = winner.communicate(timeout=60)
        assert loser.returncode == 3, loser_err
        assert winner.returncode == 0, winner_err
        assert "dynamodb://drctl-locks/prod--qa" in loser_err
        assert f"locked by run {'one' if winner is procs[0] else 'two'}" in loser_err

    @pytest.mark.parametrize("kill", [{"DRCTL_FAULT_KILL_AFTER_JOURNAL_EVENTS": "12"},
                                      {KILL_AFTER_ACT_ENV_VAR: "par-b"}], ids=["after-event-12", "after-act"])
    def test_killed_run_resumes_at_once_from_its_s3_journal(self, tmp_path: Path, endpoint: str,
                                                            kill: dict[str, str]) -> None:
        """SIGKILL mid-run, then resume: its own dead lease is taken over, each mutation happens once."""
        config = str(tmp_path / "dr.yaml")
        first = drctl(["run", "test-ledger", "--to", "qa", "-c", config, "--yes", "--run-id", "k1"],
                      env_for(tmp_path, endpoint, **kill))
        assert first.returncode == -signal.SIGKILL, first.stderr
        resumed = drctl(["resume", "k1", "-c", config, "--yes", "-o", "json"], env_for(tmp_path, endpoint))
        assert resumed.returncode == 0, resumed.stderr
        report = json.loads(resumed.stdout)
        assert report["journal"] == "s3://team-drctl/drctl/runs/k1/"
        assert sorted((tmp_path / "ledger").read_text().splitlines()) == EXPECTED
        assert not (tmp_path / "local" / "runs").exists()
        events = drctl(["runs", "show", "k1", "-c", config, "--events"], env_for(tmp_path, endpoint)).stdout
        taken = [json.loads(line) for line in events.splitlines() if '"lock-broken"' in line]
        assert [e["data"]["run_id"] for e in taken] == ["k1"]  # the dead process's own lease, taken over
