"""The DNS part of the state machine: per hosted zone, its change batches one after the other (Route53 refuses
concurrent changes to one zone), each followed by a GetChange loop until INSYNC.

The batches are the local step's (dr/aws/route53_batches.py: per-request limits of Route53). A redriven
execution sends a zone's UPSERTs again: an UPSERT of the value a record already holds changes nothing, so the
records end as the first execution left them (the local step sends only what differs; Step Functions cannot
compare a zone's listing with the wanted values without a Lambda).
"""

from __future__ import annotations

from typing import Any

from dr.engine.step import Step
from dr.sfn import asl

ZONE_SELECTOR = {"batch.$": "$$.Map.Item.Value", "zone.$": "$.item.zone", "role.$": "$.item.role",
                 "run.$": "$.run", "polls": {"n": 0}}


def zone_states(step: Step, comment: str, cross_account: bool, poll: float) -> dict[str, asl.State]:
    """The states of one zone's iteration: an inner Map (one batch at a time) of change + GetChange loop."""
    credentials = "$.role" if cross_account else None
    change = {"HostedZoneId.$": "$.zone",
              "ChangeBatch": {"Comment.$": f"States.Format('{comment}', $.run.run_id)", "Changes.$": "$.batch"}}
    batch: dict[str, asl.State] = {
        "change": _task(step, "ChangeResourceRecordSets", change, "insync?-read", credentials,
                        selector={"id.$": "$.ChangeInfo.Id"}, result_path="$.change"),
        "insync?-read": _task(step, "GetChange", {"Id.$": "$.change.id"}, "insync?", credentials,
                              selector={"status.$": "$.ChangeInfo.Status"}, result_path="$.status"),
        "insync?": asl.choice([{"Variable": "$.status.status", "StringEquals": "INSYNC", "Next": "insync"}],
                              "wait"),
        **asl.counter_states("", step, "insync?-read", "late", poll),
        "insync": asl.succeed(),
        "late": {"Type": "Fail", "Error": asl.STEP_FAILED, "CausePath": (
            f"States.Format('dns:{{}}: change {{}} not INSYNC within {step.budget:g}s', $.zone, $.change.id)")},
    }
    states, first = asl.scoped("batch/", batch, "change")
    inner: asl.State = {"Type": "Map", "ItemsPath": "$.item.batches", "ItemSelector": dict(ZONE_SELECTOR),
                        "MaxConcurrency": 1, "ResultPath": None, "End": True,
                        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": first,
                                          "States": states}}
    return {"batches": inner}


def _task(step: Step, action: str, params: dict[str, Any], next_state: str, credentials: str | None, *,
          selector: dict[str, Any], result_path: str) -> asl.State:
    state = asl.task("route53", action, params, step=step, next_state=next_state, result_path=result_path,
                     selector=selector)
    if credentials:
        state["Credentials"] = {"RoleArn.$": credentials}
    return state
