"""`rds-quota` and `dns-ttl`: room for what a re-protect creates, and DNS answers the RTO can afford.

A re-protect (`drctl failback`, and after it the way back) creates one copy per database at the other side's
declared location: an instance per `rds-instance`, a cluster plus one instance per `aurora-cluster` (an Aurora
global secondary rejoins by itself). The old copy is fenced and kept, so the new one needs room on top of what
DescribeAccountAttributes reports as `Used` in that account and region.
"""

from __future__ import annotations

from collections import Counter

from dr.config.model import Engine, Topology
from dr.evaluate.model import EvaluationContext, Finding

QUOTAS = ("DBInstances", "DBClusters")


def needed_copies(ctx: EvaluationContext) -> dict[tuple[str, str], Counter[str]]:
    return copies_needed(ctx.topology)


def copies_needed(topology: Topology) -> dict[tuple[str, str], Counter[str]]:
    """Per (env owning the account, region): instances and clusters a re-protect toward either side creates."""
    need: dict[tuple[str, str], Counter[str]] = {}
    for db in topology.databases:
        if db.engine is Engine.AURORA_GLOBAL:
            continue
        for loc in (db.primary, db.replica):
            counter = need.setdefault((loc.env, topology.region_of(loc)), Counter())
            counter["DBInstances"] += 1
            if db.engine is Engine.AURORA_CLUSTER:
                counter["DBClusters"] += 1
    return need


class RdsQuotaCheck:
    name = "rds-quota"

    def __call__(self, ctx: EvaluationContext) -> list[Finding]:
        out: list[Finding] = []
        for (env, region), need in sorted(needed_copies(ctx).items()):
            client = ctx.clients.client("rds", env, region)
            quotas = {q["AccountQuotaName"]: q for q in client.describe_account_attributes()["AccountQuotas"]}
            for name in QUOTAS:
                if not need[name]:
                    continue
                out.append(_room(f"{name} in {env}/{region}", quotas.get(name), need[name]))
        return out


def _room(resource: str, quota: dict[str, int] | None, need: int) -> Finding:
    if quota is None:
        return Finding(resource, False, "DescribeAccountAttributes does not report this quota")
    used, maximum = int(quota["Used"]), int(quota["Max"])
    if used + need > maximum:
        return Finding(resource, False, f"{used} used of {maximum}: a re-protect creates {need} more; request a "
                                        "quota increase (Service Quotas, Amazon RDS) before you need it",
                       float(maximum - used))
    return Finding(resource, True, f"{used} used of {maximum}, room for the {need} a re-protect creates",
                   float(maximum - used))


class DnsTtlCheck:
    """The TTL `dr.yaml` declares (drctl writes it at a switch) and the TTL of every record set Route 53 holds for
    the name now (what resolvers cache today): the larger of them must be at most `objectives.max_dns_ttl`."""

    name = "dns-ttl"

    def __call__(self, ctx: EvaluationContext) -> list[Finding]:
        from dr.aws.route53 import ZoneListing

        limit = ctx.topology.objectives.max_dns_ttl
        listing = ZoneListing()
        out = []
        for record in ctx.topology.dns:
            resource = f"{record.fqdn} {record.type}"
            sets = listing.record_sets(ctx.clients.route53(record.env), record.zone_id, record.fqdn, record.type)
            live = [int(s["TTL"]) for s in sets if "TTL" in s]  # alias records have none: their target's applies
            ttl = max([record.ttl, *live])
            where = f"Route 53 has {max(live)}s" if live and max(live) > record.ttl else f"TTL {record.ttl}s"
            if ttl > limit:
                out.append(Finding(resource, False, f"{where}, above objectives.max_dns_ttl ({limit:g}s): "
                                                    "resolvers keep the old answer that long after a switch, and "
                                                    "the RTO has to include it; lower the TTL", float(ttl)))
            else:
                out.append(Finding(resource, True, f"TTL {ttl}s within {limit:g}s", float(ttl)))
        return out
