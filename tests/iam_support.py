"""Helpers for the IAM tests: record every AWS call drctl makes (who, what, where, on what) while it runs
against the in-process sandbox, and name the IAM request each call is authorized as."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

_PARAMS = "drctl_iam_test_params"


@dataclass(frozen=True)
class Call:
    """One AWS API call as the sandbox received it: botocore's service name, the operation, the region
    called, the access key that signed it and the request's parameters."""

    service: str
    operation: str
    region: str
    access_key: str
    params: dict[str, Any] = field(hash=False, compare=False)


@dataclass
class CallLog:
    calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def keep_params(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        """`before-parameter-build`: the API parameters as the caller gave them, kept in the request context."""
        context[_PARAMS] = dict(params)

    def hook(self, model: Any, request_signer: Any, context: dict[str, Any], **_: Any) -> None:
        """`before-call`: who signs (the access key), where (the client's region) and what."""
        credentials = request_signer._credentials
        access_key = credentials.get_frozen_credentials().access_key if credentials is not None else ""
        call = Call(model.service_model.service_name, model.name, request_signer._region_name, access_key,
                    context.get(_PARAMS, {}))
        with self._lock:
            self.calls.append(call)


@contextmanager
def recording() -> Iterator[CallLog]:
    """Record every call of every botocore session created inside the block (registered, as moto's own
    stub is, among botocore's built-in handlers, so the clients drctl's factory makes carry it)."""
    from botocore import handlers

    log = CallLog()
    entries = [("before-parameter-build", log.keep_params), ("before-call", log.hook)]
    handlers.BUILTIN_HANDLERS.extend(entries)
    try:
        yield log
    finally:
        for entry in entries:
            handlers.BUILTIN_HANDLERS.remove(entry)


_S3_ACTIONS = {"ListObjectsV2": "ListBucket", "HeadObject": "GetObject"}


def action_of(call: Call) -> str:
    """The IAM action a call is authorized as (the operation's name, except where S3 names it otherwise)."""
    prefix = {"elbv2": "elasticloadbalancing", "stepfunctions": "states"}.get(call.service, call.service)
    name = _S3_ACTIONS.get(call.operation, call.operation) if call.service == "s3" else call.operation
    return f"{prefix}:{name}"


def resources_of(call: Call, account: str) -> list[str]:
    """The resource ARN(s) AWS authorizes the call on (each must be allowed), per the Service Authorization
    Reference's resource types; `*` for actions with none."""
    p, region = call.params, call.region
    rds = f"arn:aws:rds:{region}:{account}"
    if call.service == "rds":
        return _rds_resources(call, rds, account)
    if call.service == "route53":
        change = "hostedzone" if call.operation == "GetHostedZone" else "change"  # GetHostedZone's Id is a zone's
        for key, kind in (("HostedZoneId", "hostedzone"), ("HealthCheckId", "healthcheck"), ("Id", change)):
            if key in p:
                return [f"arn:aws:route53:::{kind}/{str(p[key]).rsplit('/', 1)[-1]}"]
        return ["*"]
    if call.service in ("eks", "ecs"):
        return _container_resources(call, f"{region}:{account}")
    if call.service == "backup":
        return [f"arn:aws:backup:{region}:{account}:backup-vault:{p['BackupVaultName']}"]
    if call.service == "kms":
        key = str(p["KeyId"])
        return [key if key.startswith("arn:") else f"arn:aws:kms:{region}:{account}:key/"
                + ("*" if key.startswith("alias/") else key)]
    if call.service == "s3":
        bucket = f"arn:aws:s3:::{p['Bucket']}"
        return [f"{bucket}/{p['Key']}"] if "Key" in p else [bucket]
    if call.service == "dynamodb":
        return [f"arn:aws:dynamodb:{region}:{account}:table/{p['TableName']}"]
    if call.service == "sts":
        return [str(p["RoleArn"])]
    if call.service == "iam":
        return [str(p["PolicySourceArn"])]
    if call.service.startswith("route53-recovery-"):
        return _arc_resources(p)
    return ["*"]


def _arc_resources(p: dict[str, Any]) -> list[str]:
    """ARC: routing controls (GetRoutingControlState, UpdateRoutingControlStates' entries, DescribeRoutingControl),
    the cluster (DescribeCluster), the control panel (ListSafetyRules)."""
    entries = p.get("UpdateRoutingControlStateEntries")
    if entries:
        return [str(e["RoutingControlArn"]) for e in entries]
    for key in ("RoutingControlArn", "ClusterArn", "ControlPanelArn"):
        if key in p:
            return [str(p[key])]
    return ["*"]


def _container_resources(call: Call, where: str) -> list[str]:
    """EKS DescribeCluster: the cluster; ECS DescribeServices: each service (named, or by ARN as discovery passes
    them); ListClusters and ListServices have no resource type."""
    p = call.params
    if call.service == "eks":
        return [f"arn:aws:eks:{where}:cluster/{p['name']}"] if "name" in p else ["*"]
    if "services" not in p:
        return ["*"]
    cluster = str(p["cluster"]).rsplit("/", 1)[-1]
    return [str(s) if str(s).startswith("arn:") else f"arn:aws:ecs:{where}:service/{cluster}/{s}"
            for s in p["services"]]


_RDS_IDS = (("DBInstanceIdentifier", "db"), ("DBClusterIdentifier", "cluster"),
            ("DBParameterGroupName", "pg"), ("DBClusterParameterGroupName", "cluster-pg"),
            ("DBSubnetGroupName", "subgrp"), ("OptionGroupName", "og"),
            ("SourceDBInstanceIdentifier", "db"), ("SourceDBClusterIdentifier", "cluster"),
            ("ReplicationSourceIdentifier", "cluster"), ("TargetDbClusterIdentifier", "cluster"))
"""Request parameters naming an RDS resource the action is authorized on (a `New…Identifier` is not: it names
what the resource becomes)."""
_RDS_LISTINGS = {"DescribeDBInstances": "db", "DescribeDBClusters": "cluster",
                 "DescribeDBInstanceAutomatedBackups": "auto-backup"}
_RDS_UNSCOPED = {"DescribeAccountAttributes"}
"""RDS actions with no resource type (authorized on `*`)."""


def _rds_resources(call: Call, rds: str, account: str) -> list[str]:
    """Every resource the call names: the one acted on, its source, the groups it is created with, the global
    cluster (each must be allowed, as the Service Authorization Reference lists them for the action)."""
    p = call.params
    if call.operation in _RDS_UNSCOPED:
        return ["*"]
    if "ResourceName" in p:
        return [str(p["ResourceName"])]
    out = [str(p[key]) if str(p[key]).startswith("arn:") else f"{rds}:{kind}:{p[key]}"
           for key, kind in _RDS_IDS if key in p]
    if "GlobalClusterIdentifier" in p or call.operation == "DescribeGlobalClusters":
        out.append(f"arn:aws:rds::{account}:global-cluster:{p.get('GlobalClusterIdentifier', '*')}")
    if not out and call.operation in _RDS_LISTINGS:
        out.append(f"{rds}:{_RDS_LISTINGS[call.operation]}:*")  # a listing (with or without Filters)
    assert out, f"no RDS resource named by {call.operation} {sorted(p)}"
    return out
