"""A real `drctl failover` SIGKILLed after its DNS steps journaled their change ids but before Route53 said
INSYNC: `drctl resume` polls those ids and never sends a change batch again (one ChangeResourceRecordSets per
zone in all, counted by the sandbox server), and the journal and the report agree.

The kill comes from the test once the journal holds every DNS step's outcome, while the sandbox holds the changes
PENDING: $DRCTL_FAULT_KILL_AFTER_JOURNAL_EVENTS needs the event's index, which the parallel switch group (confirm,
the zones, fencing) makes vary from run to run; PENDING keeps the run inside that window until the kill."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from dr.sandbox.session import Timings, drctl_command, subprocess_env
from dr.testing.sandbox import ServerSandbox
from tests.test_engine_crash import wait_for

HELD = 600.0
"""Route53 changes stay PENDING this long (sandbox seconds) until the test releases them."""
RUN_ID = "dns-crash"


@pytest.fixture
def sandbox_timings() -> Timings:
    return Timings(promotion_seconds=0.0, change_pending_seconds=HELD)


def events(journal: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in journal.read_text().splitlines()] if journal.exists() else []


def outcomes(journal: Path, steps: set[str], after: str | None = None) -> set[str]:
    """The steps of `steps` whose act has a journaled `ok` outcome (only after the last `after` event if given)."""
    found = events(journal)
    if after is not None:
        marks = [i for i, e in enumerate(found) if e["type"] == after]
        found = found[marks[-1] + 1:] if marks else []
    return {e["step"] for e in found if e["type"] == "step-outcome" and e.get("status") == "ok" and e["step"] in steps}


def start(sbx: ServerSandbox, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*drctl_command(), *args], env=subprocess_env(sbx.env), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def change_ids(journal: Path) -> dict[str, list[str]]:
    facts = [e["data"] for e in events(journal) if e["type"] == "fact"]
    return {f["key"]: f["value"] for f in facts if f["key"].startswith("dns.changes.")}


class TestKilledBetweenDnsOutcomeAndInsync:
    def test_resume_polls_the_journaled_changes_and_sends_no_batch_again(self, sandbox_server: ServerSandbox) -> None:
        """SIGKILL once every DNS step's outcome is journaled and its changes are PENDING; resume: exactly one
        ChangeResourceRecordSets per zone in all, the journaled ids polled to INSYNC, the run succeeded."""
        sbx = sandbox_server
        zones = sorted({r.zone_id for r in sbx.topology.dns})
        dns_steps = {f"dns:{z}" for z in zones}
        journal = sbx.state_dir / "runs" / f"{RUN_ID}.jsonl"
        seeded = sbx.control.stats()  # the seed's own change batches
        sbx.control.set_metric_period_seconds(5.0)  # the planned move's catch-up datapoints come in seconds

        def changes_by_drctl() -> dict[str, int]:
            now = sbx.control.stats().route53_changes_by_zone
            return {z: now.get(z, 0) - seeded.route53_changes_by_zone.get(z, 0) for z in zones}

        first = start(sbx, "failover", "--to", "qa", "--yes", "--run-id", RUN_ID)
        try:
            wait_for(lambda: outcomes(journal, dns_steps) == dns_steps or first.poll() is not None, timeout=90)
        finally:
            first.send_signal(signal.SIGKILL)
            first.communicate(timeout=30)
        assert first.returncode == -signal.SIGKILL, "the run ended before its DNS changes were INSYNC"
        assert not [e for e in events(journal) if e["type"] == "step-finished" and e["step"] in dns_steps]
        journaled = change_ids(journal)
        assert sorted(journaled) == [f"dns.changes.{z}" for z in zones]
        assert all(len(ids) == 1 for ids in journaled.values())
        assert changes_by_drctl() == dict.fromkeys(zones, 1)

        resumed = start(sbx, "resume", RUN_ID, "--yes", "-o", "json")
        try:  # the resumed DNS steps act (nothing to send) and poll the PENDING changes; then Route53 syncs
            wait_for(lambda: outcomes(journal, dns_steps, after="run-resumed") == dns_steps
                     or resumed.poll() is not None, timeout=90)
        finally:
            sbx.control.set_change_pending_seconds(0)
        out, err = resumed.communicate(timeout=120)
        assert resumed.returncode == 0, err[-2000:]

        assert changes_by_drctl() == dict.fromkeys(zones, 1)
        calls = sbx.control.stats().calls["route53"]["ChangeResourceRecordSets"]
        assert calls - seeded.calls["route53"]["ChangeResourceRecordSets"] == len(zones)
        assert change_ids(journal) == journaled
        report = json.loads(out)
        assert report["status"] == "succeeded"
        dns = {s["name"]: s for s in report["steps"] if s["name"] in dns_steps}
        assert {s["status"] for s in dns.values()} == {"succeeded"}
        for zone in zones:
            assert journaled[f"dns.changes.{zone}"][0] in dns[f"dns:{zone}"]["detail"]
            assert "no change sent" in dns[f"dns:{zone}"]["detail"]
        finished = [e for e in events(journal) if e["type"] == "run-finished"]
        assert finished[-1]["status"] == "succeeded"
        route53 = sbx.boto3_client("route53", "prod", "us-east-1")
        for record in sbx.topology.dns:
            answer = route53.test_dns_answer(HostedZoneId=record.zone_id, RecordName=record.fqdn,
                                             RecordType=record.type)["RecordData"]
            assert [v.rstrip(".") for v in answer] == [record.targets["qa"]], record.fqdn
        for change_id in (ids[0] for ids in journaled.values()):
            assert route53.get_change(Id=change_id)["ChangeInfo"]["Status"] == "INSYNC"
