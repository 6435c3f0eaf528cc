"""`drctl config discover` and `config diff` against the sandbox seeded from the example topology.

One seeded sandbox serves the module; the one test that changes AWS (TestDriftAfterChanges) is the file's last."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_checks_support import invoke
from test_discover_support import as_topology, database_facts, record_facts

from dr.aws.factory import ClientFactory
from dr.config import check_file
from dr.config.model import Topology
from dr.discover import DriftKind, detect_drift, discover, drift
from dr.discover.drift import specs_of
from dr.discover.inputs import EnvSpec, skeleton
from dr.discover.model import Discovery
from dr.testing import InProcessSandbox, in_process_sandbox

READS = ("Describe", "List", "Get")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessSandbox]:
    """The example topology seeded once for the module (fake credentials, no endpoint from the machine)."""
    with pytest.MonkeyPatch.context() as mp:
        for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
            mp.delenv(var, raising=False)
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        with in_process_sandbox(None, tmp_path_factory.mktemp("discover")) as box:
            yield box


def specs(topology: Topology, dr_for: bool = True) -> list[EnvSpec]:
    return [EnvSpec(n, e.account_id, e.region, e.dr_for if dr_for else None) for n, e in topology.environments.items()]


def run(box: InProcessSandbox, clients: ClientFactory | None = None, **kwargs: Any) -> Discovery:
    given = specs(box.topology, kwargs.pop("dr_for", True))
    factory = clients or ClientFactory(skeleton(given, "drctl"), run_id="discover-test")
    return discover(given, factory, zones=sorted({r.zone_id for r in box.topology.dns}), **kwargs)


class ReadOnlyFactory(ClientFactory):
    """Every client it makes fails any call that is not a read (Describe*, List*, Get*, and STS AssumeRole)."""

    made: list[str]

    def client(self, service: str, env: str, region: str | None = None) -> Any:
        client = super().client(service, env, region)
        if not getattr(client, "_read_only_guard", False):
            client.meta.events.register("before-call.*.*", self._refuse)
            client._read_only_guard = True
        return client

    def _refuse(self, model: Any, **_: Any) -> None:
        self.made = [*getattr(self, "made", []), str(model.name)]
        if not str(model.name).startswith(READS):
            raise AssertionError(f"discovery made a mutating call: {model.name}")


class TestReproducesTheExample:
    def test_databases_records_and_health_checks_come_back(self, sandbox: InProcessSandbox) -> None:
        """Discovery of the seeded example gives its databases, replicas, records and health checks."""
        found = as_topology(run(sandbox))
        assert database_facts(found) == database_facts(sandbox.topology)
        assert record_facts(found) == record_facts(sandbox.topology)
        assert {n: (e.account_id, e.region, e.dr_for) for n, e in found.environments.items()} == {
            n: (e.account_id, e.region, e.dr_for) for n, e in sandbox.topology.environments.items()}

    def test_dr_side_is_inferred_and_said_without_dr_for(self, sandbox: InProcessSandbox) -> None:
        """Without --dr-for, qa (home of prod's replicas) is taken as prod's DR side, as a decision to confirm."""
        found = run(sandbox, dr_for=False)
        assert found.environments["qa"].dr_for == "prod"
        assert any("qa is taken as the DR side of prod" in d for d in found.decisions)

    def test_discovery_makes_no_mutating_call(self, sandbox: InProcessSandbox) -> None:
        """Through clients that fail every non-read call, discovery completes, having read every service."""
        given = specs(sandbox.topology)
        guarded = ReadOnlyFactory(skeleton(given, "drctl"), run_id="read-only")
        found = run(sandbox, clients=guarded)
        assert len(found.databases) == 4
        assert {"DescribeDBInstances", "DescribeGlobalClusters", "ListResourceRecordSets", "ListHealthChecks",
                "ListClusters", "DescribeServices", "DescribeAutoScalingGroups"} <= set(guarded.made)

    def test_record_sets_and_health_checks_are_read_page_by_page(self, sandbox: InProcessSandbox) -> None:
        """With one item per page (a page ends between a failover record's two sets), every zone and the health
        checks take several requests and nothing is lost or listed twice."""
        whole, paged = run(sandbox), run(sandbox, page_size=1)
        assert record_facts(as_topology(paged)) == record_facts(as_topology(whole))
        checks = sum(len(r.health_checks) for r in sandbox.topology.dns)  # one per page
        assert paged.calls["route53"]["ListHealthChecks"] == checks > whole.calls["route53"]["ListHealthChecks"]
        sets = sum(len(v) for v in paged.zone_values.values())
        calls = paged.calls["route53"]["ListResourceRecordSets"], whole.calls["route53"]["ListResourceRecordSets"]
        assert calls[0] > sets > calls[1]


class TestCommand:
    def test_written_topology_passes_validate_and_says_where_entries_came_from(
            self, sandbox: InProcessSandbox, tmp_path: Path) -> None:
        """--write writes YAML that `config validate` accepts, with a source comment per entry and the patterns."""
        out = tmp_path / "dr.yaml"
        code, _ = invoke("config", "discover", *env_args(sandbox.topology), "--dr-for", "qa=prod",
                         *zone_args(sandbox.topology), "--write", str(out))
        assert code == 0
        model, findings = check_file(out)
        assert model is not None, [str(f) for f in findings]
        text = out.read_text()
        assert "# ReadReplicaSourceDBInstanceIdentifier of orders-db-euw1" in text
        assert "# GlobalClusterMembers of global cluster payments-global" in text
        assert "region as a DNS label: eu-central-1 <-> eu-west-1" in text
        assert "#   qa: ecs ecs-1/service-a (capacity 2)" in text
        assert invoke("config", "validate", "-c", str(out))[0] == 0

    def test_write_refuses_an_existing_file_without_force(self, sandbox: InProcessSandbox, tmp_path: Path) -> None:
        """An existing --write target is kept (exit 2) unless --force replaces it."""
        out = tmp_path / "dr.yaml"
        out.write_text("mine\n")
        args = ["config", "discover", *env_args(sandbox.topology), *zone_args(sandbox.topology), "--write", str(out)]
        code, text = invoke(*args)
        assert (code, out.read_text()) == (2, "mine\n")
        assert "--force" in text
        assert invoke(*args, "--force")[0] == 0
        assert yaml.safe_load(out.read_text())["version"] == 1

    def test_json_report_holds_topology_sources_and_calls(self, sandbox: InProcessSandbox) -> None:
        """-o json: the topology, valid, with sources, decisions and the calls made."""
        code, text = invoke("config", "discover", *env_args(sandbox.topology), *zone_args(sandbox.topology),
                            "-o", "json")
        assert code == 0
        doc = json.loads(text[text.index("{"):])
        assert doc["valid"] is True
        assert len(doc["topology"]["databases"]) == 4
        assert doc["sources"]["databases"]["payments"].startswith("GlobalClusterMembers")
        assert doc["calls"]["rds"]["DescribeDBInstances"] >= 1

    def test_unknown_zone_is_a_usage_error(self, sandbox: InProcessSandbox) -> None:
        """A --zone no given account has: exit 2, naming it."""
        code, text = invoke("config", "discover", *env_args(sandbox.topology), "--zone", "ZNOSUCHZONE")
        assert code == 2
        assert "ZNOSUCHZONE" in text


def env_args(topology: Topology) -> list[str]:
    return [a for n, e in topology.environments.items() for a in ("--env", f"{n}={e.account_id}:{e.region}")]


def zone_args(topology: Topology) -> list[str]:
    return [a for z in sorted({r.zone_id for r in topology.dns}) for a in ("--zone", z)]


class TestDrift:
    def test_seeded_sandbox_is_in_sync(self, sandbox: InProcessSandbox) -> None:
        """Right after seeding, the topology and AWS agree: no drift, `config diff` exits 0."""
        assert detect_drift(sandbox.topology, sandbox.clients)[0] == []
        assert invoke("config", "diff", "-c", str(sandbox.config_path))[0] == 0

    def test_drift_is_a_function_of_topology_and_discovery(self, sandbox: InProcessSandbox) -> None:
        """`drift` needs no AWS: the same discovery compared with a topology lacking a database reports it."""
        found = discover(specs_of(sandbox.topology), sandbox.clients,
                         zones=[r.zone_id for r in sandbox.topology.dns])
        fewer = sandbox.topology.model_copy(update={"databases": sandbox.topology.databases[1:]})
        kinds = [(d.kind, d.message.split(" ")[0]) for d in drift(fewer, found)]
        assert kinds == [(DriftKind.UNLISTED_DATABASE, "orders-db")]


class TestDriftAfterChanges:
    """Changes the module's sandbox: keep it last."""

    def test_removed_replica_added_database_and_moved_record_are_reported(self, sandbox: InProcessSandbox) -> None:
        """A deleted replica, a new primary with a replica, a record pointing elsewhere: exit 1 with each."""
        break_things(sandbox)
        code, text = invoke("config", "diff", "-c", str(sandbox.config_path), "-o", "json")
        assert code == 1
        found = {(d["kind"], d["path"]) for d in json.loads(text)["differences"]}
        assert found == {("unlisted-database", "databases"), ("missing-copy", "databases[0].replica"),
                         ("record-elsewhere", "dns[0]")}


def break_things(box: InProcessSandbox) -> None:
    """Delete orders' replica, add ledger-db with a replica in eu-west-1, point api.example.com elsewhere."""
    west, central = box.clients.client("rds", "prod", "eu-west-1"), box.clients.client("rds", "prod", "eu-central-1")
    west.delete_db_instance(DBInstanceIdentifier="orders-db-euw1", SkipFinalSnapshot=True)
    primary = central.create_db_instance(
        DBInstanceIdentifier="ledger-db", Engine="postgres", EngineVersion="16.3", DBInstanceClass="db.t3.micro",
        AllocatedStorage=20, MasterUsername="ledger", MasterUserPassword="sandbox-password-1",
        BackupRetentionPeriod=7)["DBInstance"]
    west.create_db_instance_read_replica(DBInstanceIdentifier="ledger-db-euw1", SourceRegion="eu-central-1",
                                         SourceDBInstanceIdentifier=primary["DBInstanceArn"],
                                         DBInstanceClass="db.t3.micro")
    api = box.topology.dns[0]
    box.clients.route53("prod").change_resource_record_sets(HostedZoneId=api.zone_id, ChangeBatch={"Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": {"Name": api.fqdn, "Type": "CNAME", "TTL": 60,
                                                   "ResourceRecords": [{"Value": "elsewhere.example.net"}]}}]})

