"""dr/drill/runner.py: a drill to the side that already takes production's writes is refused before anything is
cloned or moved (exit 3, with the reason)."""

from __future__ import annotations

import pytest
from drill_support import aws_state, drctl, drill_resources, shared_sandbox
from test_split_brain import promote_by_hand

from dr.testing import InProcessSandbox

__all__ = ["shared_sandbox"]


@pytest.fixture(scope="module")
def qa_active(shared_sandbox: InProcessSandbox) -> InProcessSandbox:
    """orders' DR copy (in qa's region) promoted and tagged generation 1: qa holds production's writes (one
    sandbox for the module: every test here only reads it, as a refused drill must)."""
    promote_by_hand(shared_sandbox)
    return shared_sandbox


class TestActiveSideRefused:
    @pytest.mark.parametrize("mode", ["clone", "full", "dry-run"])
    def test_drill_to_the_active_side_exits_3_with_the_reason_and_creates_nothing(
            self, qa_active: InProcessSandbox, mode: str) -> None:
        """With qa active, `drctl drill --to qa` clones no production writer and moves nothing, in every mode."""
        box = qa_active
        before = aws_state(box.topology, box.clients)
        result = drctl("drill", "--to", "qa", "--mode", mode, "--yes", "-c", str(box.config_path), "-o", "json")
        assert result.exit_code == 3, result.output
        assert "qa is already the active side" in result.stderr
        assert "orders (writer orders-db-euw1 in eu-west-1)" in result.stderr
        assert "drctl failback --to prod" in result.stderr
        after = aws_state(box.topology, box.clients)
        assert after == before
        assert not drill_resources(after)
