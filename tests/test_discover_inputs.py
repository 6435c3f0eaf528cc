"""What discovery reads before AWS: `--env`, `--dr-for`, and a Terragrunt tree shaped like the seed's."""

from __future__ import annotations

from pathlib import Path

import pytest

from dr.config.validate import validate
from dr.discover.inputs import EnvSpec, apply_dr_for, merge, parse_env, usable
from dr.discover.terragrunt import read_tree
from dr.errors import UsageError

TREE = Path(__file__).parent / "fixtures" / "terragrunt" / "enterprise"


class TestEnvOptions:
    def test_env_option_names_account_and_region(self) -> None:
        """`prod=111111111111:eu-central-1` is an environment in that account and region."""
        assert parse_env("prod=111111111111:eu-central-1") == EnvSpec("prod", "111111111111", "eu-central-1")

    @pytest.mark.parametrize(("text", "says"), [
        ("prod", "expected NAME=ACCOUNT:REGION"),
        ("prod=1111:eu-central-1", "not a 12-digit AWS account id"),
        ("prod=111111111111:eu-east-1", "region 'eu-east-1' does not exist in AWS"),
    ])
    def test_malformed_env_option_is_a_usage_error(self, text: str, says: str) -> None:
        """A malformed --env is refused (exit 2) with what is wrong."""
        with pytest.raises(UsageError, match=says) as err:
            parse_env(text)
        assert err.value.exit_code == 2

    def test_dr_for_sets_the_dr_side(self) -> None:
        """--dr-for qa=prod makes qa the DR side of prod."""
        specs = apply_dr_for([parse_env("prod=111111111111:eu-central-1"), parse_env("qa=222222222222:eu-west-1")],
                             ["qa=prod"])
        assert [(s.name, s.dr_for) for s in specs] == [("prod", None), ("qa", "prod")]

    @pytest.mark.parametrize(("pair", "says"), [("qa", "expected DR=SOURCE"), ("qa=stage", "'stage' is not given"),
                                                 ("qa=qa", "cannot be the DR side of itself")])
    def test_bad_dr_for_is_a_usage_error(self, pair: str, says: str) -> None:
        """--dr-for naming an unknown environment, itself, or no pair is refused."""
        with pytest.raises(UsageError, match=says):
            apply_dr_for([parse_env("qa=222222222222:eu-west-1")], [pair])

    def test_no_environment_at_all_is_a_usage_error(self) -> None:
        """Neither --env nor --from-terragrunt: nothing to discover, said."""
        with pytest.raises(UsageError, match="no environments to discover"):
            merge([], [])


class TestTerragrunt:
    def test_tree_names_environments_accounts_and_regions(self) -> None:
        """account.hcl / region.hcl give each environment its account and region; dr_accounts gives dr_for."""
        tree = read_tree(TREE)
        found = {s.name: (s.account_id, s.region, s.dr_for) for s in tree.envs}
        assert found == {"prod": ("111111111111", "eu-central-1", None), "qa": ("222222222222", "eu-west-1", "prod"),
                         "dev": ("333333333333", "eu-east-1", None)}
        assert tree.dr_regions == {"prod": "eu-west-1"}
        assert next(s for s in tree.envs if s.name == "qa").source == "qa/account.hcl + qa/eu-west-1/region.hcl"

    def test_eu_east_1_is_reported_as_validation_reports_it(self) -> None:
        """The seed's dev region eu-east-1 is left out with validation's own words and hint."""
        keep, findings = usable(read_tree(TREE).envs)
        assert [s.name for s in keep] == ["prod", "qa"]
        _, validated = validate({"version": 1, "environments": {
            "dev": {"account_id": "333333333333", "region": "eu-east-1"}}})
        expected = next(f for f in validated if f.path == "environments.dev.region")
        assert len(findings) == 1
        assert findings[0].path == expected.path
        assert findings[0].message.startswith(expected.message)
        assert findings[0].hint == expected.hint

    def test_env_option_wins_over_the_tree(self) -> None:
        """--env for a name the tree also has replaces the tree's entry."""
        merged = merge([parse_env("dev=333333333333:eu-north-1")], read_tree(TREE).envs)
        assert {s.name: s.region for s in merged}["dev"] == "eu-north-1"

    def test_directory_without_account_hcl_is_a_usage_error(self, tmp_path: Path) -> None:
        """A directory that is not a Terragrunt tree is refused, naming it."""
        with pytest.raises(UsageError, match=r"no account\.hcl"):
            read_tree(tmp_path)

    def test_invalid_hcl_is_a_usage_error_naming_the_file(self, tmp_path: Path) -> None:
        """An account.hcl that does not parse is refused with its path."""
        (tmp_path / "prod").mkdir()
        (tmp_path / "prod" / "account.hcl").write_text("locals {\n  account_id = \n")
        with pytest.raises(UsageError, match=r"account\.hcl is not valid HCL"):
            read_tree(tmp_path)


class TestCommandInputs:
    @pytest.mark.usefixtures("aws")
    def test_from_terragrunt_names_environments_and_reports_eu_east_1(self, tmp_path: Path) -> None:
        """`--from-terragrunt`: prod and qa (qa DR for prod) in the topology; dev's eu-east-1 reported, left out."""
        from test_checks_support import invoke

        from dr.config import check_file

        out = tmp_path / "dr.yaml"
        code, text = invoke("config", "discover", "--from-terragrunt", str(TREE), "--write", str(out))
        assert code == 0
        assert "region 'eu-east-1' does not exist in AWS" in text
        model, findings = check_file(out)
        assert model is not None, [str(f) for f in findings]
        assert {n: (e.account_id, e.region, e.dr_for) for n, e in model.environments.items()} == {
            "prod": ("111111111111", "eu-central-1", None), "qa": ("222222222222", "eu-west-1", "prod")}
        written = out.read_text()
        assert "# qa: from qa/account.hcl + qa/eu-west-1/region.hcl" in written
        assert "environments.dev.region: region 'eu-east-1' does not exist in AWS" in written

    @pytest.mark.parametrize("args", [["--env", "prod"], ["--env", "prod=111111111111:eu-east-1"],
                                      ["--env", "qa=222222222222:eu-west-1", "--dr-for", "qa=prod"], [],
                                      ["--from-terragrunt", "/nonexistent/tree"],
                                      ["--env", "prod=111111111111:eu-central-1", "--write", "/no/dir/dr.yaml"],
                                      ["--env", "prod=111111111111:eu-central-1", "--write", "/tmp", "--force"]])
    def test_input_errors_exit_2_before_any_aws_call(self, args: list[str], no_aws: list[str]) -> None:
        """A malformed or incomplete command line: exit 2, and no AWS client was made."""
        from test_checks_support import invoke

        code, _ = invoke("config", "discover", *args)
        assert code == 2
        assert no_aws == []

    @pytest.mark.usefixtures("aws")
    def test_aws_refusing_a_read_exits_1_naming_it(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """AccessDenied on a listing: exit 1, the AWS error and what to check, no traceback."""
        from botocore.exceptions import ClientError
        from test_checks_support import invoke

        def refuse(*_: object, **__: object) -> None:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, "DescribeDBInstances")

        monkeypatch.setattr("dr.discover.run.list_accounts", refuse)
        code, text = invoke("config", "discover", "--env", "prod=111111111111:eu-central-1")
        assert code == 1
        assert "AccessDenied" in text
        assert "nothing was changed" in text
        assert "Traceback" not in text
