"""Topology validation: every bad file exits 2 with a finding that names the field and a fix."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from dr.cli.main import app
from dr.config import check_file, load
from dr.config.durations import format_duration, parse_duration
from dr.config.model import Topology
from dr.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
BASE: dict[str, Any] = yaml.safe_load((ROOT / "dr" / "examples" / "dr.yaml").read_text())

Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    """Set a dotted path (list indexes as numbers) to `value`."""

    def apply(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value

    return apply


def _both(*mutations: Mutation) -> Mutation:
    def apply(doc: Any) -> None:
        for mutation in mutations:
            mutation(doc)

    return apply


def _delete(path: str) -> Mutation:
    def apply(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        del node[int(last) if last.isdigit() else last]

    return apply


def _append(path: str, value: Any) -> Mutation:
    def apply(doc: dict[str, Any]) -> None:
        node: Any = doc
        for part in path.split("."):
            node = node[int(part)] if part.isdigit() else node[part]
        node.append(copy.deepcopy(value))

    return apply


# (case id, mutation, path the finding must name, words the message must contain)
BAD: list[tuple[str, Mutation, str, str]] = [
    ("unknown-top-level-key", _set("enviroments", {}), "enviroments", "Extra inputs"),
    ("unknown-env-key", _set("environments.qa.dr_fro", "prod"), "environments.qa.dr_fro", "Extra inputs"),
    ("unknown-db-key", _set("databases.0.replica.regoin", "eu-west-1"), "databases[0].replica.regoin", "Extra"),
    ("missing-version", _delete("version"), "version", "required"),
    ("wrong-version", _set("version", 2), "version", "less than or equal to 1"),
    ("missing-environments", _delete("environments"), "environments", "required"),
    ("account-id-too-short", _set("environments.qa.account_id", "2222"), "environments.qa.account_id", "pattern"),
    ("account-id-as-number", _set("environments.qa.account_id", 222222222222), "environments.qa.account_id",
     "string"),
    ("nonexistent-region", _set("environments.dev.region", "eu-east-1"), "environments.dev.region",
     "does not exist in AWS"),
    ("nonexistent-replica-region", _set("databases.0.replica.region", "eu-west-9"), "databases[0].replica.region",
     "does not exist in AWS"),
    ("bad-role-arn", _set("environments.qa.role_arn", "drctl-role"), "environments.qa.role_arn", "pattern"),
    ("role-in-other-account", _set("environments.qa.role_arn", "arn:aws:iam::111111111111:role/drctl"),
     "environments.qa.role_arn", "not in account"),
    ("dr-for-unknown-env", _set("environments.qa.dr_for", "production"), "environments.qa.dr_for",
     "not defined"),
    ("dr-for-self", _set("environments.qa.dr_for", "qa"), "environments.qa.dr_for", "itself"),
    ("dr-for-cycle", _set("environments.prod.dr_for", "qa"), "environments.qa.dr_for", "cycle"),
    ("cross-account-replica", _set("databases.0.replica.env", "qa"), "databases[0].replica.env",
     "cannot replicate RDS or Aurora across accounts"),
    ("replica-same-region", _set("databases.0.replica.region", "eu-central-1"), "databases[0].replica.region",
     "regional outage"),
    ("no-dr-replica-for-target", _set("databases.1.replica.region", "eu-north-1"), "databases[1].replica",
     "no replica in eu-west-1"),
    ("unknown-engine", _set("databases.0.engine", "dynamodb"), "databases[0].engine", "rds-instance"),
    ("global-without-id", _delete("databases.3.global_cluster_id"), "databases[3].global_cluster_id",
     "needs global_cluster_id"),
    ("global-id-on-rds", _set("databases.0.global_cluster_id", "x"), "databases[0].global_cluster_id",
     "only for aurora-global"),
    ("db-unknown-env", _set("databases.0.primary.env", "stage"), "databases[0].primary.env", "not defined"),
    ("db-missing-id", _delete("databases.0.primary.id"), "databases[0].primary.id", "required"),
    ("duplicate-db-name", _set("databases.1.name", "orders"), "databases[1].name", "more than once"),
    ("duplicate-replica-id", _set("databases.1.replica.id", "orders-db-euw1"), "databases[1].replica.id",
     "more than once"),
    ("dns-missing-target-side", _delete("dns.0.targets.qa"), "dns[0].targets", "no target for qa"),
    ("dns-target-unknown-env", _set("dns.0.targets.stage", "x.example.com"), "dns[0].targets.stage",
     "not defined"),
    ("dns-health-check-unknown-side", _set("dns.0.health_checks.dev", "hc-x"), "dns[0].health_checks.dev",
     "not a side"),
    ("dns-failover-routing-without-primary-check", _delete("dns.1.health_checks.prod"), "dns[1].health_checks",
     "needs a health check"),
    ("dns-unknown-strategy", _set("dns.0.strategy", "weighted"), "dns[0].strategy", "upsert"),
    ("dns-bad-type", _set("dns.0.type", "MX"), "dns[0].type", "pattern"),
    ("dns-negative-ttl", _set("dns.0.ttl", -5), "dns[0].ttl", "greater than or equal"),
    ("dns-duplicate-record", _append("dns", BASE["dns"][0]), f"dns[{len(BASE['dns'])}].name", "listed twice"),
    ("dns-unknown-env", _set("dns.0.env", "stage"), "dns[0].env", "not defined"),
    ("dns-drill-name-equals-name", _set("dns.0.drill_name", "api.example.com"), "dns[0].drill_name", "differ"),
    ("bad-rto-duration", _set("objectives.rto", "fifteen minutes"), "objectives.rto", "not a duration"),
    ("zero-rto", _set("objectives.rto", "0s"), "objectives.rto", "greater than 0"),
    ("readiness-unknown-env", _set("readiness.stage", {"eks_clusters": ["c"]}), "readiness.stage",
     "not defined"),
    ("readiness-unknown-key", _set("readiness.qa.lambdas", ["f"]), "readiness.qa.lambdas", "Extra"),
    ("ecs-negative-min", _set("readiness.qa.ecs_services.0.min_running", -1),
     "readiness.qa.ecs_services[0].min_running", "greater than or equal"),
    ("state-unknown-env", _set("state", {"env": "ops", "dynamodb_table": "t"}), "state.env", "not defined"),
    ("databases-not-a-list", _set("databases", {"orders": {}}), "databases", "list"),
    ("zero-promotion-budget", _set("databases.0.promotion_budget", "0s"), "databases[0].promotion_budget",
     "longer than zero"),
    ("promotion-budget-over-a-day", _set("databases.0.promotion_budget", "25h"), "databases[0].promotion_budget",
     "more than a day"),
    ("promotion-budget-not-a-duration", _set("databases.0.promotion_budget", "soon"),
     "databases[0].promotion_budget", "not a duration"),
    ("engine-promotion-budget-negative", _set("promotion_budgets", {"aurora-cluster": -60}),
     "promotion_budgets.aurora-cluster", "negative"),
    ("promotion-budget-unknown-engine", _set("promotion_budgets", {"oracle": "10m"}), "promotion_budgets.oracle",
     "rds-instance"),
    ("engine-a-list-beside-engine-budgets",
     _both(_set("promotion_budgets", {"rds-instance": "10m"}), _set("databases.0.engine", ["x"])),
     "databases[0].engine", "rds-instance"),
]


def _write(tmp_path: Path, doc: Any) -> Path:
    path = tmp_path / "dr.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


class TestBadConfigurations:
    @pytest.mark.parametrize(("mutation", "path", "words"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
    def test_bad_file_exits_2_naming_the_field(self, tmp_path: Path, mutation: Mutation, path: str,
                                                words: str) -> None:
        """Each bad file: exit 2, a finding at the exact path whose message explains it, with a fix hint."""
        doc = copy.deepcopy(BASE)
        mutation(doc)
        result = CliRunner().invoke(app, ["config", "validate", "-c", str(_write(tmp_path, doc)), "-o", "json"])
        assert result.exit_code == 2, result.output
        report = json.loads(result.stdout)
        assert report["valid"] is False
        matching = [f for f in report["findings"] if f["path"] == path]
        assert matching, f"no finding at {path}: {report['findings']}"
        assert any(words.lower() in f["message"].lower() for f in matching), matching
        assert all(f["hint"] for f in matching), matching

    def test_there_are_at_least_thirty_cases(self) -> None:
        """The issue asks for at least 30 distinct bad configurations."""
        assert len({c[0] for c in BAD}) >= 30


class TestWholeFileProblems:
    def test_every_problem_is_reported_at_once(self, tmp_path: Path) -> None:
        """Structural and semantic problems in different sections are all reported in one run."""
        doc = copy.deepcopy(BASE)
        doc["environments"]["dev"]["region"] = "eu-east-1"
        doc["databases"][0]["replica"]["env"] = "qa"
        doc["databases"][1]["engine"] = "oracle"
        doc["dns"][0]["ttl"] = "sixty"
        _, findings = check_file(_write(tmp_path, doc))
        paths = {f.path for f in findings if f.severity == "error"}
        assert {"environments.dev.region", "databases[0].replica.env", "databases[1].engine", "dns[0].ttl"} <= paths

    def test_seed_as_written_has_exactly_its_two_real_world_errors(self) -> None:
        """The seed's nonexistent region and cross-account replica are the findings, clearly worded."""
        _, findings = check_file(ROOT / "dr" / "examples" / "seed-as-written.yaml")
        messages = sorted(f.message for f in findings if f.severity == "error")
        assert len(messages) == 2
        assert "eu-east-1" in messages[0] + messages[1]
        assert any("across accounts" in m for m in messages)

    def test_duplicate_yaml_key_is_an_error_with_its_line(self, tmp_path: Path) -> None:
        """YAML would silently keep the last duplicate key; drctl refuses and names the line."""
        path = tmp_path / "dr.yaml"
        path.write_text("version: 1\nenvironments: {}\nversion: 1\n")
        _, findings = check_file(path)
        assert len(findings) == 1
        assert "duplicate key 'version'" in findings[0].message

    def test_yaml_syntax_error_names_line(self, tmp_path: Path) -> None:
        """A syntax error is a finding with its line and column, not a traceback."""
        path = tmp_path / "dr.yaml"
        path.write_text("version: 1\nenvironments: [\n")
        result = CliRunner().invoke(app, ["config", "validate", "-c", str(path)])
        assert result.exit_code == 2
        assert "line 3" in result.output
        assert "Traceback" not in result.output

    def test_missing_file_explains_where_config_is_searched(self, tmp_path: Path) -> None:
        """No file: exit 2 and the three ways to name one."""
        result = CliRunner().invoke(app, ["config", "validate", "-c", str(tmp_path / "nope.yaml")])
        assert result.exit_code == 2
        assert "DRCTL_CONFIG" in result.output

    def test_not_a_mapping(self, tmp_path: Path) -> None:
        """A YAML list at the top is rejected with a hint."""
        _, findings = check_file(_write(tmp_path, [1, 2]))
        assert findings[0].hint

    def test_load_raises_config_error_with_findings(self, tmp_path: Path) -> None:
        """The library entry point raises ConfigError (exit code 2) carrying every finding."""
        doc = copy.deepcopy(BASE)
        doc["databases"][0]["replica"]["env"] = "qa"
        with pytest.raises(ConfigError) as err:
            load(_write(tmp_path, doc))
        assert err.value.exit_code == 2
        assert err.value.findings


class TestValidFiles:
    def test_example_is_valid(self) -> None:
        """The shipped example topology validates, with exit 0."""
        result = CliRunner().invoke(app, ["config", "validate", "-c", str(ROOT / "dr" / "examples" / "dr.yaml")])
        assert result.exit_code == 0, result.output
        assert "valid" in result.output

    def test_config_found_through_environment_variable(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without --config, $DRCTL_CONFIG names the file."""
        monkeypatch.setenv("DRCTL_CONFIG", str(_write(tmp_path, BASE)))
        assert CliRunner().invoke(app, ["config", "validate"]).exit_code == 0

    def test_config_defaults_to_dr_yaml_in_cwd(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without --config or $DRCTL_CONFIG, ./dr.yaml is used."""
        _write(tmp_path, BASE)
        monkeypatch.chdir(tmp_path)
        assert CliRunner().invoke(app, ["config", "validate"]).exit_code == 0

    def test_region_defaults_to_environment_region(self) -> None:
        """A database location without region lives in its environment's home region."""
        topo = load(ROOT / "dr" / "examples" / "dr.yaml")
        orders = topo.databases[0]
        assert topo.region_of(orders.primary) == "eu-central-1"
        assert topo.region_of(orders.replica) == "eu-west-1"
        assert topo.source_of("qa") == "prod"
        assert topo.source_of("prod") == "qa"


class TestPromotionBudget:
    """How long each promotion may take: per database, else per engine at the top level, else the engine default."""

    def _topology(self, **changes: Any) -> Any:
        doc = copy.deepcopy(BASE)
        for path, value in changes.items():
            _set(path.replace("__", "."), value)(doc)
        return Topology.model_validate(doc)

    def test_engine_defaults_give_rds_instances_the_most(self) -> None:
        """Without settings: 10 min for an RDS instance, 8 min for Aurora (dr/config/promotion.py)."""
        budgets = {db.name: db.promotion_budget_seconds for db in self._topology().databases}
        assert budgets == {"orders": 600.0, "customers": 600.0, "inventory": 480.0, "payments": 480.0}

    def test_a_database_budget_wins_over_its_engines(self) -> None:
        """`promotion_budget: 20m` on a database; `promotion_budgets.rds-instance: 12m` for the other instances."""
        topology = self._topology(databases__0__promotion_budget="20m",
                                  promotion_budgets={"rds-instance": "12m", "aurora-global": 300})
        budgets = {db.name: db.promotion_budget_seconds for db in topology.databases}
        assert budgets == {"orders": 1200.0, "customers": 720.0, "inventory": 480.0, "payments": 300.0}

    def test_a_budget_above_the_rto_is_valid_with_a_warning(self, tmp_path: Path) -> None:
        """Above the RTO (15m) is allowed but said, once, where it is written; defaults are not flagged."""
        doc = copy.deepcopy(BASE)
        doc["databases"][0]["promotion_budget"] = "20m"
        doc["promotion_budgets"] = {"aurora-cluster": "16m"}
        result = CliRunner().invoke(app, ["config", "validate", "-c", str(_write(tmp_path, doc)), "-o", "json"])
        assert result.exit_code == 0, result.output
        warnings = [f for f in json.loads(result.stdout)["findings"] if f["severity"] == "warning"]
        assert [(f["path"], f["message"]) for f in warnings] == [
            ("promotion_budgets.aurora-cluster", "promotion budget 16m00s is longer than the RTO (15m00s): a run may "
             "wait on this promotion past the RTO"),
            ("databases[0].promotion_budget", "promotion budget 20m00s is longer than the RTO (15m00s): a run may "
             "wait on this promotion past the RTO"),
        ]


class TestDurations:
    @pytest.mark.parametrize(("text", "seconds"), [
        ("90s", 90), ("15m", 900), ("1h30m", 5400), ("300", 300), (45, 45), ("2h", 7200), ("1.5s", 1.5),
        ("500ms", 0.5),
    ])
    def test_accepted_forms(self, text: object, seconds: float) -> None:
        """Durations parse from the forms people write."""
        assert parse_duration(text) == seconds

    @pytest.mark.parametrize("text", ["15 minutes", "m15", "1x", "", "-5", True])
    def test_rejected_forms_explain_the_accepted_ones(self, text: object) -> None:
        """A bad duration says which forms are accepted."""
        with pytest.raises(ValueError, match="duration"):
            parse_duration(text)

    def test_format_duration(self) -> None:
        """Human form for reports."""
        assert [format_duration(s) for s in (45, 245, 3720)] == ["45s", "4m05s", "1h02m"]
