"""drctl's IAM policy evaluator (dr.iam.evaluate), after AWS's "Policy evaluation logic"."""

from __future__ import annotations

from typing import Any

import pytest

from dr.iam.evaluate import Decision, PolicyError, Request, evaluate

ARN = "arn:aws:rds:eu-west-1:111111111111:db:orders-db"


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any = "rds:PromoteReadReplica", resource: Any = ARN, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def decide(*statements: dict[str, Any], action: str = "rds:PromoteReadReplica", resource: str = ARN,
           **context: str) -> Decision:
    return evaluate([policy(*statements)], Request(action, resource, context))


class TestEvaluate:
    def test_nothing_matching_is_an_implicit_deny(self) -> None:
        """No statement applies: implicitly denied."""
        assert decide(allow(action="rds:DescribeDBInstances")) is Decision.IMPLICIT_DENY

    def test_action_matches_case_insensitively_with_wildcards(self) -> None:
        """Action names ignore case; `*` and `?` are wildcards."""
        assert decide(allow(action="RDS:promotereadreplica")) is Decision.ALLOWED
        assert decide(allow(action="rds:Promote*")) is Decision.ALLOWED
        assert decide(allow(action="rds:PromoteReadReplic?")) is Decision.ALLOWED

    def test_resource_matches_case_sensitively_with_wildcards(self) -> None:
        """Resource ARNs are case-sensitive; `*` spans `:` and `/`."""
        assert decide(allow(resource="arn:aws:rds:eu-west-1:111111111111:db:*")) is Decision.ALLOWED
        assert decide(allow(resource=ARN.upper())) is Decision.IMPLICIT_DENY
        assert decide(allow(resource="arn:aws:rds:*")) is Decision.ALLOWED

    def test_explicit_deny_wins_over_any_allow(self) -> None:
        """A Deny that applies wins, in whatever order."""
        deny = {"Effect": "Deny", "Action": "rds:*", "Resource": "*"}
        assert decide(deny, allow()) is Decision.EXPLICIT_DENY
        assert decide(allow(), deny) is Decision.EXPLICIT_DENY

    def test_not_action_and_not_resource_invert_the_match(self) -> None:
        """NotAction / NotResource apply to everything they do not name."""
        assert decide({"Effect": "Allow", "NotAction": "rds:Delete*", "Resource": ARN}) is Decision.ALLOWED
        assert decide({"Effect": "Allow", "NotAction": "rds:Promote*", "Resource": ARN}) is Decision.IMPLICIT_DENY
        assert decide({"Effect": "Allow", "Action": "rds:*", "NotResource": ARN}) is Decision.IMPLICIT_DENY

    def test_requested_region_condition(self) -> None:
        """StringEquals on aws:RequestedRegion: allowed in the named region only; a missing key fails."""
        scoped = allow(Condition={"StringEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}})
        assert decide(scoped, **{"aws:RequestedRegion": "eu-west-1"}) is Decision.ALLOWED
        assert decide(scoped, **{"aws:RequestedRegion": "us-east-1"}) is Decision.IMPLICIT_DENY
        assert decide(scoped) is Decision.IMPLICIT_DENY

    def test_string_like_not_equals_and_if_exists(self) -> None:
        """StringLike matches wildcards; negated operators and ...IfExists hold when the key is missing."""
        like = allow(Condition={"StringLike": {"aws:RequestedRegion": "eu-*"}})
        assert decide(like, **{"aws:RequestedRegion": "eu-north-1"}) is Decision.ALLOWED
        not_us = allow(Condition={"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}})
        assert decide(not_us, **{"aws:RequestedRegion": "us-east-1"}) is Decision.IMPLICIT_DENY
        assert decide(not_us) is Decision.ALLOWED
        if_exists = allow(Condition={"StringEqualsIfExists": {"aws:RequestedRegion": "eu-west-1"}})
        assert decide(if_exists) is Decision.ALLOWED
        not_ci = allow(Condition={"StringNotEqualsIgnoreCase": {"aws:RequestedRegion": "US-EAST-1"}})
        assert decide(not_ci, **{"aws:RequestedRegion": "us-east-1"}) is Decision.IMPLICIT_DENY
        assert decide(not_ci, **{"aws:RequestedRegion": "eu-west-1"}) is Decision.ALLOWED

    def test_condition_keys_are_case_insensitive_and_anded(self) -> None:
        """Several keys must all hold; key names ignore case."""
        both = allow(Condition={"StringEquals": {"AWS:requestedregion": "eu-west-1", "kms:RequestAlias": "alias/a"}})
        assert decide(both, **{"aws:RequestedRegion": "eu-west-1", "kms:RequestAlias": "alias/a"}) is Decision.ALLOWED
        assert decide(both, **{"aws:RequestedRegion": "eu-west-1"}) is Decision.IMPLICIT_DENY

    def test_unknown_operator_and_malformed_statements_raise(self) -> None:
        """The evaluator refuses to guess: unknown operators and missing elements raise PolicyError."""
        with pytest.raises(PolicyError, match="NumericLessThan"):
            decide(allow(Condition={"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}))
        with pytest.raises(PolicyError, match="Action"):
            decide({"Effect": "Allow", "Resource": ARN})
        with pytest.raises(PolicyError, match="Effect"):
            decide({"Effect": "Maybe", "Action": "rds:*", "Resource": "*"})
