"""The runbooks on a topology unlike the example: other regions and accounts, a zone owned by the DR account,
A records, no readiness section, an RPO of 2 minutes, and a database outside the DR pair."""

from __future__ import annotations

from pathlib import Path

from tests.failover_support import answer_of, harness, step

OTHER = """
version: 1
objectives: {rto: 10m, rpo: 2m}
environments:
  live: {account_id: "444444444444", region: us-east-2}
  standby: {account_id: "555555555555", region: us-west-2, dr_for: live}
  lab: {account_id: "666666666666", region: eu-north-1}
databases:
  - {name: ledger, engine: rds-instance, primary: {env: live, id: ledger-main},
     replica: {env: live, region: us-west-2, id: ledger-dr}}
  - {name: events, engine: aurora-global, global_cluster_id: events-global, primary: {env: live, id: events-use2},
     replica: {env: live, region: us-west-2, id: events-usw2}}
  - {name: scratch, engine: rds-instance, primary: {env: lab, id: scratch-db},
     replica: {env: lab, region: eu-west-3, id: scratch-db-euw3}}
dns:
  - {zone_id: ZSTANDBY, env: standby, name: app.corp.example., type: A, ttl: 30, strategy: upsert,
     targets: {live: 192.0.2.10, standby: 198.51.100.10}}
  - {zone_id: ZSTANDBY, env: standby, name: portal.corp.example., type: CNAME, strategy: failover-routing,
     targets: {live: portal.use2.corp.example, standby: portal.usw2.corp.example},
     health_checks: {live: hc-portal-live, standby: hc-portal-standby}}
"""


class TestOtherTopology:
    def test_failover_then_failback_round_trip(self, tmp_path: Path) -> None:
        """standby takes over (A record, failover record, RDS, Aurora global), then live is back and protected."""
        config = tmp_path / "other.yaml"
        config.write_text(OTHER)
        with harness(tmp_path, config) as h:
            out = h.run("failover", "standby")
            assert out.exit_code == 0, out.report
            assert not any("scratch" in s["name"] for s in out.report["steps"]), "lab's database is not in the pair"
            lab = h.rds("eu-west-3", "lab").describe_db_instances(DBInstanceIdentifier="scratch-db-euw3")
            assert lab["DBInstances"][0]["ReadReplicaSourceDBInstanceIdentifier"]
            route53 = h.sbx.clients.route53("standby")
            assert [answer_of(route53, r) for r in h.topology.dns] == ["198.51.100.10", "portal.usw2.corp.example"]
            for name in ("ledger", "events"):
                h.set_lag(name, 5.0, at_primary=True)
                h.set_lag(name, 5.0)
            back = h.run("failback", "live")
            assert back.exit_code == 0, back.report
            assert [answer_of(route53, r) for r in h.topology.dns] == ["192.0.2.10", "portal.use2.corp.example"]
            assert "switchover" in step(back.report, "promote:events")["detail"]
            west = h.rds("us-west-2", "live")
            dr_copy = west.describe_db_instances(DBInstanceIdentifier="ledger-dr")["DBInstances"][0]
            assert "ledger-main" in dr_copy["ReadReplicaSourceDBInstanceIdentifier"]
