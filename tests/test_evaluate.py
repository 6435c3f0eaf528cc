"""Plan evaluation against the sandbox: each check passes on a healthy estate and fails with its reason."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dr.aws.rds import member_arn
from dr.clock import FakeClock
from dr.config.backups import DrBackup, DrBackupSource
from dr.config.model import Engine, Topology
from dr.evaluate import CHECKS, EvaluationContext, Finding, evaluate
from dr.evaluate.model import CheckOutcome
from dr.sandbox._seed_roles import seed_roles
from dr.testing import InProcessSandbox

PROD = "111111111111"
DR_REGION = "eu-west-1"


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessSandbox]:
    """The example seeded once for this module's read-only tests; the sandbox's clock is a fake one, so backup
    ages are exact (tests that change AWS are in test_evaluate_changes.py)."""
    from dr.testing.sandbox import in_process_sandbox

    with pytest.MonkeyPatch.context() as env:
        for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
            env.delenv(var, raising=False)
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        with in_process_sandbox(None, tmp_path_factory.mktemp("evaluate"), clock=FakeClock()) as box:
            seed_roles(box.topology, box.clients)  # as `drctl sandbox up` does: the permissions check's roles
            yield box


@pytest.fixture
def sandbox(shared: InProcessSandbox) -> Iterator[InProcessSandbox]:
    """The shared sandbox; what a test changes is undone after it (backup copies, quotas, replica backups)."""
    yield shared
    shared.control.set_rds_quota(PROD, DR_REGION, "DBInstances", 40)
    enable_replica_backups(shared, days=0)
    for db in shared.topology.databases:
        arn = member_arn(shared.topology, db, db.primary)
        shared.control.set_dr_backup(PROD, DR_REGION, arn, None)
        shared.control.set_recovery_point(PROD, DR_REGION, "dr-vault", arn, None)


def outcome(sandbox: InProcessSandbox, check: str, topology: Topology | None = None) -> CheckOutcome:
    """The outcome of `check` for qa (the sandbox's clock is the fake `sandbox_clock`)."""
    from dr.sandbox.extensions import STATE

    clock = STATE.clock
    [found] = [o for o in evaluate(topology or sandbox.topology, sandbox.clients, clock, "qa") if o.check == check]
    return found


def with_rds_replication(topology: Topology, max_age: float = 26 * 3600) -> Topology:
    """The topology with RDS automated-backup replication named for its rds-instance databases."""
    backup = DrBackup(source=DrBackupSource.RDS_REPLICATION, max_age=max_age)
    dbs = [db.model_copy(update={"dr_backup": backup}) if db.engine is Engine.RDS_INSTANCE else db
           for db in topology.databases]
    return topology.model_copy(update={"databases": dbs})


def enable_replica_backups(sandbox: InProcessSandbox, days: int = 7) -> None:
    """Set the instance replicas' backup retention (0: off again, as the seed created them)."""
    rds = sandbox.clients.client("rds", "prod", DR_REGION)
    for db in sandbox.topology.databases:
        if db.engine is Engine.RDS_INSTANCE:
            rds.modify_db_instance(DBInstanceIdentifier=db.replica.id, BackupRetentionPeriod=days,
                                   ApplyImmediately=True)


class TestResources:
    def test_seeded_copies_have_the_roles_the_topology_gives_them(self, sandbox: InProcessSandbox) -> None:
        """Every primary writable, every replica replicating from it or a global secondary: pass."""
        found = outcome(sandbox, "resources")
        assert found.ok, found.reason
        assert len(found.findings) == 2 * len(sandbox.topology.databases)

class TestRdsQuota:
    def test_default_quotas_leave_room(self, sandbox: InProcessSandbox) -> None:
        """40 instances and clusters per region hold the seed plus what a re-protect creates."""
        found = outcome(sandbox, "rds-quota")
        assert found.ok, found.reason
        assert any(f.resource == f"DBInstances in prod/{DR_REGION}" for f in found.findings)

class TestDnsTtl:
    def test_seeded_ttls_are_within_the_maximum(self, sandbox: InProcessSandbox) -> None:
        """The example's 60 s TTLs are within the default max_dns_ttl of 300 s."""
        assert outcome(sandbox, "dns-ttl").ok

    def test_a_long_ttl_fails_naming_record_and_maximum(self, sandbox: InProcessSandbox) -> None:
        """A record with a one-hour TTL is above the maximum, and the reason says the RTO has to include it."""
        record = sandbox.topology.dns[0]
        topology = sandbox.topology.model_copy(update={"dns": [record.model_copy(update={"ttl": 3600})]})
        found = outcome(sandbox, "dns-ttl", topology)
        assert not found.ok
        assert f"{record.fqdn} {record.type}: TTL 3600s, above objectives.max_dns_ttl (300s)" in found.reason

    def test_a_long_ttl_in_route53_fails_though_dr_yaml_declares_a_short_one(self, sandbox: InProcessSandbox) -> None:
        """What resolvers cache today is Route 53's TTL: a record set changed to one hour there fails the check."""
        record = sandbox.topology.dns[0]
        route53 = sandbox.clients.route53(record.env)
        sets = route53.list_resource_record_sets(HostedZoneId=record.zone_id)["ResourceRecordSets"]
        live = next(s for s in sets if s["Name"] == record.fqdn and s["Type"] == record.type)
        changed = dict(live, TTL=3600)
        route53.change_resource_record_sets(HostedZoneId=record.zone_id, ChangeBatch={
            "Changes": [{"Action": "UPSERT", "ResourceRecordSet": changed}]})
        try:
            found = outcome(sandbox, "dns-ttl")
        finally:
            route53.change_resource_record_sets(HostedZoneId=record.zone_id, ChangeBatch={
                "Changes": [{"Action": "UPSERT", "ResourceRecordSet": live}]})
        assert not found.ok
        assert f"{record.fqdn} {record.type}: Route 53 has 3600s, above objectives.max_dns_ttl" in found.reason


class TestReplicaBackups:
    def test_replicas_created_without_backups_fail(self, sandbox: InProcessSandbox) -> None:
        """AWS creates read replicas with backups off: the seeded instance replicas fail, each named."""
        found = outcome(sandbox, "replica-backups")
        assert not found.ok
        assert "orders-db-euw1 (prod/eu-west-1): automated backups are off (retention 0)" in found.reason
        assert "inventory-cluster-euw1" not in found.reason

class TestDrBackup:
    def test_without_a_setting_nothing_is_checked(self, sandbox: InProcessSandbox) -> None:
        """No dr_backup(s) in the topology: the check has nothing to look at and passes."""
        found = outcome(sandbox, "dr-backup")
        assert found.ok
        assert found.findings == ()

    def test_a_fresh_replicated_backup_passes_with_its_age(self, sandbox: InProcessSandbox) -> None:
        """A replicated backup restorable to one hour ago is fresh; its age is the finding's value."""
        topology = with_rds_replication(sandbox.topology)
        orders = topology.databases[0]
        sandbox.control.set_dr_backup(PROD, DR_REGION, member_arn(topology, orders, orders.primary), 3600)
        sandbox.control.set_dr_backup(PROD, DR_REGION, member_arn(topology, topology.databases[1],
                                                                  topology.databases[1].primary), 600)
        found = outcome(sandbox, "dr-backup", topology)
        assert found.ok, found.reason
        ages = {dict(f.labels)["database"]: f.value for f in found.findings}
        assert ages == {"orders": 3600.0, "customers": 600.0}

    def test_a_stale_or_missing_copy_fails_with_its_reason(self, sandbox: InProcessSandbox) -> None:
        """30 h old is over the 26 h default; a database with no replicated backup says none was found."""
        topology = with_rds_replication(sandbox.topology)
        orders = topology.databases[0]
        sandbox.control.set_dr_backup(PROD, DR_REGION, member_arn(topology, orders, orders.primary), 30 * 3600)
        found = outcome(sandbox, "dr-backup", topology)
        assert not found.ok
        assert f"orders ({DR_REGION}): newest restorable copy is 30h00m old, over the 26h00m allowed" in found.reason
        assert f"customers ({DR_REGION}): no restorable copy" in found.reason


class TestRunner:
    def test_every_registered_check_reports_for_each_dr_target(self, sandbox: InProcessSandbox) -> None:
        """Without --to, every DR environment (qa) gets one outcome per registered check, in order."""
        outcomes = evaluate(sandbox.topology, sandbox.clients, FakeClock())
        assert [(o.check, o.env) for o in outcomes] == [(c.name, "qa") for c in CHECKS]

    def test_a_plugged_in_check_that_raises_fails_with_what_it_could_not_read(
            self, sandbox: InProcessSandbox) -> None:
        """A check is any object with `name` and `__call__(ctx)`; an error in it is a failed outcome, not a crash."""

        class Permissions:
            name = "permissions"

            def __call__(self, ctx: EvaluationContext) -> list[Finding]:
                ctx.clients.client("iam", ctx.target).get_role(RoleName="absent-role")
                return []

        [found] = evaluate(sandbox.topology, sandbox.clients, FakeClock(), "qa", [Permissions()])
        assert (found.check, found.ok) == ("permissions", False)
        assert found.reason.startswith("permissions: could not evaluate: ")


class TestCli:
    def test_unknown_target_exits_2(self, sandbox: InProcessSandbox, tmp_path: Path) -> None:
        """--to an environment the topology lacks is bad input: exit 2 naming the known ones."""
        from typer.testing import CliRunner

        from dr.cli.main import app

        result = CliRunner().invoke(app, ["plan", "evaluate", "--to", "staging", "-c", str(sandbox.config_path)])
        assert result.exit_code == 2
        assert "staging" in result.output
        assert "qa" in result.output


class TestReadinessDrBackup:
    def test_readiness_of_the_dr_side_reports_each_backed_up_database(self, sandbox: InProcessSandbox) -> None:
        """readiness(qa) has a dr-backup result per database with a setting: fresh passes, stale fails why."""
        from dr.checks.readiness import readiness
        from dr.sandbox.extensions import STATE

        topology = with_rds_replication(sandbox.topology)
        orders, customers = topology.databases[0], topology.databases[1]
        sandbox.control.set_dr_backup(PROD, DR_REGION, member_arn(topology, orders, orders.primary), 7200)
        sandbox.control.set_dr_backup(PROD, DR_REGION, member_arn(topology, customers, customers.primary), 27 * 3600)
        results = {r.resource: r for r in readiness(topology, sandbox.clients, STATE.clock, "qa")
                   if str(r.check) == "dr-backup"}
        assert results["orders"].ok
        assert results["orders"].reason.startswith("newest restorable copy is 2h00m old")
        assert not results["customers"].ok
        assert results["customers"].reason.startswith("newest restorable copy is 27h00m old, over the 26h00m")

    def test_the_primary_side_has_no_dr_backup_result(self, sandbox: InProcessSandbox) -> None:
        """prod's region is not the DR region of any database: its readiness has no dr-backup check."""
        from dr.checks.readiness import readiness
        from dr.sandbox.extensions import STATE

        results = readiness(with_rds_replication(sandbox.topology), sandbox.clients, STATE.clock, "prod")
        assert not [r for r in results if str(r.check) == "dr-backup"]


class TestExporterPlanMetrics:
    def test_plan_checks_reasons_and_backup_ages_are_exported(self, sandbox: InProcessSandbox) -> None:
        """One evaluation: drctl_plan_check_ok per check, the reason as drctl_plan_check_info, the backup age growing
        with time since the evaluation, and the configured maximum."""
        from prometheus_client import generate_latest
        from prometheus_client.parser import text_string_to_metric_families

        from dr.metrics.exporter import Exporter
        from dr.sandbox.extensions import STATE

        clock = STATE.clock
        assert isinstance(clock, FakeClock)
        topology = with_rds_replication(sandbox.topology)
        for db in topology.databases[:2]:
            sandbox.control.set_dr_backup(PROD, DR_REGION, member_arn(topology, db, db.primary), 3600)
        exporter = Exporter(topology, clients=sandbox.clients, clock=clock)
        assert exporter.evaluator is not None
        assert exporter.evaluator.evaluate_once()
        clock.advance(600)
        samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
                   for family in text_string_to_metric_families(generate_latest(exporter.registry).decode())
                   for s in family.samples}
        assert samples[("drctl_plan_check_ok", (("check", "resources"), ("env", "qa")))] == 1.0
        assert samples[("drctl_plan_check_ok", (("check", "replica-backups"), ("env", "qa")))] == 0.0
        reasons = [dict(labels)["reason"] for name, labels in samples if name == "drctl_plan_check_info"
                   and dict(labels)["check"] == "replica-backups"]
        assert len(reasons) == 1
        assert reasons[0].startswith("orders-db-euw1 (prod/eu-west-1): automated backups are off")
        assert samples[("drctl_dr_backup_age_seconds", (("database", "orders"), ("region", DR_REGION)))] == 4200.0
        assert samples[("drctl_dr_backup_max_age_seconds", (("database", "orders"),))] == 26 * 3600.0
        assert samples[("drctl_exporter_errors_total", (("source", "plan"),))] == 0.0


class TestExporterCheck:
    def test_check_prints_json_and_exits_1_on_a_failing_plan_check(self, sandbox: InProcessSandbox) -> None:
        """`drctl exporter --check -o json`: one refresh and one evaluation, the failing check with its reason."""
        from typer.testing import CliRunner

        from dr.cli.main import app

        result = CliRunner().invoke(app, ["exporter", "-c", str(sandbox.config_path), "--check", "-o", "json"])
        assert result.exit_code == 1, result.output
        document = json.loads(result.output)
        assert document["plan_evaluated"] is True
        assert document["plan"]["replica-backups/qa"]["ok"] is False
        assert document["plan"]["resources/qa"] == {"ok": True, "reason": "8 checked, all fine"}

    def test_check_under_a_simulated_outage_counts_the_failed_reads(self, sandbox: InProcessSandbox) -> None:
        """--simulate-outage eu-west-1: the DR region's reads fail and are counted; the plan checks say why."""
        from typer.testing import CliRunner

        from dr.cli.main import app

        result = CliRunner().invoke(app, ["exporter", "-c", str(sandbox.config_path), "--check", "-o", "json",
                                          "--simulate-outage", DR_REGION])
        assert result.exit_code == 1, result.output
        document = json.loads(result.output)
        assert document["sources_ok"] is False
        assert document["errors"]["readiness"] >= 1
        assert document["plan"]["resources/qa"]["ok"] is False
        assert "could not evaluate" in document["plan"]["resources/qa"]["reason"]


class TestDrBackupFromAwsBackup:
    def test_recovery_points_in_the_dr_vault_give_the_age_and_a_missing_vault_its_reason(
            self, sandbox: InProcessSandbox) -> None:
        """aws-backup: the newest COMPLETED point of the primary's ARN in the DR vault; a vault that does not exist
        fails that database with AWS's error, the others are still read."""
        vault = DrBackup(source=DrBackupSource.AWS_BACKUP, vault="dr-vault")
        absent = DrBackup(source=DrBackupSource.AWS_BACKUP, vault="no-such-vault")
        dbs = [db.model_copy(update={"dr_backup": vault if db.name == "inventory" else absent})
               if db.name in ("inventory", "payments") else db for db in sandbox.topology.databases]
        topology = sandbox.topology.model_copy(update={"databases": dbs})
        sandbox.clients.client("backup", "prod", DR_REGION).create_backup_vault(BackupVaultName="dr-vault")
        inventory = next(db for db in dbs if db.name == "inventory")
        arn = member_arn(topology, inventory, inventory.primary)
        sandbox.control.set_recovery_point(PROD, DR_REGION, "dr-vault", arn, 5 * 3600)
        found = outcome(sandbox, "dr-backup", topology)
        by_db = {dict(f.labels).get("database", f.resource.split()[0]): f for f in found.findings}
        assert by_db["inventory"].ok
        assert by_db["inventory"].value == 5 * 3600.0
        assert "recovery points of inventory-cluster in vault dr-vault (eu-west-1)" in by_db["inventory"].reason
        assert not by_db["payments"].ok
        assert by_db["payments"].reason.startswith("could not read its aws-backup copies: ")
        assert "ResourceNotFoundException" in by_db["payments"].reason


class TestRdsQuotaFull:
    def test_a_full_quota_fails_with_used_max_and_need(self, sandbox: InProcessSandbox) -> None:
        """DBInstances at its maximum in the DR region: the re-protect's extra instances do not fit."""
        used = len(sandbox.clients.client("rds", "prod", DR_REGION).describe_db_instances()["DBInstances"])
        sandbox.control.set_rds_quota(PROD, DR_REGION, "DBInstances", used)
        found = outcome(sandbox, "rds-quota")
        assert not found.ok
        assert f"DBInstances in prod/{DR_REGION}: {used} used of {used}: a re-protect creates 3 more" in found.reason


class TestReplicaBackupsOn:
    def test_replicas_with_backups_pass(self, sandbox: InProcessSandbox) -> None:
        """With retention set on the instance replicas, every replica has backups on."""
        enable_replica_backups(sandbox)
        found = outcome(sandbox, "replica-backups")
        assert found.ok, found.reason


class TestPermissions:
    def test_roles_with_the_generated_policies_pass_per_env_and_region(self, sandbox: InProcessSandbox) -> None:
        """Each env's role, holding `drctl iam policy`'s policies, is allowed every declared call in each region."""
        found = outcome(sandbox, "permissions")
        assert found.ok, found.reason
        assert {f.resource.split("/")[0] for f in found.findings} == {"prod", "qa"}
        assert all("is allowed all" in f.reason for f in found.findings)

    def test_a_detached_policy_fails_naming_the_denied_actions_and_the_fix(self, sandbox: InProcessSandbox) -> None:
        """Without one of its managed policies the prod role is denied actions: named, with `drctl iam policy`."""
        iam = sandbox.clients.client("iam", "prod", "us-east-1")
        attached = iam.list_attached_role_policies(RoleName="drctl")["AttachedPolicies"]
        iam.detach_role_policy(RoleName="drctl", PolicyArn=attached[0]["PolicyArn"])
        try:
            found = outcome(sandbox, "permissions")
        finally:
            iam.attach_role_policy(RoleName="drctl", PolicyArn=attached[0]["PolicyArn"])
        assert not found.ok
        bad = [f for f in found.findings if not f.ok]
        assert all(f.resource.startswith("prod/") for f in bad)
        assert all("is denied" in f.reason and "`drctl iam policy --env prod`" in f.reason for f in bad)


class TestDrift:
    def test_the_seeded_topology_matches_aws(self, sandbox: InProcessSandbox) -> None:
        """Discovery finds what the topology describes: one passing finding."""
        found = outcome(sandbox, "drift")
        assert found.ok, found.reason


class TestCliExitCodes:
    def test_json_exit_1_while_a_check_fails_then_0(self, sandbox: InProcessSandbox) -> None:
        """`drctl plan evaluate --to qa -o json`: exit 1 with the failing check and reason, 0 once fixed."""
        from typer.testing import CliRunner

        from dr.cli.main import app

        args = ["plan", "evaluate", "--to", "qa", "-c", str(sandbox.config_path), "-o", "json"]
        first = CliRunner().invoke(app, args)
        assert first.exit_code == 1, first.output
        document = json.loads(first.output)
        failing = {c["check"]: c["reason"] for c in document["checks"] if not c["ok"]}
        assert list(failing) == ["replica-backups"]
        enable_replica_backups(sandbox)
        second = CliRunner().invoke(app, args)
        assert second.exit_code == 0, second.output
        assert json.loads(second.output)["ok"] is True
