"""Route53 changes propagate: `ChangeResourceRecordSets` answers PENDING with its own change id, and
`GetChange` reports PENDING until `STATE.change_pending_seconds` have passed, then INSYNC.

moto answers every change with one constant id, already INSYNC. Ids the sandbox did not issue (e.g.
from `CreateHostedZone`) keep moto's INSYNC answer.
"""

from __future__ import annotations

import secrets
import string
from datetime import UTC, datetime, timedelta
from typing import Any

from dr.sandbox.extensions import _guard
from dr.sandbox.extensions.state import STATE

PENDING = "PENDING"
INSYNC = "INSYNC"
_ALPHABET = string.ascii_uppercase + string.digits


def install() -> None:
    from moto.core.responses import ActionResult
    from moto.route53.responses import Route53

    _guard.require_attrs(ActionResult, ["result"], "moto ActionResult")
    _guard.replace(Route53, "change_resource_record_sets", _change_resource_record_sets, [])
    _guard.replace(Route53, "get_change", _get_change, [])


def new_change_id() -> str:
    return "C" + "".join(secrets.choice(_ALPHABET) for _ in range(13))


def change_status(change_id: str, now: datetime | None = None) -> str | None:
    """PENDING or INSYNC for a change the sandbox issued, None for any other id."""
    with STATE.lock:
        submitted = STATE.changes.get(change_id.rsplit("/", 1)[-1])
        pending_for = STATE.change_pending_seconds
    if submitted is None:
        return None
    now = now or STATE.now()
    return PENDING if now < submitted + timedelta(seconds=pending_for) else INSYNC


def _naive(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(tzinfo=None)


def _change_resource_record_sets(self: Any) -> Any:
    from moto.core.responses import ActionResult

    result = _guard.original(type(self), "change_resource_record_sets")(self)
    change_id = new_change_id()
    submitted = STATE.now()
    with STATE.lock:
        STATE.changes[change_id] = submitted
    info = dict(result.result["ChangeInfo"])
    info.update(Id=f"/change/{change_id}", Status=PENDING, SubmittedAt=_naive(submitted))
    return ActionResult({**result.result, "ChangeInfo": info})


def _get_change(self: Any) -> Any:
    from moto.core.responses import ActionResult

    change_id = self._get_param("Id")
    status = change_status(change_id)
    if status is None:
        return _guard.original(type(self), "get_change")(self)
    short = change_id.rsplit("/", 1)[-1]
    with STATE.lock:
        submitted = STATE.changes[short]
    return ActionResult({"ChangeInfo": {"Id": f"/change/{short}", "Status": status, "SubmittedAt": _naive(submitted)}})
