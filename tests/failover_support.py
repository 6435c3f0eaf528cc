"""Helpers for the failover/failback tests: run a runbook in-process on the in-process sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dr.aws.factory import ClientFactory
from dr.aws.faults import Faults
from dr.clock import FakeClock
from dr.config import Topology
from dr.engine.backends import journal_backend, run_lock
from dr.engine.lock.base import lock_key
from dr.engine.registry import get
from dr.engine.session import RunOutcome, RunSession, Services, load_history, new_header
from dr.engine.step import RunContext, RunOptions
from dr.sandbox.session import Timings
from dr.testing.sandbox import InProcessSandbox, in_process_sandbox

FAST = Timings(promotion_seconds=2.0, change_pending_seconds=1.0)
"""Sandbox timings on the fake clock: promotions and Route53 changes take a few (fake) seconds."""


@dataclass
class Harness:
    """The seeded in-process sandbox, a fake clock, and fault hooks counting every AWS call."""

    sbx: InProcessSandbox
    clock: FakeClock
    faults: Faults = field(default_factory=Faults)
    runs: int = 0

    @property
    def topology(self) -> Any:
        return self.sbx.topology

    def run(self, runbook: str, target: str, *, run_id: str | None = None, resume: bool = False,
            locked: bool = False, **options: Any) -> RunOutcome:
        """Run (or resume) `runbook` toward `target` with `options` (RunOptions fields, extra=...); `locked`: with
        the pair's run lock, as the CLI takes it (otherwise none)."""
        self.runs += 1
        run_id = run_id or f"run-{self.runs}"
        cls = get(runbook)
        opts = RunOptions(yes=True, **options)
        clients = ClientFactory(self.topology, run_id=run_id, faults=self.faults)
        source = self.topology.source_of(target)
        ctx = RunContext(topology=self.topology, clients=clients, clock=self.clock, run_id=run_id,
                         runbook=cls.name, source=source, target=target, options=opts)
        header = new_header(cls, self.topology, self.sbx.config_path, source=source, target=target,
                            run_id=run_id, options=opts, now=self.clock.now())
        backend = journal_backend(self.topology, clients)
        lock = run_lock(self.topology, clients, lock_key(source, target), self.clock) if locked else None
        session = RunSession(cls(), ctx, header, Services(clock=self.clock, backend=backend, lock=lock))
        if resume:
            return session.resume(load_history(backend, run_id))
        return session.start()

    def context(self, runbook: str, target: str) -> RunContext:
        """A run context as `execute` builds it (for questions asked before a run, e.g. confirmation)."""
        clients = ClientFactory(self.topology, run_id="ctx", faults=self.faults)
        return RunContext(topology=self.topology, clients=clients, clock=self.clock, run_id="ctx", runbook=runbook,
                          source=self.topology.source_of(target), target=target, options=RunOptions())

    def rds(self, region: str, env: str = "prod") -> Any:
        return self.sbx.clients.client("rds", env, region)

    def route53(self, env: str = "prod") -> Any:
        return self.sbx.clients.route53(env)

    def mutating_calls(self) -> list[tuple[str, str, str]]:
        readonly = ("Describe", "List", "Get", "Test")
        return [c for c in self.faults.calls if not c[1].startswith(readonly) and c[0] != "sts"]

    def health_check(self, record_name: str, side: str) -> str:
        record = next(r for r in self.topology.dns if r.fqdn == record_name)
        return str(record.health_checks[side])

    def set_lag(self, db_name: str, seconds: float | None, age: float = 0.0, *, at_primary: bool = False) -> None:
        db = next(d for d in self.topology.databases if d.name == db_name)
        loc = db.primary if at_primary else db.replica
        account = self.topology.environments[loc.env].account_id
        self.sbx.control.set_replica_lag(account, self.topology.region_of(loc), db.engine.value, loc.id,
                                         seconds, age)


@contextmanager
def harness(workdir: Path, config: str | Path | Topology | None = None, timings: Timings = FAST) -> Iterator[Harness]:
    clock = FakeClock()
    with in_process_sandbox(config, workdir, clock=clock, timings=timings) as sbx:
        yield Harness(sbx, clock)


def instance(h: Harness, region: str, db_id: str) -> dict[str, Any] | None:
    try:
        return dict(h.rds(region).describe_db_instances(DBInstanceIdentifier=db_id)["DBInstances"][0])
    except Exception:
        return None


def step(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in report["steps"] if s["name"] == name)


def record_values(h: Harness, zone_id: str, name: str) -> list[str]:
    sets = h.route53().list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return [v["Value"] for s in sets if s["Name"] == name and "SetIdentifier" not in s
            for v in s.get("ResourceRecords", [])]


def answer_of(route53: Any, record: Any) -> str:
    """What Route53 answers for the record now (TestDNSAnswer applies failover routing and health)."""
    found = route53.test_dns_answer(HostedZoneId=record.zone_id, RecordName=record.fqdn, RecordType=record.type)
    return ",".join(str(v).rstrip(".") for v in found["RecordData"])
