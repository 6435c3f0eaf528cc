"""A deployed drctl state machine generated from another topology is reported: plan evaluation's `engine` check and
readiness's `state-machine` lines; a machine not deployed is not applicable."""

from __future__ import annotations

from dr.checks.model import CheckKind
from dr.checks.readiness import readiness
from dr.clock import SYSTEM_CLOCK
from dr.config.model import Topology
from dr.evaluate import EngineCheck, EvaluationContext, evaluate
from dr.iam.generate import Scope, runbook_grants
from dr.sfn import naming
from dr.sfn.deploy import deploy
from dr.sfn.run import definition_for
from dr.testing.sandbox import InProcessSandbox
from tests.test_sfn_engine import sandbox_topology

__all__ = ["sandbox_topology"]  # seeded without the ARC record, which the Step Functions engine refuses

MACHINE = naming.machine_name("failover", "prod", "qa")


def _context(sandbox: InProcessSandbox) -> EvaluationContext:
    return EvaluationContext(sandbox.topology, sandbox.clients, SYSTEM_CLOCK, "prod", "qa")


def _deploy_from(sandbox: InProcessSandbox, topology: Topology) -> None:
    deploy(sandbox.clients, definition_for(topology, "failover", "prod", "qa", sandbox.clients), "a1b2c3d4e5f60718")


def _machine_lines(sandbox: InProcessSandbox) -> list[tuple[str, bool, str]]:
    results = readiness(sandbox.topology, sandbox.clients, SYSTEM_CLOCK, "qa")
    return [(r.resource, r.ok, r.reason) for r in results if r.check is CheckKind.STATE_MACHINE]


class TestEngineCheck:
    def test_a_fresh_deploy_passes(self, sandbox: InProcessSandbox) -> None:
        """Deployed from the current topology: one passing finding naming the machine; readiness of qa has a
        passing state-machine line."""
        _deploy_from(sandbox, sandbox.topology)
        findings = EngineCheck()(_context(sandbox))
        assert [(f.resource.split(" ")[0], f.ok) for f in findings] == [(MACHINE, True)]
        lines = _machine_lines(sandbox)
        assert [(resource.split(" ")[0], ok) for resource, ok, _ in lines] == [(MACHINE, True)]

    def test_a_machine_from_another_topology_fails_naming_it(self, sandbox: InProcessSandbox) -> None:
        """Deployed from a topology with another RPO: the check fails naming the machine, its tags and
        `drctl deploy --engine stepfunctions`; so does readiness's line and plan evaluation's outcome."""
        changed = sandbox.topology.model_copy(update={"objectives": sandbox.topology.objectives.model_copy(
            update={"rpo": sandbox.topology.objectives.rpo * 2})})
        _deploy_from(sandbox, changed)
        [finding] = EngineCheck()(_context(sandbox))
        assert not finding.ok
        assert f"deployed state machine {MACHINE} was generated from another topology" in finding.reason
        assert "topology sha256 a1b2c3d4e5f60718" in finding.reason
        assert "run `drctl deploy --engine stepfunctions`" in finding.reason
        [(_, ok, reason)] = _machine_lines(sandbox)
        assert not ok
        assert MACHINE in reason
        [outcome] = evaluate(sandbox.topology, sandbox.clients, SYSTEM_CLOCK, "qa", [EngineCheck()])
        assert (outcome.check, outcome.ok) == ("engine", False)

    def test_no_machine_deployed_is_not_applicable(self, sandbox: InProcessSandbox) -> None:
        """Nothing deployed: no finding (the outcome passes, "nothing to check") and no readiness line."""
        [outcome] = evaluate(sandbox.topology, sandbox.clients, SYSTEM_CLOCK, "qa", [EngineCheck()])
        assert (outcome.ok, outcome.findings, outcome.reason) == (True, (), "nothing to check")
        assert _machine_lines(sandbox) == []


    def test_a_machine_deployed_later_is_seen_by_the_same_reader(self, sandbox: InProcessSandbox) -> None:
        """The exporter keeps its clients: a machine deployed after an evaluation is found by the next one."""
        ctx = _context(sandbox)
        assert EngineCheck()(ctx) == []
        _deploy_from(sandbox, sandbox.topology)
        assert [f.ok for f in EngineCheck()(ctx)] == [True]


class TestGrants:
    def test_the_exporter_may_read_the_tags_of_exactly_the_pair_machines(self, sandbox: InProcessSandbox) -> None:
        """The exporter scope grants states:ListTagsForResource on each machine of the pair (failover and
        failback), in the account and region each lives in."""
        grants = [g for g in runbook_grants(sandbox.topology, Scope.EXPORTER)
                  if "states:ListTagsForResource" in g.actions]
        resources = {r for g in grants for r in g.resources}
        failover = definition_for(sandbox.topology, "failover", "prod", "qa", sandbox.clients)
        assert naming.machine_arn(failover) in resources
        assert any(r.endswith(":stateMachine:" + naming.machine_name("failback", "qa", "prod")) for r in resources)
        assert all(r.startswith("arn:aws:states:") for r in resources)
