"""Names, tags and ARNs of drctl's state machines: one per runbook and direction, its tags naming the topology
(a hash of the topology file) and the definition it was generated from."""

from __future__ import annotations

import hashlib

from dr.sfn.generate import Definition

TOPOLOGY_TAG = "drctl:topology-sha256"
DEFINITION_TAG = "drctl:definition-sha256"
RUNBOOK_TAG = "drctl:runbook"
DIRECTION_TAG = "drctl:direction"


def machine_name(runbook: str, source: str, target: str) -> str:
    """`drctl-failover-prod-to-qa`: stable, so a new topology updates the machine in place (tags say which)."""
    return f"drctl-{runbook}-{source}-to-{target}"[:80]


def role_name(runbook: str, source: str, target: str) -> str:
    return f"drctl-sfn-{runbook}-{source}-to-{target}"[:64]


def machine_arn(defn: Definition) -> str:
    name = machine_name(defn.runbook, defn.source, defn.target)
    return f"arn:aws:states:{defn.region}:{defn.account}:stateMachine:{name}"


def execution_arn(defn: Definition, run_id: str) -> str:
    name = machine_name(defn.runbook, defn.source, defn.target)
    return f"arn:aws:states:{defn.region}:{defn.account}:execution:{name}:{run_id}"


def definition_hash(defn: Definition) -> str:
    return hashlib.sha256(defn.text().encode()).hexdigest()[:16]


def tags(defn: Definition, topology_sha: str) -> list[dict[str, str]]:
    return [{"key": TOPOLOGY_TAG, "value": topology_sha[:16]},
            {"key": DEFINITION_TAG, "value": definition_hash(defn)},
            {"key": RUNBOOK_TAG, "value": defn.runbook},
            {"key": DIRECTION_TAG, "value": f"{defn.source}->{defn.target}"}]
