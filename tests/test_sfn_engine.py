"""The Step Functions engine against the sandbox with moto's ASL interpreter: deploy, execute, compare."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dr.cli.run_options import RunFlags
from dr.sfn import naming
from dr.sfn.deploy import deploy
from dr.sfn.run import _start, definition_for
from dr.testing.sandbox import InProcessSandbox

def _deployed(sandbox: InProcessSandbox) -> Any:
    defn = definition_for(sandbox.topology, "failover", "prod", "qa", sandbox.clients)
    deploy(sandbox.clients, defn, "test-topology")
    return defn


def _state(sandbox: InProcessSandbox) -> dict[str, Any]:
    """What a move changes: each DR copy's link and generation tag, each record's value."""
    rds = sandbox.clients.client("rds", "prod", "eu-west-1")
    out: dict[str, Any] = {}
    for db in sandbox.topology.databases:
        if db.engine.value == "rds-instance":
            found = rds.describe_db_instances(DBInstanceIdentifier=db.replica.id)["DBInstances"][0]
            source = found.get("ReadReplicaSourceDBInstanceIdentifier")
        else:
            found = rds.describe_db_clusters(DBClusterIdentifier=db.replica.id)["DBClusters"][0]
            source = found.get("ReplicationSourceIdentifier")
        if db.global_cluster_id:  # a global member replicates from the global writer
            members = rds.describe_global_clusters(GlobalClusterIdentifier=db.global_cluster_id)[
                "GlobalClusters"][0]["GlobalClusterMembers"]
            source = next(m["DBClusterArn"] for m in members if m["IsWriter"])
            source = None if source == found["DBClusterArn"] else source
        tags = {t["Key"]: t["Value"] for t in found.get("TagList", [])}
        out[db.name] = (source, tags.get("drctl:generation"), found.get("BackupRetentionPeriod"))
    r53 = sandbox.clients.route53("prod")
    for record in sandbox.topology.dns:
        sets = r53.list_resource_record_sets(HostedZoneId=record.zone_id)["ResourceRecordSets"]
        out[record.fqdn] = sorted((s.get("Failover", ""), s.get("SetIdentifier", ""), s["ResourceRecords"][0]["Value"],
                                   s.get("HealthCheckId", "")) for s in sets if s["Name"] == record.fqdn)
    return out


class TestExecution:
    def test_execution_promotes_and_moves_dns(self, sandbox: InProcessSandbox, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:
        """The deployed machine, started with --unplanned --accept-data-loss, promotes every replica and
        points every record at qa; the report has the local schema and the run succeeds."""
        monkeypatch.setattr("dr.sfn.run.POLL_SECONDS", 0.05)
        _deployed(sandbox)
        before = _state(sandbox)
        assert all(v[0] for k, v in before.items() if not k.endswith("."))
        outcome = _start("failover", config=str(sandbox.config_path), target="qa",
                         flags=RunFlags(yes=True, planned=False, accept_data_loss=True, run_id="sfn-run-1"))
        after = _state(sandbox)
        assert outcome.exit_code == 0, json.dumps(outcome.report, indent=1)[:3000]
        for db in sandbox.topology.databases:
            assert after[db.name][0] is None
            assert after[db.name][1] == (None if db.global_cluster_id else "1")
        for record in sandbox.topology.dns:
            serving = [v for failover, _, v, _ in after[record.fqdn] if failover in ("", "PRIMARY")]
            assert serving == [record.targets["qa"]]
        names = {s["name"]: s["status"] for s in outcome.report["steps"]}
        zones = {r.zone_id for r in sandbox.topology.dns}
        assert names["promote:orders"] == "succeeded" and all(names[f"dns:{z}"] == "succeeded" for z in zones)
        assert names["fence-old-writer:orders"] == "skipped"
        assert outcome.report["execution_arn"].endswith(":sfn-run-1")

    def test_second_execution_finds_everything_done(self, sandbox: InProcessSandbox,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
        """A second run (new execution) reads before acting: the copies keep generation 1, nothing is promoted or
        tagged twice, and the run succeeds."""
        monkeypatch.setattr("dr.sfn.run.POLL_SECONDS", 0.05)
        _deployed(sandbox)
        flags = {"yes": True, "planned": False, "accept_data_loss": True}
        _start("failover", config=str(sandbox.config_path), target="qa", flags=RunFlags(run_id="sfn-a", **flags))
        first = _state(sandbox)
        again = _start("failover", config=str(sandbox.config_path), target="qa", flags=RunFlags(run_id="sfn-b", **flags))
        assert again.exit_code == 0
        assert _state(sandbox) == first
        sfn = sandbox.clients.client("stepfunctions", "prod", "eu-west-1")
        events = sfn.get_execution_history(executionArn=again.report["execution_arn"], maxResults=1000)["events"]
        called = {e["taskScheduledEventDetails"]["resource"] for e in events if e["type"] == "TaskScheduled"}
        assert "promoteReadReplica" not in called and "addTagsToResource" not in called

    def test_planned_move_is_refused_before_anything_runs(self, sandbox: InProcessSandbox) -> None:
        """Without --unplanned the engine refuses (exit 2): a planned move needs the source region."""
        from dr.errors import UsageError

        _deployed(sandbox)
        with pytest.raises(UsageError, match="--unplanned"):
            _start("failover", config=str(sandbox.config_path), target="qa", flags=RunFlags(yes=True))

    def test_deploy_is_idempotent_and_dry_run_shows_no_difference(self, sandbox: InProcessSandbox) -> None:
        """A second deploy changes nothing; --dry-run against it reports `unchanged` with an empty diff."""
        defn = _deployed(sandbox)
        again = deploy(sandbox.clients, defn, "test-topology")
        dry = deploy(sandbox.clients, defn, "test-topology", dry_run=True)
        assert (again.action, dry.action, dry.diff) == ("unchanged", "unchanged", "")
        sfn = sandbox.clients.client("stepfunctions", "prod", "eu-west-1")
        tags = {t["key"]: t["value"] for t in sfn.list_tags_for_resource(resourceArn=naming.machine_arn(defn))["tags"]}
        assert tags[naming.DEFINITION_TAG] == naming.definition_hash(defn)
