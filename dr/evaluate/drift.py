"""Plan check `drift`: the topology still describes AWS — what `drctl config diff` reports (a database with a
cross-Region replica the topology lacks, a copy that no longer exists, a record pointing elsewhere or missing),
read by the same read-only discovery (dr.discover)."""

from __future__ import annotations

from dr.evaluate.model import EvaluationContext, Finding


class DriftCheck:
    """One failing finding per difference; one passing finding when the topology matches what AWS holds."""

    name = "drift"

    def __call__(self, ctx: EvaluationContext) -> list[Finding]:
        from dr.discover.drift import detect_drift

        drifts, _ = detect_drift(ctx.topology, ctx.clients)
        if not drifts:
            return [Finding("topology", True, "the topology matches what AWS holds (`drctl config diff`)")]
        return [Finding(d.path, False, f"{d.message}: {d.hint}") for d in drifts]
