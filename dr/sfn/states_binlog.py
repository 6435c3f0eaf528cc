"""Before a replica cluster is created from an Aurora MySQL writer in another region, as Step Functions states:
binary logging is on in the writer's DB cluster parameter group and applied on its writer, else the execution
fails with `DR.PreconditionFailed` in the local check's words (runbooks/steps/requirements.py; AWS's Aurora User
Guide, "Replicating Amazon Aurora MySQL DB clusters across AWS Regions" and its troubleshooting page). Part of the
create chain of dr/sfn/states_protect.py: the writer's description is at `$.w.db`, the item at `$.item`.
"""

from __future__ import annotations

from dr.engine.step import Step
from dr.sfn import asl
from dr.sfn.states_rds import CLUSTER
from runbooks.steps.requirements import BINLOG_OFF, PARAMETERS_IN_SYNC, WRITER_NOT_IN_SYNC

BINLOG_PARAMETER = "binlog_format"
BINLOG_OFF_VALUES = sorted({s for value in BINLOG_OFF for s in (value, value.upper(), value.capitalize())} - {""})
"""The local check's values that mean off (runbooks/steps/requirements.py compares them lower-cased; ASL cannot)."""


def binlog_states(step: Step, region: str | None, *, then: str) -> dict[str, asl.State]:
    """Before a replica cluster is created from an Aurora MySQL writer in another region (`item.binlog`): the
    writer's DB cluster parameter group has binary logging on, as the local check reads it (`binlog_format` unset,
    empty, OFF or NONE is off; a default group that cannot be read ships it OFF), else refused. One page: filtered
    on the parameter's name (DescribeDBClusterParameters' only filter)."""
    p, group = CLUSTER.prefix, "$.w.db.DBClusterParameterGroup"
    value = f"$.bl.p[?(@.ParameterName=='{BINLOG_PARAMETER}')].ParameterValue"
    missing = [{"ErrorEquals": ["Rds.DBParameterGroupNotFoundException"], "ResultPath": "$.error",
                "Next": f"{p}bl-missing?"}]
    params = {"DBClusterParameterGroupName.$": group,
              "Filters": [{"Name": "parameter-name", "Values": [BINLOG_PARAMETER]}]}
    return {
        f"{p}binlog?": asl.choice([{"And": [{"Variable": "$.item.binlog", "IsPresent": True},
                                            {"Variable": "$.w.db.Engine", "StringEquals": "aurora-mysql"}],
                                    "Next": f"{p}bl-read"}], then),
        f"{p}bl-read": asl.task("rds", "DescribeDBClusterParameters", params, step=step, next_state=f"{p}bl-has?",
                                result_path="$.bl", selector={"p.$": "$.Parameters"}, catch=missing,
                                region=region),
        # a filter that matches nothing is tested both ways a JSONPath engine may answer it (absent, or `[]`)
        f"{p}bl-has?": asl.choice([{"Not": {"Variable": value, "IsPresent": True}, "Next": f"{p}bl-unset"}],
                                  f"{p}bl-take"),
        f"{p}bl-take": asl.pass_state({"t.$": value}, f"{p}bl-first?", "$.blv"),
        f"{p}bl-first?": asl.choice([{"Variable": "$.blv.t[0]", "IsPresent": True, "Next": f"{p}bl-value"}],
                                    f"{p}bl-unset"),
        f"{p}bl-value": asl.pass_state({"v.$": "States.ArrayGetItem($.blv.t, 0)"}, f"{p}bl-off?", "$.blv"),
        f"{p}bl-off?": asl.choice([{"Variable": "$.blv.v", "StringEquals": "", "Next": f"{p}bl-unset"},
                                   {"Or": [{"Variable": "$.blv.v", "StringEquals": v} for v in BINLOG_OFF_VALUES],
                                    "Next": f"{p}no-binlog"}], f"{p}bl-writer?"),
        **_writer_sync_states(then),
        f"{p}bl-missing?": asl.choice([{"Variable": group, "StringMatches": "default.*", "Next": f"{p}bl-unset"}],
                                      f"{p}bl-unread"),
        f"{p}bl-unset": asl.pass_state({"v": "OFF"}, f"{p}no-binlog", "$.blv"),
        f"{p}no-binlog": _refuse("{}: cannot create {}: binary logging is off on {} (binlog_format={} in DB cluster "
                                 "parameter group {}): an Aurora MySQL cross-Region replica needs it. Use a custom DB "
                                 "cluster parameter group with binlog_format=ROW (or MIXED), apply it to the cluster "
                                 "and reboot its writer", "$.item.writer.id", "$.blv.v", group),
        f"{p}bl-unread": _refuse("{}: cannot create {}: the DB cluster parameter group {} of {} was not found, so "
                                 "nobody can tell whether binary logging is on; check the parameter group the writer "
                                 "uses", group, "$.item.writer.id"),
    }


def _writer_sync_states(then: str) -> dict[str, asl.State]:
    """Binary logging set, it must be applied on the writer: the writer member's `DBClusterParameterGroupStatus` in
    the writer's description (`$.w.db`, no further call) is in-sync, else refused as the local check refuses it
    (binlog_format is static: a changed value waits for the writer's reboot). No writer, or no status: not refused."""
    p, writer = CLUSTER.prefix, "$.w.db.DBClusterMembers[?(@.IsClusterWriter==true)]"
    status = f"{writer}.DBClusterParameterGroupStatus"
    return {  # a filter's empty answer is tested both ways, as for `binlog_format` above
        f"{p}bl-writer?": asl.choice([{"Not": {"Variable": status, "IsPresent": True}, "Next": then}],
                                     f"{p}bl-writer"),
        f"{p}bl-writer": asl.pass_state({"s.$": status, "i.$": f"{writer}.DBInstanceIdentifier"},
                                        f"{p}bl-writer1?", "$.blw"),
        f"{p}bl-writer1?": asl.choice([{"Variable": "$.blw.s[0]", "IsPresent": True, "Next": f"{p}bl-status"}], then),
        f"{p}bl-status": asl.pass_state({"s.$": "States.ArrayGetItem($.blw.s, 0)",
                                         "i.$": "States.ArrayGetItem($.blw.i, 0)"}, f"{p}bl-sync?", "$.blw"),
        f"{p}bl-sync?": asl.choice([{"Not": {"Variable": "$.blw.s", "StringEquals": PARAMETERS_IN_SYNC},
                                     "Next": f"{p}not-in-sync"}], then),
        f"{p}not-in-sync": _refuse("{}: cannot create {}: " + WRITER_NOT_IN_SYNC, "$.w.db.DBClusterParameterGroup",
                                   "$.item.writer.id", "$.blw.i", "$.blw.s", "$.blw.i", "$.item.writer.region",
                                   "$.run.run_id"),
    }


def _refuse(text: str, *paths: str) -> asl.State:
    """A DR.PreconditionFailed whose cause begins with the item's database and copy id (as states_protect's)."""
    args = ", ".join(("$.item.db", "$.item.id", *paths))
    return {"Type": "Fail", "Error": asl.FAILED_PRECONDITION, "CausePath": f"States.Format('{text}', {args})"}
