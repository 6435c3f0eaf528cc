"""Aurora global switchover and failover in the sandbox follow the RDS API documentation."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from dr.clock import FakeClock
from dr.sandbox.control import LocalControl
from tests.sandbox_ext_support import rds as _rds

ACCOUNT = "123456789012"
GLOBAL = "orders-global"


@pytest.fixture
def arns(sandbox_control: LocalControl) -> dict[str, str]:
    """A global cluster created from an existing eu-central-1 cluster, with a eu-west-1 secondary."""
    primary = _rds("eu-central-1").create_db_cluster(
        DBClusterIdentifier="orders-euc1",
        Engine="aurora-postgresql",
        MasterUsername="admin",
        MasterUserPassword="password1",
    )["DBCluster"]
    _rds("eu-central-1").create_global_cluster(
        GlobalClusterIdentifier=GLOBAL, SourceDBClusterIdentifier=primary["DBClusterArn"]
    )
    secondary = _rds("eu-west-1").create_db_cluster(
        DBClusterIdentifier="orders-euw1", Engine="aurora-postgresql", GlobalClusterIdentifier=GLOBAL
    )["DBCluster"]
    for region in ("eu-central-1", "eu-west-1"):
        _rds(region).describe_db_clusters()  # moto reports a new cluster `creating` once
    return {"primary": primary["DBClusterArn"], "secondary": secondary["DBClusterArn"]}


def _global() -> dict[str, Any]:
    return _rds("eu-west-1").describe_global_clusters(GlobalClusterIdentifier=GLOBAL)["GlobalClusters"][0]  # type: ignore[no-any-return]


def _writer() -> str:
    return str(next(m["DBClusterArn"] for m in _global()["GlobalClusterMembers"] if m["IsWriter"]))


class TestGlobalSwitchover:
    def test_the_source_cluster_of_a_new_global_cluster_is_its_writer(self, arns: dict[str, str]) -> None:
        """A global cluster created from an existing cluster lists that cluster as writer (moto alone does not)."""
        assert _writer() == arns["primary"]

    def test_switchover_makes_the_target_writer_and_the_old_writer_a_secondary(self, arns: dict[str, str]) -> None:
        """After a switchover describe_global_clusters shows the target as the only writer."""
        _rds("eu-west-1").switchover_global_cluster(
            GlobalClusterIdentifier=GLOBAL, TargetDbClusterIdentifier=arns["secondary"]
        )
        members = {m["DBClusterArn"]: m["IsWriter"] for m in _global()["GlobalClusterMembers"]}
        assert members == {arns["secondary"]: True, arns["primary"]: False}

    def test_switchover_passes_through_switching_over(
        self, arns: dict[str, str], sandbox_control: LocalControl, control_clock: FakeClock
    ) -> None:
        """The global cluster reads `switching-over` with a FailoverState for promotion_seconds, then available."""
        sandbox_control.set_promotion_seconds(45)
        answer = _rds("eu-west-1").switchover_global_cluster(
            GlobalClusterIdentifier=GLOBAL, TargetDbClusterIdentifier=arns["secondary"]
        )["GlobalCluster"]
        assert answer["Status"] == "switching-over"
        assert answer["FailoverState"]["IsDataLossAllowed"] is False
        assert answer["FailoverState"]["ToDbClusterArn"] == arns["secondary"]
        control_clock.advance(45)
        assert _global()["Status"] == "available"
        assert "FailoverState" not in _global()
        [event] = sandbox_control.promotion_events()
        assert (event.kind, event.identifier) == ("global-switchover", "orders-euw1")

    def test_the_writer_moves_only_after_the_status_reads_switching_over(
        self, arns: dict[str, str], sandbox_control: LocalControl, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """When the transition begins the old writer is still the writer: a reader racing the switchover never
        sees the target as writer of an `available` global cluster before the move is done."""
        from dr.sandbox.extensions import transitions

        sandbox_control.set_promotion_seconds(30)
        writers: list[list[str]] = []
        begin = transitions.begin

        def observed_begin(obj: Any, during: str, final: str, seconds: float) -> Any:
            writers.append([m.db_cluster_arn for m in obj.members if m.is_writer])
            return begin(obj, during, final, seconds)

        monkeypatch.setattr(transitions, "begin", observed_begin)
        _rds("eu-west-1").switchover_global_cluster(
            GlobalClusterIdentifier=GLOBAL, TargetDbClusterIdentifier=arns["secondary"]
        )
        assert writers == [[arns["primary"]]]
        assert _writer() == arns["secondary"]

    def test_switchover_is_refused_while_a_member_is_unavailable(
        self, arns: dict[str, str], sandbox_control: LocalControl
    ) -> None:
        """A planned switchover needs every member available; the writer does not move."""
        sandbox_control.set_db_status(ACCOUNT, "eu-central-1", "orders-euc1", "inaccessible-encryption-credentials")
        with pytest.raises(ClientError) as err:
            _rds("eu-west-1").switchover_global_cluster(
                GlobalClusterIdentifier=GLOBAL, TargetDbClusterIdentifier=arns["secondary"]
            )
        assert err.value.response["Error"]["Code"] == "InvalidGlobalClusterStateFault"
        assert _writer() == arns["primary"]

    def test_switching_over_to_the_current_writer_is_refused(self, arns: dict[str, str]) -> None:
        """The target must be a secondary: naming the writer is InvalidDBClusterStateFault."""
        with pytest.raises(ClientError) as err:
            _rds("eu-west-1").switchover_global_cluster(
                GlobalClusterIdentifier=GLOBAL, TargetDbClusterIdentifier=arns["primary"]
            )
        assert err.value.response["Error"]["Code"] == "InvalidDBClusterStateFault"

    def test_an_unknown_global_cluster_is_not_found(self, arns: dict[str, str]) -> None:
        """A missing global cluster id gives GlobalClusterNotFoundFault."""
        with pytest.raises(ClientError) as err:
            _rds("eu-west-1").switchover_global_cluster(
                GlobalClusterIdentifier="nope", TargetDbClusterIdentifier=arns["secondary"]
            )
        assert err.value.response["Error"]["Code"] == "GlobalClusterNotFoundFault"


class TestGlobalFailover:
    def test_failover_with_data_loss_works_while_the_old_primary_is_unavailable(
        self, arns: dict[str, str], sandbox_control: LocalControl
    ) -> None:
        """AllowDataLoss promotes the target even with the primary region down; the old primary is no writer."""
        sandbox_control.set_db_status(ACCOUNT, "eu-central-1", "orders-euc1", "inaccessible-encryption-credentials")
        _rds("eu-west-1").failover_global_cluster(
            GlobalClusterIdentifier=GLOBAL, TargetDbClusterIdentifier=arns["secondary"], AllowDataLoss=True
        )
        members = {m["DBClusterArn"]: m["IsWriter"] for m in _global()["GlobalClusterMembers"]}
        assert members == {arns["secondary"]: True, arns["primary"]: False}
        assert sandbox_control.promotion_events()[0].kind == "global-failover"

    def test_failover_passes_through_failing_over(
        self, arns: dict[str, str], sandbox_control: LocalControl, control_clock: FakeClock
    ) -> None:
        """The global cluster reads `failing-over` for promotion_seconds."""
        sandbox_control.set_promotion_seconds(10)
        _rds("eu-west-1").failover_global_cluster(
            GlobalClusterIdentifier=GLOBAL, TargetDbClusterIdentifier=arns["secondary"], AllowDataLoss=True
        )
        assert _global()["Status"] == "failing-over"
        assert _global()["FailoverState"]["IsDataLossAllowed"] is True
        control_clock.advance(10)
        assert _global()["Status"] == "available"

    def test_failover_without_allow_data_loss_is_a_switchover(
        self, arns: dict[str, str], sandbox_control: LocalControl
    ) -> None:
        """Omitting AllowDataLoss means switchover: refused while the old primary is unavailable."""
        sandbox_control.set_db_status(ACCOUNT, "eu-central-1", "orders-euc1", "inaccessible-encryption-credentials")
        with pytest.raises(ClientError) as err:
            _rds("eu-west-1").failover_global_cluster(
                GlobalClusterIdentifier=GLOBAL, TargetDbClusterIdentifier=arns["secondary"]
            )
        assert err.value.response["Error"]["Code"] == "InvalidGlobalClusterStateFault"

    def test_failover_with_switchover_moves_the_writer_without_data_loss(
        self, arns: dict[str, str], sandbox_control: LocalControl
    ) -> None:
        """Switchover=True through FailoverGlobalCluster is a planned switchover."""
        answer = _rds("eu-west-1").failover_global_cluster(
            GlobalClusterIdentifier=GLOBAL, TargetDbClusterIdentifier=arns["secondary"], Switchover=True
        )["GlobalCluster"]
        assert _writer() == arns["secondary"]
        assert sandbox_control.promotion_events()[0].kind == "global-switchover"
        assert answer["GlobalClusterIdentifier"] == GLOBAL

    def test_allow_data_loss_together_with_switchover_is_an_invalid_combination(self, arns: dict[str, str]) -> None:
        """Both parameters at once are refused, as the API documents, and nothing moves."""
        with pytest.raises(ClientError) as err:
            _rds("eu-west-1").failover_global_cluster(
                GlobalClusterIdentifier=GLOBAL,
                TargetDbClusterIdentifier=arns["secondary"],
                AllowDataLoss=True,
                Switchover=True,
            )
        assert err.value.response["Error"]["Code"] == "InvalidParameterCombination"
        assert _writer() == arns["primary"]


class TestGlobalMembership:
    def test_a_secondary_detached_from_another_region_leaves_the_global_cluster(self, arns: dict[str, str]) -> None:
        """RemoveFromGlobalCluster called in eu-west-1 detaches the secondary (moto alone ignores it there)."""
        _rds("eu-west-1").remove_from_global_cluster(
            GlobalClusterIdentifier=GLOBAL, DbClusterIdentifier=arns["secondary"]
        )
        assert [m["DBClusterArn"] for m in _global()["GlobalClusterMembers"]] == [arns["primary"]]

    def test_detaching_a_cluster_that_is_not_a_member_is_not_found(self, arns: dict[str, str]) -> None:
        """A cluster outside the global cluster cannot be detached from it."""
        with pytest.raises(ClientError) as err:
            _rds("eu-west-1").remove_from_global_cluster(
                GlobalClusterIdentifier=GLOBAL, DbClusterIdentifier="arn:aws:rds:eu-west-1:123456789012:cluster:other"
            )
        assert err.value.response["Error"]["Code"] == "DBClusterNotFoundFault"

    def test_a_deleted_member_cluster_is_no_longer_listed(self, arns: dict[str, str]) -> None:
        """Deleting a secondary cluster in eu-west-1 drops it from the global cluster's members."""
        _rds("eu-west-1").delete_db_cluster(DBClusterIdentifier="orders-euw1", SkipFinalSnapshot=True)
        assert [m["DBClusterArn"] for m in _global()["GlobalClusterMembers"]] == [arns["primary"]]

    def test_a_clone_of_a_secondary_does_not_join_the_global_cluster(self, arns: dict[str, str]) -> None:
        """A copy-on-write clone of a global secondary is standalone, as in AWS (moto copies the membership)."""
        _rds("eu-west-1").restore_db_cluster_to_point_in_time(
            DBClusterIdentifier="orders-clone",
            SourceDBClusterIdentifier="orders-euw1",
            RestoreType="copy-on-write",
            UseLatestRestorableTime=True,
        )
        assert len(_global()["GlobalClusterMembers"]) == 2
