"""What the exporter's sources (dr.metrics._sources) call, per source, as IAM Grants (dr.iam)."""

from __future__ import annotations

from dr.config.model import Topology
from dr.evaluate._permissions import evaluation_permissions
from dr.iam import needs
from dr.iam.grants import Grant


def exporter_permissions(topology: Topology) -> list[Grant]:
    """lags (CloudWatch where either copy lives: lag is read in the direction replication runs now), readiness of
    every environment (EKS/ECS/ASG, the copies and their replica settings, health checks), health, dns (each
    record's zone), writers (both copies of every database); and the plan evaluation the exporter runs every
    `--evaluate-interval` (dr.evaluate._permissions: what `drctl plan evaluate` calls too)."""
    out: list[Grant] = []
    members = [pair for db in topology.databases for pair in needs.both_sides(db)]
    out += needs.rds_reads(topology, members)
    for db, loc in members:
        out += needs.lag(topology, loc) + needs.settings_reads(topology, db, loc)
    for env in topology.readiness:
        out += needs.readiness(topology, env)
    from dr.checks.state_machines import all_directions

    out += needs.state_machine_tags(topology, all_directions(topology))  # readiness's state-machine lines
    out += needs.health(topology.dns)
    for record in topology.dns:
        out += needs.zone(record.env, record.zone_id, change=False)
    return out + evaluation_permissions(topology)
