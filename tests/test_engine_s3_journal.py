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
