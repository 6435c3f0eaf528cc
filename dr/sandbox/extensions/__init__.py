"""The sandbox's fidelity extensions to moto, one module each; `install()` applies them all.

Each extension patches moto in-process (so it works under `mock_aws()` and in the moto server alike),
checks first that moto still has the shape it was written against, and is idempotent.
"""

from __future__ import annotations

import threading

from dr.sandbox.extensions._guard import MotoShapeError, check_moto_version
from dr.sandbox.extensions.state import STATE, LagSetting, PromotionEvent, SandboxState, ThrottleSpec

__all__ = [
    "STATE",
    "LagSetting",
    "MotoShapeError",
    "PromotionEvent",
    "SandboxState",
    "ThrottleSpec",
    "install",
]

_lock = threading.Lock()
_done: list[bool] = []


def install() -> None:
    """Verify moto's version and shape, then apply every extension (a second call does nothing)."""
    with _lock:
        if _done:
            return
        check_moto_version()
        from dr.sandbox.extensions import (
            arc_endpoints,
            aurora_global,
            aurora_membership,
            backup_recovery_points,
            cloudwatch_batch,
            iam_simulate,
            inprocess_lock,
            lambda_caller,
            lifecycle,
            outage,
            rds_auto_backup,
            rds_clone,
            rds_dr_backups,
            rds_fence,
            rds_list_pages,
            rds_option_groups,
            rds_promotion,
            rds_rename,
            rds_replica_backups,
            rds_replica_cluster,
            rds_replica_kms,
            rds_replica_source_backups,
            rds_replication_state,
            rds_static_params,
            rds_stop,
            regions,
            replica_lag,
            route53_batch_limits,
            route53_changes,
            route53_dns_answer,
            route53_health,
            route53_list_pages,
            sfn_json_path,
            sfn_redrive,
            sfn_tags,
            sfn_tasks,
            sfn_timestamps,
        )

        for extension in (
            lifecycle,
            inprocess_lock,
            regions,
            outage,
            rds_promotion,
            rds_rename,
            rds_fence,
            rds_replication_state,
            rds_clone,
            rds_auto_backup,
            rds_replica_cluster,
            rds_replica_kms,
            rds_replica_source_backups,
            rds_replica_backups,
            rds_stop,
            rds_static_params,
            rds_option_groups,
            rds_list_pages,
            rds_dr_backups,
            backup_recovery_points,
            aurora_global,
            aurora_membership,
            route53_changes,
            route53_batch_limits,
            route53_health,
            route53_dns_answer,
            route53_list_pages,
            arc_endpoints,
            replica_lag,
            cloudwatch_batch,
            iam_simulate,
            sfn_json_path,
            sfn_timestamps,
            sfn_tags,
            sfn_tasks,
            sfn_redrive,
            lambda_caller,
        ):
            extension.install()
        _done.append(True)
