"""RDS and Aurora promotion in the sandbox behave as AWS documents (moto alone only flips a flag)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dr.clock import FakeClock
from dr.sandbox.control import LocalControl, SandboxControlError
from dr.sandbox.extensions import STATE
from tests.sandbox_ext_support import orders_primary_and_replica
from tests.sandbox_ext_support import rds as _rds

ACCOUNT = "123456789012"


def _instance(region: str, identifier: str) -> dict[str, Any]:
    return _rds(region).describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]  # type: ignore[no-any-return]


class TestInstancePromotion:
    def test_promotion_unlinks_the_replica_on_both_sides_across_regions(self, sandbox_control: LocalControl) -> None:
        """The promoted replica has no source and the primary in the other region no longer lists it."""
        orders_primary_and_replica()
        _rds("eu-west-1").promote_read_replica(DBInstanceIdentifier="orders-db-euw1")
        assert "ReadReplicaSourceDBInstanceIdentifier" not in _instance("eu-west-1", "orders-db-euw1")
        assert _instance("eu-central-1", "orders-db")["ReadReplicaDBInstanceIdentifiers"] == []

    def test_promotion_reads_modifying_until_the_promotion_time_passes(
        self, sandbox_control: LocalControl, control_clock: FakeClock
    ) -> None:
        """With promotion_seconds set, status is `modifying` until that time has passed, then `available`."""
        orders_primary_and_replica()
        sandbox_control.set_promotion_seconds(120)
        answer = _rds("eu-west-1").promote_read_replica(DBInstanceIdentifier="orders-db-euw1")["DBInstance"]
        assert answer["DBInstanceStatus"] == "modifying"
        control_clock.advance(119)
        assert _instance("eu-west-1", "orders-db-euw1")["DBInstanceStatus"] == "modifying"
        control_clock.advance(1)
        assert _instance("eu-west-1", "orders-db-euw1")["DBInstanceStatus"] == "available"

    def test_the_instance_reads_modifying_before_it_is_unlinked(
        self, sandbox_control: LocalControl, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A describe racing the promotion never sees an available, unlinked instance: the status reads
        `modifying` by the time the unlink starts (a drill once saw `available` early, then `modifying`)."""
        from dr.sandbox.extensions import rds_promotion

        orders_primary_and_replica()
        sandbox_control.set_promotion_seconds(30)
        seen: list[str] = []
        unlink = rds_promotion.unlink_replica

        def observed_unlink(database: Any) -> None:
            seen.append(str(database.status))
            unlink(database)

        monkeypatch.setattr(rds_promotion, "unlink_replica", observed_unlink)
        _rds("eu-west-1").promote_read_replica(DBInstanceIdentifier="orders-db-euw1")
        assert seen == ["modifying"]

    def test_a_per_database_promotion_time_overrides_the_global_one(
        self, sandbox_control: LocalControl, control_clock: FakeClock
    ) -> None:
        """set_promotion_seconds_for(id) wins over set_promotion_seconds; None returns to the global time."""
        orders_primary_and_replica()
        sandbox_control.set_promotion_seconds(100)
        sandbox_control.set_promotion_seconds_for("orders-db-euw1", 5)
        _rds("eu-west-1").promote_read_replica(DBInstanceIdentifier="orders-db-euw1")
        control_clock.advance(5)
        assert _instance("eu-west-1", "orders-db-euw1")["DBInstanceStatus"] == "available"
        [event] = sandbox_control.promotion_events()
        assert event.done_at == event.requested_at + timedelta(seconds=5)
        sandbox_control.set_promotion_seconds_for("orders-db-euw1", None)
        assert STATE.promotion_seconds_for("orders-db-euw1") == 100

    def test_promotion_is_recorded_with_the_time_it_is_done(
        self, sandbox_control: LocalControl, control_clock: FakeClock
    ) -> None:
        """Each promotion is an event whose done_at is when the status turns available."""
        orders_primary_and_replica()
        sandbox_control.set_promotion_seconds(30)
        started = control_clock.now()
        _rds("eu-west-1").promote_read_replica(DBInstanceIdentifier="orders-db-euw1")
        [event] = sandbox_control.promotion_events()
        assert (event.kind, event.account_id, event.region, event.identifier) == (
            "db-instance",
            ACCOUNT,
            "eu-west-1",
            "orders-db-euw1",
        )
        assert (event.done_at - started).total_seconds() == 30

    def test_promotion_is_refused_while_the_replica_is_backing_up(self, sandbox_control: LocalControl) -> None:
        """A replica in `backing-up` cannot be promoted: InvalidDBInstanceState, and it stays a replica."""
        orders_primary_and_replica()
        sandbox_control.set_db_status(ACCOUNT, "eu-west-1", "orders-db-euw1", "backing-up")
        with pytest.raises(ClientError) as err:
            _rds("eu-west-1").promote_read_replica(DBInstanceIdentifier="orders-db-euw1")
        assert err.value.response["Error"]["Code"] == "InvalidDBInstanceState"
        assert "backing-up" in err.value.response["Error"]["Message"]
        assert _instance("eu-west-1", "orders-db-euw1")["ReadReplicaSourceDBInstanceIdentifier"]

    def test_promoting_a_database_that_is_not_a_replica_is_refused(self, sandbox_control: LocalControl) -> None:
        """Promoting a primary (or an already promoted replica) gives InvalidDBInstanceState."""
        orders_primary_and_replica()
        with pytest.raises(ClientError) as err:
            _rds("eu-central-1").promote_read_replica(DBInstanceIdentifier="orders-db")
        assert err.value.response["Error"]["Code"] == "InvalidDBInstanceState"

    def test_promoting_a_missing_database_is_not_found(self, sandbox_control: LocalControl) -> None:
        """A missing id gives DBInstanceNotFound (moto alone raises a bare KeyError)."""
        with pytest.raises(ClientError) as err:
            _rds("eu-west-1").promote_read_replica(DBInstanceIdentifier="nope")
        assert err.value.response["Error"]["Code"] == "DBInstanceNotFound"


class TestInstanceLifecycle:
    def test_a_promoted_former_replica_can_be_deleted(self, sandbox_control: LocalControl) -> None:
        """After promotion the former replica deletes cleanly and the primary is untouched."""
        orders_primary_and_replica()
        _rds("eu-west-1").promote_read_replica(DBInstanceIdentifier="orders-db-euw1")
        _rds("eu-west-1").delete_db_instance(DBInstanceIdentifier="orders-db-euw1", SkipFinalSnapshot=True)
        assert _rds("eu-west-1").describe_db_instances()["DBInstances"] == []
        assert _instance("eu-central-1", "orders-db")["DBInstanceIdentifier"] == "orders-db"

    def test_a_linked_cross_region_replica_can_be_deleted_and_is_unlisted(self, sandbox_control: LocalControl) -> None:
        """Deleting a still-linked cross-region replica works (moto alone raises ValueError) and unlinks it."""
        orders_primary_and_replica()
        _rds("eu-west-1").delete_db_instance(DBInstanceIdentifier="orders-db-euw1", SkipFinalSnapshot=True)
        assert _instance("eu-central-1", "orders-db")["ReadReplicaDBInstanceIdentifiers"] == []

    def test_a_replica_whose_primary_is_gone_can_still_be_deleted(self, sandbox_control: LocalControl) -> None:
        """A replica outliving its primary (region lost, primary deleted) deletes without error."""
        orders_primary_and_replica()
        _rds("eu-central-1").delete_db_instance(DBInstanceIdentifier="orders-db", SkipFinalSnapshot=True)
        _rds("eu-west-1").delete_db_instance(DBInstanceIdentifier="orders-db-euw1", SkipFinalSnapshot=True)
        assert _rds("eu-west-1").describe_db_instances()["DBInstances"] == []

    def test_rename_with_apply_immediately_changes_the_identifier(self, sandbox_control: LocalControl) -> None:
        """Failback fences the old primary by renaming it: the new id answers, the old one is gone."""
        orders_primary_and_replica()
        _rds("eu-central-1").modify_db_instance(
            DBInstanceIdentifier="orders-db", NewDBInstanceIdentifier="orders-db-old", ApplyImmediately=True
        )
        assert _instance("eu-central-1", "orders-db-old")["DBInstanceIdentifier"] == "orders-db-old"
        with pytest.raises(ClientError):
            _instance("eu-central-1", "orders-db")


def _cluster(region: str, identifier: str) -> dict[str, Any]:
    return _rds(region).describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"][0]  # type: ignore[no-any-return]


@pytest.mark.usefixtures("aurora_replica_cluster")
class TestClusterPromotion:
    def test_cluster_promotion_unlinks_and_passes_through_promoting(
        self, sandbox_control: LocalControl, control_clock: FakeClock
    ) -> None:
        """An Aurora replica cluster reads `promoting`, then `available`, with no replication source."""
        _cluster("eu-west-1", "ledger-euw1")  # moto reports a new cluster `creating` once
        sandbox_control.set_promotion_seconds(60)
        answer = _rds("eu-west-1").promote_read_replica_db_cluster(DBClusterIdentifier="ledger-euw1")["DBCluster"]
        assert answer["Status"] == "promoting"
        control_clock.advance(60)
        promoted = _cluster("eu-west-1", "ledger-euw1")
        assert promoted["Status"] == "available"
        assert "ReplicationSourceIdentifier" not in promoted
        assert _cluster("eu-central-1", "ledger").get("ReadReplicaIdentifiers", []) == []

    def test_the_cluster_reads_promoting_before_its_source_is_dropped(
        self, sandbox_control: LocalControl, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """When the transition begins, the cluster still names its source: no reader sees it unlinked and
        `available` in between."""
        from dr.sandbox.extensions import transitions

        _cluster("eu-west-1", "ledger-euw1")
        sandbox_control.set_promotion_seconds(30)
        sources: list[object] = []
        begin = transitions.begin

        def observed_begin(obj: Any, during: str, final: str, seconds: float) -> Any:
            sources.append(obj.replication_source_identifier)
            return begin(obj, during, final, seconds)

        monkeypatch.setattr(transitions, "begin", observed_begin)
        _rds("eu-west-1").promote_read_replica_db_cluster(DBClusterIdentifier="ledger-euw1")
        [source] = sources
        assert source

    def test_cluster_promotion_is_refused_for_a_cluster_that_is_not_a_replica(
        self, sandbox_control: LocalControl
    ) -> None:
        """Promoting the source cluster gives InvalidDBClusterStateFault."""
        with pytest.raises(ClientError) as err:
            _rds("eu-central-1").promote_read_replica_db_cluster(DBClusterIdentifier="ledger")
        assert err.value.response["Error"]["Code"] == "InvalidDBClusterStateFault"

    def test_cluster_promotion_is_refused_while_not_available(self, sandbox_control: LocalControl) -> None:
        """A replica cluster in `backing-up` is refused and keeps its source."""
        sandbox_control.set_db_status(ACCOUNT, "eu-west-1", "ledger-euw1", "backing-up")
        with pytest.raises(ClientError) as err:
            _rds("eu-west-1").promote_read_replica_db_cluster(DBClusterIdentifier="ledger-euw1")
        assert err.value.response["Error"]["Code"] == "InvalidDBClusterStateFault"
        assert _cluster("eu-west-1", "ledger-euw1")["ReplicationSourceIdentifier"]


class TestRename:
    def test_renaming_a_primary_keeps_its_replica_linked(self, sandbox_control: LocalControl) -> None:
        """The replica's source follows the renamed primary's ARN, so the replica stays promotable and deletable."""
        orders_primary_and_replica()
        _rds("eu-central-1").modify_db_instance(
            DBInstanceIdentifier="orders-db", NewDBInstanceIdentifier="orders-db-v2", ApplyImmediately=True
        )
        source = _instance("eu-west-1", "orders-db-euw1")["ReadReplicaSourceDBInstanceIdentifier"]
        assert source == "arn:aws:rds:eu-central-1:123456789012:db:orders-db-v2"
        _rds("eu-west-1").promote_read_replica(DBInstanceIdentifier="orders-db-euw1")
        assert _instance("eu-central-1", "orders-db-v2")["ReadReplicaDBInstanceIdentifiers"] == []

    def test_renaming_a_replica_updates_its_primarys_list(self, sandbox_control: LocalControl) -> None:
        """The primary lists the replica under its new ARN."""
        orders_primary_and_replica()
        _rds("eu-west-1").modify_db_instance(
            DBInstanceIdentifier="orders-db-euw1", NewDBInstanceIdentifier="orders-dr", ApplyImmediately=True
        )
        assert _instance("eu-central-1", "orders-db")["ReadReplicaDBInstanceIdentifiers"] == [
            "arn:aws:rds:eu-west-1:123456789012:db:orders-dr"
        ]

    def test_renaming_onto_an_existing_identifier_is_refused(self, sandbox_control: LocalControl) -> None:
        """A rename onto a taken id is DBInstanceAlreadyExists and changes nothing."""
        orders_primary_and_replica()
        _rds("eu-west-1").create_db_instance(
            DBInstanceIdentifier="taken",
            DBInstanceClass="db.t3.micro",
            Engine="postgres",
            MasterUsername="admin",
            MasterUserPassword="password1",
        )
        with pytest.raises(ClientError) as err:
            _rds("eu-west-1").modify_db_instance(
                DBInstanceIdentifier="orders-db-euw1", NewDBInstanceIdentifier="taken", ApplyImmediately=True
            )
        assert err.value.response["Error"]["Code"] == "DBInstanceAlreadyExists"
        assert _instance("eu-west-1", "orders-db-euw1")["DBInstanceIdentifier"] == "orders-db-euw1"


class TestReplicationState:
    def test_a_replica_reports_replicating_in_status_infos(self, sandbox_control: LocalControl) -> None:
        """Read replicas report StatusInfos read replication / replicating (moto alone reports none)."""
        orders_primary_and_replica()
        [info] = _instance("eu-west-1", "orders-db-euw1")["StatusInfos"]
        assert (info["StatusType"], info["Status"], info["Normal"]) == ("read replication", "replicating", True)

    def test_a_set_replication_state_is_reported_with_its_message(self, sandbox_control: LocalControl) -> None:
        """set_replication_state makes the replica report that state, not Normal."""
        orders_primary_and_replica()
        sandbox_control.set_replication_state(ACCOUNT, "eu-west-1", "orders-db-euw1", "error", "IO thread stopped")
        [info] = _instance("eu-west-1", "orders-db-euw1")["StatusInfos"]
        assert (info["Status"], info["Normal"], info["Message"]) == ("error", False, "IO thread stopped")

    def test_primaries_and_promoted_replicas_report_no_replication(self, sandbox_control: LocalControl) -> None:
        """Only replicas carry a read-replication status."""
        orders_primary_and_replica()
        _rds("eu-west-1").promote_read_replica(DBInstanceIdentifier="orders-db-euw1")
        assert "StatusInfos" not in _instance("eu-central-1", "orders-db")
        assert "StatusInfos" not in _instance("eu-west-1", "orders-db-euw1")

    def test_an_unknown_state_is_refused(self, sandbox_control: LocalControl) -> None:
        """Only the states AWS reports can be set."""
        orders_primary_and_replica()
        with pytest.raises(SandboxControlError, match="unknown replication state"):
            sandbox_control.set_replication_state(ACCOUNT, "eu-west-1", "orders-db-euw1", "sleepy")


@pytest.mark.usefixtures("sandbox_control")
class TestAutomatedBackups:
    def test_cluster_recreated_under_a_renamed_clusters_id_within_the_minute(self) -> None:
        """Failback's pattern: rename the old cluster, create a new one under its id at once; no snapshot clash."""
        rds = _rds("eu-central-1")
        kwargs = {"Engine": "aurora-mysql", "MasterUsername": "admin", "MasterUserPassword": "password1"}
        rds.create_db_cluster(DBClusterIdentifier="ledger", **kwargs)
        rds.modify_db_cluster(DBClusterIdentifier="ledger", NewDBClusterIdentifier="ledger-fenced",
                              ApplyImmediately=True)
        rds.create_db_cluster(DBClusterIdentifier="ledger", **kwargs)
        automated = rds.describe_db_cluster_snapshots(SnapshotType="automated")["DBClusterSnapshots"]
        names = sorted(s["DBClusterSnapshotIdentifier"] for s in automated)
        assert len(names) == 2
        assert names[1] == f"{names[0]}-2"

    def test_instance_recreated_under_a_renamed_instances_id_within_the_minute(self) -> None:
        """The same for DB instances: the automated snapshot takes the next free name."""
        rds = _rds("eu-central-1")
        kwargs = {"DBInstanceClass": "db.t3.micro", "Engine": "postgres", "MasterUsername": "admin",
                  "MasterUserPassword": "password1"}
        rds.create_db_instance(DBInstanceIdentifier="orders-db", **kwargs)
        rds.modify_db_instance(DBInstanceIdentifier="orders-db", NewDBInstanceIdentifier="orders-db-fenced",
                               ApplyImmediately=True)
        rds.create_db_instance(DBInstanceIdentifier="orders-db", **kwargs)
        assert _instance("eu-central-1", "orders-db")["DBInstanceStatus"] == "available"


class TestTransitionsUnderConcurrentReads:
    def test_reading_a_settled_status_never_changes_the_objects_attribute_count(
            self, sandbox_control: LocalControl, control_clock: FakeClock) -> None:
        """moto's serializer iterates a model's __dict__ in other request threads: a status read that settles an
        elapsed transition must not add or drop a key ("dictionary changed size during iteration")."""
        from dr.sandbox.extensions import transitions

        class Model:
            def __init__(self) -> None:
                self.status = "available"

        transitions.install_on(Model)
        model = Model()
        transitions.begin(model, "modifying", "available", 5.0)
        size = len(model.__dict__)
        assert model.status == "modifying"
        control_clock.advance(6.0)
        assert model.status == "available"
        assert len(model.__dict__) == size
        model.status = "stopped"
        assert len(model.__dict__) == size
