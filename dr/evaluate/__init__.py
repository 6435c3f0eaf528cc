"""Plan evaluation: does AWS still look like what a failover and a failback of the topology will need?

`evaluate()` runs every check in `CHECKS` for one or every DR target; `drctl plan evaluate` prints the outcomes
and the exporter runs them every `--evaluate-interval` (`drctl_plan_check_ok{check,env}`). To add a check,
write a `PlanCheck` (dr/evaluate/model.py: a `name` and `__call__(ctx) -> list[Finding]`) and append an
instance to `CHECKS`.
"""

from __future__ import annotations

from dr.evaluate.backups import DrBackupCheck, ReplicaBackupsCheck
from dr.evaluate.capacity import DnsTtlCheck, RdsQuotaCheck
from dr.evaluate.drift import DriftCheck
from dr.evaluate.engine import EngineCheck
from dr.evaluate.model import CheckOutcome, EvaluationContext, Finding, PlanCheck
from dr.evaluate.permissions import PermissionsCheck
from dr.evaluate.resources import ResourcesCheck
from dr.evaluate.runner import evaluate, render_text, targets_of

CHECKS: list[PlanCheck] = [ResourcesCheck(), PermissionsCheck(), RdsQuotaCheck(), DnsTtlCheck(), ReplicaBackupsCheck(),
                           DrBackupCheck(), DriftCheck(), EngineCheck()]
"""The checks `evaluate` runs, in this order (the plug-in point: append yours)."""

__all__ = ["CHECKS", "CheckOutcome", "EvaluationContext", "Finding", "PlanCheck", "evaluate", "render_text",
           "targets_of"]
