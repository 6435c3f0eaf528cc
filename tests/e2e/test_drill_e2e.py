"""`drctl drill` as a subprocess against the sandbox server: the Markdown and JSON reports, the metrics file,
the pushed metrics (Debian's prometheus-pushgateway on loopback), and AWS state checked with plain boto3."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dr.testing.sandbox import ServerSandbox
from tests.prometheus_support import http_get, pushgateway

pytestmark = pytest.mark.e2e


def plain_rds(sbx: ServerSandbox, region: str) -> Any:
    """A boto3 RDS client in prod's account through the sandbox endpoint (not drctl's factory)."""
    import boto3

    role = sbx.topology.environments["prod"].role_arn
    sts = boto3.client("sts", region_name=region, endpoint_url=sbx.endpoint, aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    creds = sts.assume_role(RoleArn=role, RoleSessionName="e2e-drill")["Credentials"]
    return boto3.client("rds", region_name=region, endpoint_url=sbx.endpoint, aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[str | None]:
    """A Pushgateway on a free loopback port. In CI it must exist (the test fails otherwise); locally, without
    Debian's prometheus-pushgateway, None: the reports and the metrics file are still checked."""
    if shutil.which("prometheus-pushgateway") is None and os.environ.get("CI", "").lower() != "true":
        yield None
        return
    with pushgateway(tmp_path) as url:
        yield url


class TestCloneDrillEndToEnd:
    def test_clone_drill_reports_pushes_metrics_and_leaves_nothing_behind(
            self, sandbox_server: ServerSandbox, tmp_path: Path, gateway: str | None) -> None:
        """A clone drill run as `drctl` exits 0, saves Markdown+JSON, writes and pushes its metrics, leaves no
        drill resource; `drctl drill history` in another process lists it."""
        sbx = sandbox_server
        sbx.control.set_promotion_seconds(0.3)
        sbx.control.set_change_pending_seconds(0.2)
        metrics = tmp_path / "drctl.prom"
        push = ["--pushgateway", gateway] if gateway else []
        result = sbx.run_drctl("drill", "--to", "qa", "--mode", "clone", "--yes", "-o", "json",
                               "--metrics-file", str(metrics), *push)
        assert result.returncode == 0, result.stderr[-3000:]
        report = json.loads(result.stdout)
        assert report["status"] == "succeeded"
        assert report["runbook"] == "drill"
        assert report["rto"]["met"] is True
        assert report["rpo"]["met"] is True
        assert report["drill"]["promotion_seconds"]["orders"] >= 0.3
        saved = json.loads(Path(report["report_files"]["json"]).read_text(encoding="utf-8"))
        assert saved == report
        markdown = Path(report["report_files"]["markdown"]).read_text(encoding="utf-8")
        assert markdown.startswith(f"# DR drill {report['run_id']}")
        assert "| drill-promote:orders |" in markdown
        assert 'drctl_drill_last_success_timestamp_seconds{target="qa"}' in metrics.read_text()
        if gateway:
            pushed = http_get(f"{gateway}/metrics")[1].decode()
            last = [line for line in pushed.splitlines()
                    if line.startswith("drctl_drill_last_success_timestamp_seconds{")]
            assert len(last) == 1
            assert all(f'{k}="{v}"' in last[0] for k, v in (("job", "drctl"), ("runbook", "drill"), ("target", "qa")))
        with sbx.aws_env():
            rds = plain_rds(sbx, "eu-west-1")
            instances = rds.describe_db_instances()["DBInstances"]
            clusters = rds.describe_db_clusters()["DBClusters"]
        tagged = [d for d in instances + clusters
                  if {"Key": "drctl:drill", "Value": "true"} in (d.get("TagList") or [])]
        assert tagged == []
        replica = next(d for d in instances if d["DBInstanceIdentifier"] == "orders-db-euw1")
        assert replica["ReadReplicaSourceDBInstanceIdentifier"].endswith(":db:orders-db")
        listed = json.loads(sbx.run_drctl("drill", "history", "-o", "json").stdout)
        assert [d["run_id"] for d in listed["drills"]] == [report["run_id"]]
        assert listed["drills"][0]["rto_met"] is True
