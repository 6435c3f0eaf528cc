"""Helpers for the drill tests: a snapshot of every database, record and health check the topology can
see (to prove a drill left production as it found it), and running `drctl` in-process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dr.aws.factory import ClientFactory
from dr.config.model import Topology
from dr.drill.leftovers import locations
from dr.testing import InProcessSandbox


def _db_state(client: Any) -> dict[str, Any]:
    instances = {
        d["DBInstanceIdentifier"]: {
            "status": d.get("DBInstanceStatus"), "source": d.get("ReadReplicaSourceDBInstanceIdentifier"),
            "replicas": sorted(d.get("ReadReplicaDBInstanceIdentifiers") or []), "class": d.get("DBInstanceClass"),
            "cluster": d.get("DBClusterIdentifier"),
            "tags": sorted((t["Key"], t["Value"]) for t in d.get("TagList") or []),
        } for d in client.describe_db_instances()["DBInstances"]}
    clusters = {
        c["DBClusterIdentifier"]: {
            "status": c.get("Status"), "source": c.get("ReplicationSourceIdentifier"),
            "replicas": sorted(c.get("ReadReplicaIdentifiers") or []), "global": c.get("GlobalClusterIdentifier"),
            "members": sorted(m["DBInstanceIdentifier"] for m in c.get("DBClusterMembers") or []),
            "tags": sorted((t["Key"], t["Value"]) for t in c.get("TagList") or []),
        } for c in client.describe_db_clusters()["DBClusters"]}
    globals_ = {
        g["GlobalClusterIdentifier"]: {
            "status": g.get("Status"),
            "members": sorted((m["DBClusterArn"], bool(m.get("IsWriter")), tuple(sorted(m.get("Readers") or [])))
                              for m in g.get("GlobalClusterMembers") or []),
        } for g in client.describe_global_clusters()["GlobalClusters"]}
    return {"instances": instances, "clusters": clusters, "global": globals_}


def _dns_state(client: Any) -> dict[str, Any]:
    zones: dict[str, Any] = {}
    for zone in client.list_hosted_zones()["HostedZones"]:
        sets = client.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
        zones[zone["Id"]] = sorted(json.dumps(s, sort_keys=True, default=str) for s in sets)
    checks = {
        h["Id"]: {"inverted": h["HealthCheckConfig"].get("Inverted"),
                  "disabled": h["HealthCheckConfig"].get("Disabled"),
                  "status": [o["StatusReport"]["Status"][:7] for o in client.get_health_check_status(
                      HealthCheckId=h["Id"])["HealthCheckObservations"]]}
        for h in client.list_health_checks()["HealthChecks"]}
    return {"zones": zones, "health_checks": checks}


def aws_state(topology: Topology, clients: ClientFactory) -> dict[str, Any]:
    """Every DB instance, cluster and global cluster in each (account, region) of the topology, and every
    record set and health check of each account's Route53."""
    state: dict[str, Any] = {}
    for env, region in locations(topology):
        state[f"rds/{env}/{region}"] = _db_state(clients.client("rds", env, region))
    for env in topology.environments:
        state[f"route53/{env}"] = _dns_state(clients.route53(env))
    return state


def drill_resources(state: dict[str, Any]) -> list[str]:
    """Ids of every database in `state` carrying the drill tag."""
    out = []
    for key, value in state.items():
        if key.startswith("rds/"):
            for kind in ("instances", "clusters"):
                out += [ident for ident, d in value[kind].items() if ("drctl:drill", "true") in d["tags"]]
    return sorted(out)


def drctl(*args: str, input: str | None = None) -> Any:
    """`drctl ARGS` in this process (moto mocked by the sandbox fixture); returns the click Result."""
    from dr.cli.main import app

    return CliRunner().invoke(app, list(args), input=input)


def drill_json(result: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(result.stdout)
    return document


@pytest.fixture(scope="module")
def shared_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessSandbox]:
    """One seeded in-process sandbox for a whole test module (seeding costs seconds; drills clean up after
    themselves, so tests can share it). Import this fixture into the test module to use it."""
    from dr.testing import in_process_sandbox

    workdir = tmp_path_factory.mktemp("drill-sandbox")
    with pytest.MonkeyPatch.context() as patch:
        for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "DRCTL_CONFIG", "DRCTL_PUSHGATEWAY"):
            patch.delenv(var, raising=False)
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_CONFIG_FILE", str(workdir / "no-aws-config"))
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(workdir / "no-aws-credentials"))
        patch.setenv("DRCTL_STATE_DIR", str(workdir / "drctl-state"))
        with in_process_sandbox(None, workdir) as box:
            yield box


def with_objectives(box: InProcessSandbox, path: Path, **objectives: str) -> Path:
    """A copy of the sandbox's config file with other objectives (same resources)."""
    import yaml

    document = yaml.safe_load(box.config_path.read_text(encoding="utf-8"))
    document["objectives"] = {**document.get("objectives", {}), **objectives}
    if "rto" in objectives and "max_dns_ttl" not in objectives:  # the written default is held to the new RTO
        document["objectives"].pop("max_dns_ttl", None)
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path
