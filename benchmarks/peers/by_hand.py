"""Peer 1, by hand: the runbook as an SRE scripts it with boto3. One database after another: promote it
(`PromoteReadReplica`, `PromoteReadReplicaDBCluster`, or `SwitchoverGlobalCluster`), then boto3's standard
waiter (`db_instance_available`, `db_cluster_available`) at its default delay scaled like the promotions; then one
`ChangeResourceRecordSets` per record, each followed by the `resource_record_sets_changed` waiter.

boto3 has no waiter for a global cluster and a member's `Status` stays `available` during a switchover, so a
global database is waited for with `DescribeGlobalClusters` at `db_cluster_available`'s delay (the script an SRE
writes after the first time the waiter returned at once).

Usage: python -m benchmarks.peers.by_hand PLAN.json (AWS_ENDPOINT_URL and credentials from the environment).
"""

from __future__ import annotations

import sys
import time
from typing import Any

from benchmarks.peers._aws import client, cluster_arn, global_writer_moved, load_plan


def waiter_config(waiter: Any, scale: float) -> dict[str, float]:
    """The waiter's own Delay and MaxAttempts (30 s x 60 for these three), its delay scaled."""
    return {"Delay": waiter.config.delay * scale, "MaxAttempts": waiter.config.max_attempts}


def promote(db: dict[str, Any], scale: float) -> None:
    rds = client(db["role_arn"], "rds", db["region"])
    if db["engine"] == "rds-instance":
        rds.promote_read_replica(DBInstanceIdentifier=db["id"])
        waiter = rds.get_waiter("db_instance_available")
        waiter.wait(DBInstanceIdentifier=db["id"], WaiterConfig=waiter_config(waiter, scale))
    elif db["engine"] == "aurora-cluster":
        rds.promote_read_replica_db_cluster(DBClusterIdentifier=db["id"])
        waiter = rds.get_waiter("db_cluster_available")
        waiter.wait(DBClusterIdentifier=db["id"], WaiterConfig=waiter_config(waiter, scale))
    else:
        arn = cluster_arn(rds, db["id"])
        rds.switchover_global_cluster(GlobalClusterIdentifier=db["global_cluster_id"], TargetDbClusterIdentifier=arn)
        config = waiter_config(rds.get_waiter("db_cluster_available"), scale)
        for _ in range(int(config["MaxAttempts"])):
            if global_writer_moved(rds, db["global_cluster_id"], arn):
                return
            time.sleep(config["Delay"])
        raise SystemExit(f"{db['global_cluster_id']}: switchover to {db['id']} not done after the waiter's attempts")


def move_records(zone: dict[str, Any], scale: float) -> None:
    route53 = client(zone["role_arn"], "route53", "us-east-1")
    waiter = route53.get_waiter("resource_record_sets_changed")
    for change in zone["changes"]:
        answer = route53.change_resource_record_sets(HostedZoneId=zone["zone_id"], ChangeBatch={"Changes": [change]})
        waiter.wait(Id=answer["ChangeInfo"]["Id"], WaiterConfig=waiter_config(waiter, scale))


def main(argv: list[str]) -> int:
    plan = load_plan(argv[0])
    scale = float(plan["time_scale"])
    for db in plan["databases"]:
        promote(db, scale)
    for zone in plan["zones"]:
        move_records(zone, scale)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
