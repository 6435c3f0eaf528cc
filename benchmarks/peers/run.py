"""Run one peer as its own process against a `prepare`d sandbox, as `benchmarks.failover` runs drctl: wall time
from process start to exit, the server's call counts, the sandbox's promotion events, and whether the estate
really moved (every replica promoted, every record pointing at the DR side)."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from benchmarks.estate import SOURCE, TARGET
from benchmarks.failover import Scenario, subtract, throttle, unthrottle
from benchmarks.peers import plan as peer_plan
from dr.config.model import DnsStrategy, Topology
from dr.sandbox.extensions.state import CallStats, PromotionEvent
from dr.sandbox.session import ServedSandbox, patched_environ, subprocess_env

ROOT = Path(__file__).resolve().parents[2]
PEERS = {"by hand (boto3 waiters)": "benchmarks.peers.by_hand",
         "DR Orchestrator style": "benchmarks.peers.dr_orchestrator"}
"""Row name (without the word "peer") -> the module run with `python -m`."""


@dataclass
class PeerRun:
    name: str
    exit_code: int
    wall_seconds: float
    slowest_promotion: float
    dns_sync: float
    stats: CallStats
    events: list[PromotionEvent]
    moved: str
    """"all moved", or what was not."""
    stderr: str = field(default="", repr=False)

    @property
    def critical_path(self) -> float:
        return self.slowest_promotion + self.dns_sync

    @property
    def ratio(self) -> float:
        return self.wall_seconds / self.critical_path if self.critical_path else float("nan")


def run_peer(sandbox: ServedSandbox, scenario: Scenario, workdir: Path, name: str,
             timeout: float = 3600.0) -> PeerRun:
    """Run the peer `name` (a key of PEERS) on the sandbox as `prepare` left it."""
    control = sandbox.control
    plan_path = peer_plan.write(sandbox.topology, SOURCE, TARGET, scenario.promotions.time_scale,
                                workdir / f"peer-{PEERS[name].rsplit('.', 1)[-1]}.json")
    before = control.stats()
    env = subprocess_env({**sandbox.env(), "PYTHONPATH": str(ROOT)})
    throttle(control, peer_quotas(scenario))
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", PEERS[name], str(plan_path)], env=env, capture_output=True,
                          text=True, timeout=timeout, check=False, cwd=ROOT)
    wall = time.perf_counter() - started
    stats = subtract(control.stats(), before)
    events = control.promotion_events()
    control.set_latency(0.0)
    unthrottle(control)
    durations = [(e.done_at - e.requested_at).total_seconds() for e in events]
    return PeerRun(name=name, exit_code=done.returncode, wall_seconds=wall,
                   slowest_promotion=max(durations, default=0.0), dns_sync=scenario.change_pending_seconds,
                   stats=stats, events=events, moved=moved(sandbox, events), stderr=done.stderr[-4000:])


def peer_quotas(scenario: Scenario) -> Scenario:
    """The scenario with its API rates scaled like the peers' waits: a peer polls each database every 15 s (or
    30 s) of AWS's time, which the benchmark makes 0.25 s (0.5 s); against AWS's per-second quotas unscaled,
    60 such pollers would ask 240 RDS calls a second where AWS sees 4, and be throttled as they never are on AWS.
    drctl polls in real time through one shared listing (~5 calls/s) and keeps AWS's quotas."""
    scale = scenario.promotions.time_scale
    return replace(scenario,
                   throttle_rate=None if scenario.throttle_rate is None else scenario.throttle_rate / scale,
                   rds_throttle_rate=None if scenario.rds_throttle_rate is None else scenario.rds_throttle_rate / scale)


def moved(sandbox: ServedSandbox, events: list[PromotionEvent]) -> str:
    """"all moved" when every replica has a promotion event and every record names the DR side; else what not."""
    topology = sandbox.topology
    promoted = {e.identifier for e in events}
    missing = [db.replica.id for db in topology.databases if db.replica.id not in promoted]
    wrong = records_not_moved(sandbox, topology)
    if not missing and not wrong:
        return "all moved"
    return (f"{len(missing)} database(s) not promoted ({', '.join(missing[:3])}), "
            f"{len(wrong)} record(s) not moved ({', '.join(wrong[:3])})")


def records_not_moved(sandbox: ServedSandbox, topology: Topology) -> list[str]:
    """Records whose plain value (or failover PRIMARY's value) is not the DR side's, read from the zones."""
    from dr.aws.factory import ClientFactory
    from dr.aws.route53 import list_zone
    from dr.sandbox.session import client_env

    with patched_environ(client_env(sandbox.endpoint)):
        clients = ClientFactory(topology, run_id="bench-check")
        listings = {key: list_zone(clients.route53(key[1]), key[0])
                    for key in {(r.zone_id, r.env) for r in topology.dns}}
    wrong = []
    for record in topology.dns:
        values = {str(v["Value"]).rstrip(".").lower()
                  for rrset in listings[(record.zone_id, record.env)]
                  if str(rrset["Name"]).lower() == record.fqdn.lower() and rrset["Type"] == record.type
                  and (record.strategy is not DnsStrategy.FAILOVER_ROUTING or rrset.get("Failover") == "PRIMARY")
                  for v in rrset.get("ResourceRecords", [])}
        if values != {record.targets[TARGET].rstrip(".").lower()}:
            wrong.append(record.fqdn)
    return wrong
