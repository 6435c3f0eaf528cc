"""Dry-run walks the runbook with is_done, check and describe only: nothing mutating is ever called."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from dr.clock import FakeClock
from dr.engine.events import RunStatus
from dr.engine.journal.local import LocalBackend
from dr.engine.runbook import Parallel, Phase
from dr.engine.session import RunSession, Services
from dr.engine.step import RunContext, RunOptions, Step
from tests.fake_runbooks import Calls, FakeStep, Harness, ListRunbook

READ_PREFIXES = ("Describe", "List", "Get", "AssumeRole")


class ExplodingAct(FakeStep):
    def act(self, ctx: RunContext) -> str | None:
        raise AssertionError(f"{self.name}: act called in a dry-run")


class TestDryRun:
    def test_every_step_ends_planned_or_already_done_without_acting(self, tmp_path: Path) -> None:
        """Mutating steps whose act would explode: all planned (or already-done), status succeeded."""
        calls = Calls()
        group = Parallel("g", [ExplodingAct("b", calls), ExplodingAct("c", calls, done=True)])
        phases: list[Phase] = [ExplodingAct("a", calls), group]
        outcome = Harness(tmp_path, FakeClock()).run(ListRunbook(phases), dry_run=True)
        assert {s["name"]: s["status"] for s in outcome.report["steps"]} == {
            "a": "planned", "b": "planned", "c": "already-done"}
        assert outcome.status is RunStatus.SUCCEEDED
        assert outcome.report["mode"] == "dry-run"
        assert calls.of("act") == []
        assert calls.of("verify") == []
        assert outcome.report["steps"][0]["detail"] == "fake:Act a"

    def test_dry_run_reports_a_failing_check_as_a_refusal(self, tmp_path: Path) -> None:
        """A precondition that would fail makes the dry-run say so (refused, exit 3)."""
        from dr.engine.step import PreconditionFailed

        step = ExplodingAct("a", Calls(), check_error=PreconditionFailed("replica is not replicating"))
        outcome = Harness(tmp_path, FakeClock()).run(ListRunbook([step]), dry_run=True)
        assert outcome.status is RunStatus.REFUSED
        assert outcome.exit_code == 3
        assert "replica is not replicating" in outcome.report["steps"][0]["detail"]


class PromoteReplica(Step):
    """Reads in is_done/check, a mutation in act: like the real promote step."""

    name = "promote:orders"
    resource = "orders-db-euw1"

    def describe(self, ctx: RunContext) -> Sequence[str]:
        return ["rds:PromoteReadReplica orders-db-euw1 (eu-west-1)"]

    def _rds(self, ctx: RunContext) -> object:
        return ctx.clients.client("rds", "prod", "eu-west-1")

    def is_done(self, ctx: RunContext) -> bool:
        self._rds(ctx).describe_db_instances()  # type: ignore[attr-defined]
        return False

    def check(self, ctx: RunContext) -> None:
        self._rds(ctx).describe_db_instances()  # type: ignore[attr-defined]

    def act(self, ctx: RunContext) -> str | None:
        self._rds(ctx).promote_read_replica(DBInstanceIdentifier="orders-db-euw1")  # type: ignore[attr-defined]
        return "promoted"


@pytest.mark.usefixtures("aws")
class TestDryRunAgainstAws:
    def test_no_mutating_aws_call_is_made(self, tmp_path: Path) -> None:
        """With a client that fails every mutating call, a dry-run still completes: only reads were made."""
        from dr.aws.factory import ClientFactory
        from dr.aws.faults import Faults

        def forbid(service: str, operation: str, region: str) -> None:
            if not operation.startswith(READ_PREFIXES):
                raise AssertionError(f"mutating call {service}:{operation} in a dry-run")

        faults = Faults(on_call=forbid)
        harness = Harness(tmp_path, FakeClock())
        ctx = harness.context("dry-1", RunOptions(dry_run=True))
        ctx.clients = ClientFactory(ctx.topology, run_id="dry-1", faults=faults)
        session = RunSession(ListRunbook([PromoteReplica()]), ctx, harness.header(ctx, "dry-run"),
                             Services(clock=harness.clock, backend=LocalBackend(tmp_path), lock=None))
        outcome = session.start()
        assert outcome.report["steps"][0]["status"] == "planned"
        assert outcome.report["steps"][0]["detail"] == "rds:PromoteReadReplica orders-db-euw1 (eu-west-1)"
        operations = {op for _, op, _ in faults.calls}
        assert "DescribeDBInstances" in operations
        assert not any(not op.startswith(READ_PREFIXES) for op in operations)
