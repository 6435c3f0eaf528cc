"""What plan evaluation (`drctl plan evaluate`, and the exporter every `--evaluate-interval`) calls, per check, as
IAM Grants (dr.iam): part of the `exporter` scope of `drctl iam policy`."""

from __future__ import annotations

from dr.checks.state_machines import directions_of_pair
from dr.config.model import Topology
from dr.evaluate.capacity import copies_needed
from dr.evaluate.permissions import envs_of
from dr.evaluate.runner import targets_of
from dr.iam import needs
from dr.iam.grants import Grant, grant


def evaluation_permissions(topology: Topology) -> list[Grant]:
    """Every check of `dr.evaluate.CHECKS` for every DR target, with the environment whose credentials it uses."""
    from dr.discover._permissions import drift_permissions

    members = [pair for db in topology.databases for pair in needs.both_sides(db)]
    out = needs.rds_reads(topology, members)  # resources, replica-backups
    out += _permissions_check(topology)
    out += [grant(env, region, ["rds:DescribeAccountAttributes"], ["*"])  # rds-quota
            for env, region in sorted(copies_needed(topology))]
    for record in topology.dns:  # dns-ttl
        out += needs.zone(record.env, record.zone_id, change=False)
    for db in topology.databases:  # dr-backup
        out += needs.dr_backup_reads(topology, db)
    for target in targets_of(topology, None):  # engine
        out += needs.state_machine_tags(topology, directions_of_pair(topology, target))
    return out + drift_permissions(topology)  # drift


def _permissions_check(topology: Topology) -> list[Grant]:
    """The permissions check simulates each role of a pair as that role (iam:SimulatePrincipalPolicy on itself)."""
    out: list[Grant] = []
    for target in targets_of(topology, None):
        for env in envs_of(topology, topology.source_of(target), target):
            role = topology.environments[env].role_arn
            if role:
                out.append(needs.simulate_own(env, role))
    return out
