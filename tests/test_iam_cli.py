"""`drctl iam policy`: the generated documents, their rules (no wildcard action, `*` only where AWS has no
resource type, region conditions), bad input, and docs/iam.md in sync with the generator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dr.cli.main import app
from dr.config import load
from dr.engine.step import RunContext, Step
from dr.iam.arns import NO_RESOURCE_LEVEL
from dr.iam.doc import generated_section, splice
from dr.iam.grants import UndeclaredStep, declared
from tests.conftest import EXAMPLE, ROOT


def drctl(*args: str) -> Any:
    return CliRunner().invoke(app, ["iam", "policy", "-c", str(EXAMPLE), *args])


class TestIamPolicyCommand:
    @pytest.mark.parametrize("env", ["prod", "qa"])
    def test_policy_names_every_action_and_uses_star_only_without_resource_types(self, env: str) -> None:
        """No wildcard action; `*` only for actions AWS authorizes on no resource; every statement region-bound."""
        result = drctl("--env", env, "-o", "json")
        assert result.exit_code == 0, result.output
        document = json.loads(result.stdout)
        statements = document["permissions_policy"]["Statement"]
        assert statements
        for statement in statements:
            assert all("*" not in a and "?" not in a for a in statement["Action"])
            if "*" in statement["Resource"]:
                assert set(statement["Action"]) <= set(NO_RESOURCE_LEVEL), statement
            assert "aws:RequestedRegion" in statement["Condition"]["StringEquals"]
        assert document["trust_policy"]["Statement"][0]["Principal"] == {
            "AWS": f"arn:aws:iam::{document['account_id']}:root"}
        assert document["caller_policy"]["Statement"][0]["Resource"] == document["role_arn"]

    def test_prod_holds_the_database_moves_and_qa_only_its_application_tier(self) -> None:
        """RDS actions go to prod's role (the DR copies live in prod's account); qa's reads EKS/ECS/ASG (and may
        simulate its own policy), and plan evaluation's drift check lists its application tier and its account's
        databases."""
        prod = json.loads(drctl("--env", "prod", "-o", "json").stdout)["permissions_policy"]["Statement"]
        qa = json.loads(drctl("--env", "qa", "-o", "json").stdout)["permissions_policy"]["Statement"]
        prod_actions = {a for s in prod for a in s["Action"]}
        qa_actions = {a for s in qa for a in s["Action"]}
        moves = {"rds:PromoteReadReplica", "rds:SwitchoverGlobalCluster", "route53:ChangeResourceRecordSets"}
        assert moves <= prod_actions
        assert qa_actions == {"eks:DescribeCluster", "ecs:DescribeServices", "autoscaling:DescribeAutoScalingGroups",
                              "iam:SimulatePrincipalPolicy",  # plan evaluation: the role simulates itself
                              "eks:ListClusters", "ecs:ListClusters", "ecs:ListServices",  # drift: discovery
                              "rds:DescribeDBInstances", "rds:DescribeDBClusters", "rds:DescribeGlobalClusters"}
        assert not any(a.startswith("rds:") and not a.startswith("rds:Describe") for a in qa_actions)

    def test_managed_policies_fit_iams_size_and_hold_every_statement(self) -> None:
        """prod's policy is over 6,144 characters: `managed_policies` cuts it into documents that each fit and
        together hold exactly its statements, in order."""
        from dr.iam.policy import MANAGED_POLICY_MAX_CHARS, size

        document = json.loads(drctl("--env", "prod", "-o", "json").stdout)
        whole, parts = document["permissions_policy"], document["managed_policies"]
        assert size(whole) > MANAGED_POLICY_MAX_CHARS
        assert len(parts) > 1
        assert all(size(part) <= MANAGED_POLICY_MAX_CHARS for part in parts)
        assert [s for part in parts for s in part["Statement"]] == whole["Statement"]
        assert document["warnings"] == []

    def test_exporter_scope_is_read_only(self) -> None:
        """The exporter's policy (its sources and plan evaluation) holds only Describe/List/Get actions and
        iam:SimulatePrincipalPolicy (a read: it evaluates the role's policies, changing nothing)."""
        document = json.loads(drctl("--env", "prod", "--runbook", "exporter", "-o", "json").stdout)
        actions = {a for s in document["permissions_policy"]["Statement"] for a in s["Action"]}
        assert "iam:SimulatePrincipalPolicy" in actions
        assert "rds:DescribeAccountAttributes" in actions
        assert all(a.split(":")[1].startswith(("Describe", "List", "Get")) for a in actions
                   if a != "iam:SimulatePrincipalPolicy")

    @pytest.mark.parametrize(("args", "option"), [
        (["--env", "mars"], "--env"),
        (["--env", "prod", "--runbook", "everything"], "--runbook"),
        (["--env", "prod", "--principal", "bob"], "--principal"),
    ])
    def test_bad_input_exits_2_naming_the_option(self, args: list[str], option: str) -> None:
        """An unknown env, runbook or malformed principal: exit 2, the message names the option."""
        result = drctl(*args)
        assert result.exit_code == 2
        assert option in result.output
        assert "Traceback" not in result.output

    def test_a_step_without_a_declaration_is_refused(self) -> None:
        """The generator never treats an undeclared step as needing nothing."""
        ctx = RunContext(topology=load(EXAMPLE), clients=None, clock=None, run_id="r", runbook="x",  # type: ignore[arg-type]
                         source="prod", target="qa")
        with pytest.raises(UndeclaredStep, match="permissions"):
            declared(Step(), ctx)


class TestDocs:
    def test_docs_iam_shows_the_generated_policies_of_the_example(self) -> None:
        """docs/iam.md's generated section is what the generator prints for the example topology."""
        path = Path(ROOT) / "docs" / "iam.md"
        text = path.read_text(encoding="utf-8")
        assert splice(text, generated_section(load(EXAMPLE))) == text, (
            "docs/iam.md is out of date: regenerate its section with dr.iam.doc.generated_section")


OTHER = """
version: 1
environments:
  live: {account_id: "444444444444", region: us-east-2}
  standby: {account_id: "555555555555", region: us-west-2, dr_for: live}
  lab: {account_id: "666666666666", region: eu-north-1}
databases:
  - {name: ledger, engine: rds-instance, primary: {env: live, id: ledger-main},
     replica: {env: live, region: us-west-2, id: ledger-dr}}
  - {name: scratch, engine: rds-instance, primary: {env: lab, id: scratch-db},
     replica: {env: lab, region: eu-west-3, id: scratch-db-euw3}}
dns:
  - {zone_id: ZSTANDBY, env: standby, name: portal.corp.example., type: CNAME, strategy: failover-routing,
     targets: {live: portal.use2.corp.example, standby: portal.usw2.corp.example},
     health_checks: {live: hc-portal-live, standby: hc-portal-standby}}
"""


class TestOtherTopology:
    def test_each_env_gets_what_its_account_holds(self, tmp_path: Path) -> None:
        """The zone in the DR account goes to standby's policy, the pair's databases to live's, the database
        outside the pair only to exporter reads; without role_arn there is no trust or caller policy."""
        config = tmp_path / "other.yaml"
        config.write_text(OTHER, encoding="utf-8")

        def actions(env: str, *extra: str) -> set[str]:
            result = CliRunner().invoke(app, ["iam", "policy", "-c", str(config), "--env", env, "-o", "json", *extra])
            assert result.exit_code == 0, result.output
            document = json.loads(result.stdout)
            assert document["trust_policy"] is None
            assert document["caller_policy"] is None
            return {a for s in document["permissions_policy"]["Statement"] for a in s["Action"]}

        assert {"route53:ChangeResourceRecordSets", "route53:TestDNSAnswer"} <= actions("standby")
        assert "rds:PromoteReadReplica" in actions("live")
        assert not any(a.startswith("route53:Change") for a in actions("live"))
        lab = actions("lab")
        assert "rds:DescribeDBInstances" in lab
        assert all(a.split(":")[1].startswith(("Describe", "Get", "List")) for a in lab)
        assert actions("lab", "--runbook", "failover") == set()


class TestPlanEvaluationGrants:
    def test_dr_backup_reads_go_to_the_primarys_env_in_the_dr_region_on_the_vault_or_its_auto_backups(
            self, tmp_path: Path) -> None:
        """A `dr_backup` setting grants the primary's env, in the DR region, ListRecoveryPointsByBackupVault on that
        vault (aws-backup) or DescribeDBInstanceAutomatedBackups on the account's auto-backups (rds-replication)."""
        import yaml

        from dr.iam.generate import Scope
        from dr.iam.policy import policies

        document = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
        document["databases"][0]["dr_backup"] = {"source": "rds-replication"}
        document["databases"][1]["dr_backup"] = {"source": "aws-backup", "vault": "dr-vault"}
        config = tmp_path / "dr.yaml"
        config.write_text(yaml.safe_dump(document), encoding="utf-8")
        statements = policies(load(config), "prod", Scope.EXPORTER).permissions["Statement"]
        granted = {(a, r, s["Condition"]["StringEquals"]["aws:RequestedRegion"])
                   for s in statements for a in s["Action"] for r in s["Resource"]}
        assert ("backup:ListRecoveryPointsByBackupVault",
                "arn:aws:backup:eu-west-1:111111111111:backup-vault:dr-vault", "eu-west-1") in granted
        assert ("rds:DescribeDBInstanceAutomatedBackups", "arn:aws:rds:eu-west-1:111111111111:auto-backup:*",
                "eu-west-1") in granted
        without = policies(load(EXAMPLE), "prod", Scope.ALL).permissions["Statement"]  # no dr_backup setting
        assert not {a for s in without for a in s["Action"]} & {"backup:ListRecoveryPointsByBackupVault",
                                                                 "rds:DescribeDBInstanceAutomatedBackups"}

    def test_elb_reads_are_granted_only_where_a_dr_target_is_a_load_balancer(self, tmp_path: Path) -> None:
        """The drift check follows a DR-side target named `…elb.amazonaws.com` to its target groups: only then does
        the DR env's exporter policy hold the Elastic Load Balancing Describe actions."""
        import yaml

        from dr.iam.generate import Scope
        from dr.iam.policy import policies

        def elb_actions(path: Path) -> set[str]:
            statements = policies(load(path), "qa", Scope.EXPORTER).permissions["Statement"]
            return {a for s in statements for a in s["Action"] if a.startswith("elasticloadbalancing:")}

        assert elb_actions(EXAMPLE) == set()
        document = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
        document["dns"][0]["targets"]["qa"] = "api-dr-123.eu-west-1.elb.amazonaws.com"
        config = tmp_path / "dr.yaml"
        config.write_text(yaml.safe_dump(document), encoding="utf-8")
        assert elb_actions(config) == {"elasticloadbalancing:DescribeLoadBalancers",
                                       "elasticloadbalancing:DescribeTargetGroups",
                                       "elasticloadbalancing:DescribeTags"}
