"""The peers' one AWS helper: a client as the environment's role (STS AssumeRole, one per role and process),
credentials and endpoint from the environment as boto3 reads them; plus the shared reading of a plan file."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import boto3

MOVING = ("pending", "switching-over", "failing-over", "cancelling")
"""`FailoverState.Status` while a global cluster's switchover or failover is under way."""
_lock = threading.Lock()
_sessions: dict[str, boto3.Session] = {}


def client(role_arn: str, service: str, region: str) -> Any:
    """A boto3 client of `service` in `region` acting as `role_arn` (one AssumeRole per role)."""
    with _lock:
        session = _sessions.get(role_arn)
        if session is None:
            sts = boto3.client("sts", region_name=region)
            creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="peer-benchmark")["Credentials"]
            session = boto3.Session(aws_access_key_id=creds["AccessKeyId"],
                                    aws_secret_access_key=creds["SecretAccessKey"],
                                    aws_session_token=creds["SessionToken"])
            _sessions[role_arn] = session
        return session.client(service, region_name=region)


def load_plan(path: str) -> dict[str, Any]:
    plan: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return plan


def global_writer_moved(rds: Any, global_cluster_id: str, target_arn: str) -> bool:
    """Whether the global cluster's writer is `target_arn` and no switchover is under way (boto3 has no waiter
    for global clusters: the member's own `Status` stays `available` during a switchover)."""
    answer = rds.describe_global_clusters(GlobalClusterIdentifier=global_cluster_id)["GlobalClusters"]
    # picked by id: moto 5.2 ignores GlobalClusterIdentifier and lists every global cluster (AWS answers one)
    found = next(g for g in answer if g["GlobalClusterIdentifier"] == global_cluster_id)
    writers = [m["DBClusterArn"] for m in found.get("GlobalClusterMembers", []) if m.get("IsWriter")]
    moving = found.get("FailoverState", {}).get("Status") in MOVING
    return found.get("Status") == "available" and not moving and writers == [target_arn]


def cluster_arn(rds: Any, cluster_id: str) -> str:
    return str(rds.describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"][0]["DBClusterArn"])
