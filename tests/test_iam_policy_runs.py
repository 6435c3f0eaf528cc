"""Every AWS call of every runbook (failover planned and unplanned, fence, failback, each drill mode) and of an
exporter refresh, made against the sandbox, is allowed by the generated policy of the environment whose
credentials made it; and the policies allow no action that no run called."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from iam_support import Call, action_of, recording, resources_of

from dr.aws.dns_answers import CONTROL_PLANE, VERIFY_ENV
from dr.aws.factory import ClientFactory
from dr.aws.rds import member_arn
from dr.config import Topology, load
from dr.engine.backends import journal_backend, run_lock
from dr.engine.lock.base import lock_key
from dr.engine.registry import get
from dr.engine.session import RunSession, Services, new_header
from dr.engine.step import RunContext, RunOptions
from dr.iam.evaluate import Request, is_allowed
from dr.iam.generate import Scope
from dr.iam.policy import policies
from dr.sandbox.session import patched_environ
from tests.conftest import EXAMPLE
from tests.failover_support import Harness, harness

ONLY_ON_OTHER_PATHS = {
    "kms:CreateGrant": "AWS checks it (a dependent action of CreateDBCluster / CreateDBInstance) when RDS creates an "
                       "encrypted Aurora copy with the caller's rights; moto's RDS calls no KMS",
    "route53:GetHealthCheck": "a health check missing from the ListHealthChecks pages is read on its own "
                              "(dr/aws/route53_health.py, ConfigReader.get)",
    "route53:UpdateHealthCheck": "a return restores the health checks a run inverted (runbooks/steps/dns_upsert.py, "
                                 "_restore_inverted)",
    "states:ListExecutions": "a run whose pair has a drctl state machine deployed reads its RUNNING executions "
                             "(dr/sfn/pair_lock.py); these runs deploy none",
    "states:ListTagsForResource": "readiness's state-machine lines and plan evaluation's engine check read a deployed "
                                  "machine's tags (dr/checks/state_machines.py); these runs deploy none",
}
"""Declared actions no run of this test calls, and the path that calls them."""


@dataclass
class Runs:
    topology: Topology
    calls: list[tuple[Call, str]]
    """Each call with the account whose credentials signed it."""


def _run(h: Harness, runbook: str, target: str, run_id: str, **options: Any) -> int:
    """A run as the CLI makes it: the topology's journal (S3) and lock (DynamoDB lease) backends."""
    cls = get(runbook)
    opts = RunOptions(yes=True, **options)
    clients = ClientFactory(h.topology, run_id=run_id)
    source = h.topology.source_of(target) if runbook != "fence" else "qa"
    ctx = RunContext(topology=h.topology, clients=clients, clock=h.clock, run_id=run_id, runbook=cls.name,
                     source=source, target=target, options=opts)
    header = new_header(cls, h.topology, h.sbx.config_path, source=source, target=target, run_id=run_id,
                        options=opts, now=h.clock.now())
    lock = None if opts.dry_run else run_lock(h.topology, clients, lock_key(source, target), h.clock)
    services = Services(clock=h.clock, backend=journal_backend(h.topology, clients), lock=lock)
    return RunSession(cls(), ctx, header, services).start().exit_code


def _topology(tmp: Path) -> Path:
    document = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    document["state"] = {"s3_bucket": "team-drctl", "dynamodb_table": "drctl-locks"}
    # DR-region backups read both ways: replicated automated backups (orders), an AWS Backup vault (customers)
    document["databases"][0]["dr_backup"] = {"source": "rds-replication"}
    document["databases"][1]["dr_backup"] = {"source": "aws-backup", "vault": DR_VAULT}
    path = tmp / "dr.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    """Each env's role set up as docs/iam.md says, then every run recorded: the calls with the signing account."""
    from moto.iam.models import get_account_id_from

    tmp = tmp_path_factory.mktemp("iam-runs")
    with harness(tmp, load(_topology(tmp))) as h:
        _roles(h)
        _dr_side_backups(h)
        with recording() as log:
            _run_everything(h)
        yield Runs(h.topology, [(c, get_account_id_from(c.access_key)) for c in log.calls])


def _run_everything(h: Harness) -> None:
    from dr.metrics.exporter import Exporter

    assert _run(h, "drill", "qa", "drill-dry", dry_run=True, extra={"mode": "dry-run"}) == 0
    assert _run(h, "drill", "qa", "drill-clone", extra={"mode": "clone"}) == 0
    Exporter(h.topology, clients=ClientFactory(h.topology, run_id="exporter")).refresh_once()
    _evaluation_and_readiness(h)
    assert _run(h, "failover", "qa", "failover-planned") == 0
    for name in ("orders", "customers", "inventory", "payments"):
        h.set_lag(name, 5.0, at_primary=True)
    assert _run(h, "failback", "prod", "failback") == 0
    with patched_environ({VERIFY_ENV: CONTROL_PLANE}):  # failover records verified by TestDNSAnswer
        assert _run(h, "failover", "qa", "failover-unplanned", planned=False, accept_data_loss=True) == 0
    assert _run(h, "fence", "prod", "fence") == 0
    _state_reads(h)
    _plan_evaluation(h)


def _state_reads(h: Harness) -> None:
    """What `drctl resume` / `runs show` (the journal read back) and a long run (lease renewed, holder read)
    call on the state bucket and lock table."""
    from dr.engine.lock.base import LockInfo
    from dr.engine.session import load_history

    clients = ClientFactory(h.topology, run_id="state")
    assert load_history(journal_backend(h.topology, clients), "failback").steps
    lock = run_lock(h.topology, clients, lock_key("prod", "qa"), h.clock)
    assert lock.acquire(LockInfo(lock_key("prod", "qa"), "state", "test@host", 1, h.clock.now())) is None
    assert lock.renew()  # type: ignore[attr-defined]
    holder = lock.holder()
    assert holder is not None
    assert holder.run_id == "state"
    lock.release()


DR_VAULT = "dr-vault"


def _evaluation_and_readiness(h: Harness) -> None:
    """`drctl plan evaluate --to qa` (every check of dr.evaluate.CHECKS) and `drctl readiness --env qa` (with its
    `dr-backup` check), each DR-region copy fresh: every check could read what it needed and passes."""
    from dr.checks.model import CheckKind
    from dr.checks.readiness import readiness
    from dr.evaluate import CHECKS, evaluate

    topology = h.topology
    clients = ClientFactory(topology, run_id="evaluate")
    outcomes = evaluate(topology, clients, h.clock, "qa")
    assert [o.check for o in outcomes] == [c.name for c in CHECKS]
    assert {o.check: o.reason for o in outcomes if not o.ok} == {}
    backups = [r for r in readiness(topology, clients, h.clock, "qa") if r.check is CheckKind.DR_BACKUP]
    assert sorted(r.resource for r in backups if r.ok) == ["customers", "orders"]


def _dr_side_backups(h: Harness) -> None:
    """Before recording, as an operator sets them up: automated backups on every DR replica (retention 7 days),
    the DR vault, and an hour-old copy of orders (replicated automated backup) and customers (recovery point)."""
    from dr.config.model import Engine

    topology, control = h.topology, h.sbx.control
    clients = ClientFactory(topology, run_id="setup")
    for db in topology.databases:
        rds = clients.client("rds", db.replica.env, topology.region_of(db.replica))
        if db.engine is Engine.RDS_INSTANCE:
            rds.modify_db_instance(DBInstanceIdentifier=db.replica.id, BackupRetentionPeriod=7, ApplyImmediately=True)
        else:
            rds.modify_db_cluster(DBClusterIdentifier=db.replica.id, BackupRetentionPeriod=7, ApplyImmediately=True)
    orders, customers = topology.databases[:2]
    account, region = topology.environments["prod"].account_id, topology.region_of(orders.replica)
    clients.client("backup", "prod", region).create_backup_vault(BackupVaultName=DR_VAULT)
    control.set_dr_backup(account, region, member_arn(topology, orders, orders.primary), 3600)
    control.set_recovery_point(account, region, DR_VAULT, member_arn(topology, customers, customers.primary), 3600)


def _roles(h: Harness) -> None:
    """Each env's role as docs/iam.md attaches it (trust policy, generated permissions), before recording."""
    import json

    clients = ClientFactory(h.topology, run_id="roles")
    for env in ("prod", "qa"):
        generated = policies(h.topology, env, Scope.ALL)
        iam = clients.client("iam", env, "us-east-1")
        iam.create_role(RoleName="drctl", AssumeRolePolicyDocument=json.dumps(generated.trust))
        iam.put_role_policy(RoleName="drctl", PolicyName="drctl", PolicyDocument=json.dumps(generated.permissions))


def _plan_evaluation(h: Harness) -> None:
    """`drctl plan evaluate`'s permissions check, as each env's role: every finding ok."""
    from dr.iam.simulate import simulate

    clients = ClientFactory(h.topology, run_id="plan")
    for env in ("prod", "qa"):
        findings = simulate(h.topology, clients, env)
        assert findings
        assert [f.reason for f in findings if not f.ok] == []


def _env_of(topology: Topology, account: str) -> str | None:
    return next((name for name, env in topology.environments.items() if env.account_id == account), None)


class TestGeneratedPolicyAllowsEveryCall:
    def test_every_call_is_allowed_by_the_policy_of_the_env_that_made_it(self, runs: Runs) -> None:
        """Each call made with an env role's credentials is allowed by that env's generated policy; each role
        assumption (the caller's credentials) by that env's caller policy."""
        documents = {env: policies(runs.topology, env, Scope.ALL) for env in runs.topology.environments}
        denied: set[str] = set()
        for call, account in runs.calls:
            env = _env_of(runs.topology, account)
            if call.service == "sts":
                target = _env_of(runs.topology, str(call.params["RoleArn"]).split(":")[4])
                assert target is not None
                caller = documents[target].caller
                assert caller is not None, f"no caller policy for {target}"
                allowed = [caller]
            else:
                assert env is not None, f"{call} signed by account {account}, no environment of the topology"
                allowed = [documents[env].permissions]
            for resource in resources_of(call, account):
                request = Request(action_of(call), resource, _context(call))
                if not is_allowed(allowed, request):
                    denied.add(f"{env or 'caller'}: {request.action} on {resource} in {call.region}")
        assert not denied, "\n".join(sorted(denied))

    def test_the_policies_allow_no_action_that_no_run_called(self, runs: Runs) -> None:
        """Every action a generated policy grants was called by some run (or is listed with the path calling it)."""
        called = {action_of(call) for call, _ in runs.calls}
        granted = {action for env in runs.topology.environments
                   for statement in policies(runs.topology, env, Scope.ALL).permissions["Statement"]
                   for action in statement["Action"]}
        unexercised = sorted(granted - called - set(ONLY_ON_OTHER_PATHS))
        assert unexercised == [], f"granted, never called: {unexercised}"

    def test_every_service_the_runs_call_is_covered(self, runs: Runs) -> None:
        """The runs exercised the whole surface: RDS, Route53, CloudWatch, EKS, ECS, Auto Scaling, KMS, EC2,
        S3 (journal), DynamoDB (lock), STS, IAM (the policy simulator) and AWS Backup (a DR vault)."""
        services = {call.service for call, _ in runs.calls}
        assert services >= {"rds", "route53", "cloudwatch", "eks", "ecs", "autoscaling", "kms", "ec2", "s3",
                            "dynamodb", "sts", "iam", "backup"}


def _context(call: Call) -> dict[str, str]:
    context = {"aws:RequestedRegion": call.region}
    key = str(call.params.get("KeyId", ""))
    if call.service == "kms" and key.startswith("alias/"):
        context["kms:RequestAlias"] = key
    return context
