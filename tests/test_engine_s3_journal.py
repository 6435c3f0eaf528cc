"""The S3 journal backend (moto): one object per event, listed runs, a run resumed from S3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dr.clock import FakeClock
from dr.engine.events import RunStatus
from dr.engine.journal.s3 import S3Backend
from dr.engine.session import load_history
from tests.fake_runbooks import Calls, FakeStep, Harness, ListRunbook

BUCKET = "drctl-state-qa"


@pytest.fixture
def s3(aws: None) -> Any:
    import boto3

    client = boto3.client("s3", region_name="eu-west-1")
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    return client


class TestS3Journal:
    def test_run_is_journaled_one_object_per_event_and_listed(self, tmp_path: Path, s3: Any) -> None:
        """A run writes <prefix><run_id>/<seq>.json objects; run_ids lists it; replay sees it succeeded."""
        backend = S3Backend(s3, BUCKET, "drctl/runs")
        session = Harness(tmp_path, FakeClock()).session(ListRunbook([FakeStep("a", Calls())]), backend=backend)
        assert session.start().status is RunStatus.SUCCEEDED
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
        assert keys[0] == "drctl/runs/run-1/00000001.json"
        assert len(keys) == 6
        assert backend.run_ids() == ["run-1"]
        assert load_history(backend, "run-1").status is RunStatus.SUCCEEDED

    def test_interrupted_run_resumes_from_s3(self, tmp_path: Path, s3: Any) -> None:
        """Journal in S3 cut after an intent: resume continues seq numbering and finishes the run."""
        backend = S3Backend(s3, BUCKET)
        calls = Calls()
        steps = [FakeStep("a", calls), FakeStep("b", calls)]
        harness = Harness(tmp_path, FakeClock())
        harness.session(ListRunbook(steps), backend=backend).start()
        keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"])
        bodies = {k: s3.get_object(Bucket=BUCKET, Key=k)["Body"].read().decode() for k in keys}
        intent_b = next(k for k in keys if '"step-intent"' in bodies[k] and '"step":"b"' in bodies[k])
        for key in keys[keys.index(intent_b) + 1:]:
            s3.delete_object(Bucket=BUCKET, Key=key)
        history = load_history(backend, "run-1")
        assert history.pending == {"b"}
        outcome = harness.session(ListRunbook(steps), backend=backend).resume(history)
        assert outcome.status is RunStatus.SUCCEEDED
        seqs = [int(k.rsplit("/", 1)[1].split(".")[0]) for k in sorted(
            o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"])]
        assert seqs == list(range(1, len(seqs) + 1))

    def test_an_event_is_never_overwritten_by_another_writer(self, s3: Any) -> None:
        """A second writer of the same seq is refused; re-sending our own line (a retried PUT) is fine."""
        from dr.engine.journal.s3 import JournalConflict

        backend = S3Backend(s3, BUCKET)
        backend.append("run-9", 1, '{"seq":1}')
        backend.append("run-9", 1, '{"seq":1}')
        with pytest.raises(JournalConflict, match="two runs are writing journal run-9"):
            backend.append("run-9", 1, '{"seq":1,"other":true}')
        assert backend.read("run-9") == ['{"seq":1}']


@pytest.mark.usefixtures("aws")
class TestTeamStateFromTopology:
    def test_state_section_puts_journal_in_s3_and_lock_in_dynamodb_of_the_dr_account(
            self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """`state: {s3_bucket, dynamodb_table}`: a run journals to S3 and locks in DynamoDB (qa, eu-west-1)."""
        import json

        from typer.testing import CliRunner

        from dr.aws.factory import ClientFactory
        from dr.cli.main import app
        from dr.config import load
        from tests.fake_runbooks import EXAMPLE, LEDGER_ENV_VAR

        monkeypatch.setenv("DRCTL_RUNBOOK_MODULES", "tests.fake_runbooks")
        monkeypatch.setenv(LEDGER_ENV_VAR, str(tmp_path / "ledger"))
        config = tmp_path / "dr.yaml"
        config.write_text(EXAMPLE.read_text() + "\nstate: {s3_bucket: team-drctl, dynamodb_table: drctl-locks}\n")
        clients = ClientFactory(load(config))
        s3 = clients.client("s3", "qa", "eu-west-1")
        s3.create_bucket(Bucket="team-drctl", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        dynamodb = clients.client("dynamodb", "qa", "eu-west-1")
        dynamodb.create_table(TableName="drctl-locks", KeySchema=[{"AttributeName": "lock_id", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "lock_id", "AttributeType": "S"}],
                              BillingMode="PAY_PER_REQUEST")
        lease = {"lock_id": {"S": "prod--qa"}, "run_id": {"S": "someone-else"}, "holder": {"S": "carol@laptop"},
                 "pid": {"N": "4242"}, "since": {"S": "2026-01-01T00:00:00.000Z"}, "expires_at": {"N": "9999999999"}}
        dynamodb.put_item(TableName="drctl-locks", Item=lease)
        held = CliRunner().invoke(app, ["run", "test-ledger", "--to", "qa", "-c", str(config), "--yes"])
        assert held.exit_code == 3
        assert "someone-else by carol@laptop" in held.stderr
        dynamodb.delete_item(TableName="drctl-locks", Key={"lock_id": {"S": "prod--qa"}})
        result = CliRunner().invoke(app, ["run", "test-ledger", "--to", "qa", "-c", str(config), "--yes",
                                          "--run-id", "team-1", "-o", "json"])
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["journal"] == "s3://team-drctl/drctl/runs/team-1/"
        assert len(s3.list_objects_v2(Bucket="team-drctl", Prefix="drctl/runs/team-1/")["Contents"]) == 26
        assert dynamodb.scan(TableName="drctl-locks")["Items"] == []  # released at the end
        listed = CliRunner().invoke(app, ["runs", "list", "-c", str(config), "-o", "json"])
        assert [r["run_id"] for r in json.loads(listed.stdout)["runs"]] == ["team-1"]
        assert not (tmp_path / "drctl-state" / "runs").exists()
