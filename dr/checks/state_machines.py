"""Is each drctl state machine deployed for the topology's pairs the one the current topology generates?

A machine's tags (`drctl:definition-sha256`, `drctl:topology-sha256`, written by `drctl deploy --engine
stepfunctions`) say what it was generated from; the definition the current topology generates is computed here
(no AWS call) and its hash compared. In the account and region a machine lives in (the copies it promotes): one
ListStateMachines (read afresh: the exporter lives long), then ListTagsForResource of a drctl machine found; one not
deployed is not applicable (no failure: the engine is optional).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dr.aws.errors import describe, error_code
from dr.checks.model import CheckKind, CheckResult, failed, passed

if TYPE_CHECKING:
    from dr.aws.factory import ClientFactory
    from dr.config.model import Topology

NOT_DEPLOYED = "ResourceNotFound"
"""ListTagsForResource's error for a state machine that does not exist (Step Functions API Reference)."""


@dataclass(frozen=True)
class MachineState:
    """One drctl machine of the topology: where it lives, whether it is deployed and current, and why."""

    name: str
    env: str
    region: str
    deployed: bool
    ok: bool
    reason: str


def all_directions(topology: Topology) -> list[tuple[str, str, str]]:
    """(runbook, source, target) of every drctl machine the topology can have: each pair's failover and failback."""
    from dr.sfn.run import directions

    return directions(topology)


def directions_into(topology: Topology, target: str) -> list[tuple[str, str, str]]:
    """(runbook, source, target) of the machines that move `target`'s pair into `target`."""
    return [d for d in all_directions(topology) if d[2] == target]


def directions_of_pair(topology: Topology, target: str) -> list[tuple[str, str, str]]:
    """Both machines of the pair whose DR side is `target`: its failover and its failback."""
    source = str(topology.source_of(target))
    return [("failover", source, target), ("failback", target, source)]


def machine_state(topology: Topology, clients: ClientFactory, runbook: str, source: str, target: str) -> MachineState:
    """Read the machine's tags and compare its definition hash with the generated one's."""
    from dr.sfn import naming
    from dr.sfn.pair_lock import deployed_here
    from dr.sfn.run import definition_for

    defn = definition_for(topology, runbook, source, target, clients)
    name = naming.machine_name(runbook, source, target)
    env = next(n for n, e in topology.environments.items() if e.account_id == defn.account)
    if name not in deployed_here(clients, env, defn.region, cache=False):
        return MachineState(name, env, defn.region, False, True, "not deployed: not applicable")
    sfn = clients.client("stepfunctions", env, defn.region)
    try:
        tags = {t["key"]: t["value"] for t in sfn.list_tags_for_resource(resourceArn=naming.machine_arn(defn))["tags"]}
    except Exception as err:
        if error_code(err) != NOT_DEPLOYED:
            raise
        return MachineState(name, env, defn.region, False, True, "not deployed: not applicable")
    wanted = naming.definition_hash(defn)
    found = tags.get(naming.DEFINITION_TAG)
    if found == wanted:
        return MachineState(name, env, defn.region, True, True, f"generated from this topology (definition {wanted})")
    return MachineState(name, env, defn.region, True, False, stale_reason(name, tags.get(naming.TOPOLOGY_TAG), found,
                                                                           wanted))


def stale_reason(name: str, topology_sha: str | None, found: str | None, wanted: str) -> str:
    return (f"deployed state machine {name} was generated from another topology (its tags: topology sha256 "
            f"{topology_sha or 'none'}, definition {found or 'none'}; this topology generates definition {wanted}); "
            "run `drctl deploy --engine stepfunctions`")


def check_state_machines(topology: Topology, clients: ClientFactory, env: str) -> list[CheckResult]:
    """Readiness of `env`: a line per drctl machine moving into it that is deployed (none when none is)."""
    out: list[CheckResult] = []
    for runbook, source, target in directions_into(topology, env):
        resource = f"{runbook} {source}->{target}"
        try:
            state = machine_state(topology, clients, runbook, source, target)
        except Exception as err:  # one unreadable machine fails its line, with the reason
            out.append(failed(env, CheckKind.STATE_MACHINE, resource, f"could not read its tags: {describe(err)}"))
            continue
        if state.deployed:
            where = f"{state.name} ({state.env}/{state.region})"
            out.append((passed if state.ok else failed)(env, CheckKind.STATE_MACHINE, where, state.reason))
    return out
