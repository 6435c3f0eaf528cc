"""Peer 2, DR Orchestrator style: the pattern of AWS's DR Orchestrator Framework sample (aws-samples/
aws-cross-region-dr-databases, AWS Prescriptive Guidance "Automate cross-Region failover and failback by using DR
Orchestrator Framework"): one state-machine execution per database, all at once; each calls the promote API, checks
the status right away, and while it is not `available` runs a `Wait` state of 15 s before checking again (the
first check follows the promote call at once and sees the promotion under way, so the first wait is a fixed 15 s).
The framework covers databases only; the peer moves DNS in the same pattern: one change batch per hosted zone,
all zones at once, `GetChange` every 15 s until INSYNC. Every wait is scaled by the plan's `time_scale`.

Usage: python -m benchmarks.peers.dr_orchestrator PLAN.json
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from benchmarks.peers._aws import client, cluster_arn, global_writer_moved, load_plan

WAIT_SECONDS = 15.0
"""The sample's `Wait` state between status checks."""
MAX_CHECKS = 240
"""An hour of 15-s waits: the execution fails rather than wait for ever."""


def poll(done: Any, wait: float, what: str) -> None:
    for _ in range(MAX_CHECKS):
        if done():
            return
        time.sleep(wait)
    raise RuntimeError(f"{what}: not done after {MAX_CHECKS} checks")


def failover(db: dict[str, Any], wait: float) -> None:
    rds = client(db["role_arn"], "rds", db["region"])
    if db["engine"] == "rds-instance":
        rds.promote_read_replica(DBInstanceIdentifier=db["id"])
        poll(lambda: rds.describe_db_instances(DBInstanceIdentifier=db["id"])["DBInstances"][0]["DBInstanceStatus"]
             == "available", wait, db["id"])
    elif db["engine"] == "aurora-cluster":
        rds.promote_read_replica_db_cluster(DBClusterIdentifier=db["id"])
        poll(lambda: rds.describe_db_clusters(DBClusterIdentifier=db["id"])["DBClusters"][0]["Status"]
             == "available", wait, db["id"])
    else:
        arn = cluster_arn(rds, db["id"])
        rds.switchover_global_cluster(GlobalClusterIdentifier=db["global_cluster_id"], TargetDbClusterIdentifier=arn)
        poll(lambda: global_writer_moved(rds, db["global_cluster_id"], arn), wait, db["global_cluster_id"])


def move_zone(zone: dict[str, Any], wait: float) -> None:
    route53 = client(zone["role_arn"], "route53", "us-east-1")
    change_id = route53.change_resource_record_sets(
        HostedZoneId=zone["zone_id"], ChangeBatch={"Changes": zone["changes"]})["ChangeInfo"]["Id"]
    poll(lambda: route53.get_change(Id=change_id)["ChangeInfo"]["Status"] == "INSYNC", wait, zone["zone_id"])


def main(argv: list[str]) -> int:
    plan = load_plan(argv[0])
    wait = WAIT_SECONDS * float(plan["time_scale"])
    databases, zones = plan["databases"], plan["zones"]
    with ThreadPoolExecutor(max_workers=max(1, len(databases))) as pool:
        list(pool.map(lambda db: failover(db, wait), databases))  # list(): re-raise the first failure
    with ThreadPoolExecutor(max_workers=max(1, len(zones))) as pool:
        list(pool.map(lambda zone: move_zone(zone, wait), zones))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
