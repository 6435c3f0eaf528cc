"""drctl's cross-region caller, run by AWS Lambda (python3.12; stdlib and boto3 only: no drctl import).

One invocation makes one call: `service:action` (which must be in the function's allowlist, environment
`DRCTL_ALLOWED_CALLS`, set by `drctl deploy`) with `parameters`, in `region` (else the function's own), on the
given `endpoints` tried in turn (an ARC cluster's regional endpoints), as `role_arn` when given (assumed first:
another account). It answers the call's response as JSON. An AWS error is raised as an exception whose type name
is the one Step Functions' SDK integrations use (`Rds.ThrottlingException`: `<prefix>.<code>` with the
`Exception` suffix; Step Functions Developer Guide, "Learning to use AWS service SDK integrations"), so Lambda's
`errorType`, and with it the Task's error, is that name and the state machine's Retry/Catch stay the same.

A second kind of invocation, `{"check": "caught-up", ...}`, calls nothing: it judges lag datapoints read after a
fence (a timestamp computation the States Language cannot express): MySQL family caught up at a 0, PostgreSQL
when the replay timestamp (datapoint time - lag) stands still across two periods (runbooks/steps/catch_up.py).
`{"check": "fresh-lag", ...}` judges a replica's newest lag datapoint at the function's own time, as the local
re-protect's `replicating` step does (dr/checks/lag.py `rpo_verdict`): present, not -1, no older than
`max_age_seconds`, and within `threshold` (ASL cannot compute a datapoint's age).
"""

from __future__ import annotations

import os
from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import boto3
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

ENVIRON: MutableMapping[str, str] = os.environ
"""The function's environment (Lambda's: its variables, region and the execution role's credentials)."""
ALLOWLIST_ENV = "DRCTL_ALLOWED_CALLS"
NEXT_ENDPOINT = ("Throttling", "ThrottlingException", "TooManyRequestsException", "InternalServerException",
                 "EndpointTemporarilyUnavailableException", "ServiceUnavailable", "ServiceUnavailableException")
"""Errors after which the next endpoint is tried (besides no answer and any 5xx), as drctl's local ARC step does."""
REPLAY_TOLERANCE_SECONDS = 5.0
DEFAULT_MAX_AGE_SECONDS = 300.0
"""A newest lag datapoint older than this is stale (dr/checks/lag.py: AWS publishes every minute)."""
CONFIG = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30)
"""One attempt: the state machine's Retry is the retry policy (the step's, as on the local engine)."""


def error(name: str, message: str) -> Exception:
    """An exception whose type name is `name` (Lambda reports it as errorType)."""
    kind: type[Exception] = type(name, (Exception,), {})
    return kind(message)


def sfn_error_name(prefix: str, code: str) -> str:
    return f"{prefix}.{code}" if code.endswith("Exception") else f"{prefix}.{code}Exception"


def handler(event: dict[str, Any], context: Any = None) -> Any:
    if "check" in event:
        check = CHECKS.get(str(event["check"]))
        if check is None:
            raise error("DR.UnknownCheck", f"no check {event['check']!r} in this function ({', '.join(CHECKS)}): "
                        "redeploy with `drctl deploy --engine stepfunctions`")
        return check(event)
    service, action = str(event["service"]), str(event["action"])
    allowed = {c.strip() for c in ENVIRON.get(ALLOWLIST_ENV, "").split(",") if c.strip()}
    if f"{service}:{action}" not in allowed:
        raise error("DR.CallNotAllowed", f"{service}:{action} is not among this function's calls "
                    f"({', '.join(sorted(allowed)) or 'none'}): redeploy with `drctl deploy --engine stepfunctions`")
    region = str(event.get("region") or ENVIRON.get("AWS_REGION") or ENVIRON.get("AWS_DEFAULT_REGION"))
    session = _session(event.get("role_arn"), region)
    method = xform_name(action)
    params = event.get("parameters") or {}
    endpoints = event.get("endpoints") or [{"region": region}]
    prefix = str(event.get("error_prefix") or service.capitalize())

    def call(where: dict[str, str]) -> Any:
        url = where.get("url") or ENVIRON.get("AWS_ENDPOINT_URL") or None
        client = session.client(service, region_name=where.get("region") or region, endpoint_url=url, config=CONFIG)
        return getattr(client, method)(**params)

    response = _first_answer(call, endpoints, prefix)
    response.pop("ResponseMetadata", None)
    return _jsonable(response)


_BOTO: list[Any] = []
"""One boto3 Session per execution environment (created on first use, kept by Lambda between invocations, as AWS
advises for SDK clients): its loaded service models make later clients cheap. Credentials go to each client."""


def _boto() -> Any:
    if not _BOTO:
        _BOTO.append(boto3.session.Session())
    return _BOTO[0]


class _Session:
    """Clients with one set of credentials: the function's own, or an assumed role's."""

    def __init__(self, keys: dict[str, str | None]) -> None:
        self.keys = keys

    def client(self, service: str, **kwargs: Any) -> Any:
        return _boto().client(service, **self.keys, **kwargs)


def _session(role_arn: Any, region: str) -> _Session:
    """The function's own credentials, or those of `role_arn` assumed through STS in `region`."""
    own = _Session({"aws_access_key_id": ENVIRON.get("AWS_ACCESS_KEY_ID"),
                    "aws_secret_access_key": ENVIRON.get("AWS_SECRET_ACCESS_KEY"),
                    "aws_session_token": ENVIRON.get("AWS_SESSION_TOKEN")})
    if not role_arn:
        return own
    sts = own.client("sts", region_name=region, endpoint_url=ENVIRON.get("AWS_ENDPOINT_URL") or None, config=CONFIG)
    creds = sts.assume_role(RoleArn=str(role_arn), RoleSessionName="drctl-cross-region-caller")["Credentials"]
    return _Session({"aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"],
                     "aws_session_token": creds["SessionToken"]})


def _first_answer(call: Callable[[dict[str, str]], Any], endpoints: list[dict[str, str]], prefix: str) -> Any:
    """The first endpoint's answer; an endpoint that does not answer, throttles or fails with 5xx is left for the
    next. AWS's own answers (not found, invalid state, access denied) are raised at once under their names."""
    failed: Exception | None = None
    for where in endpoints:
        try:
            return call(where)
        except ClientError as err:
            code = str(err.response.get("Error", {}).get("Code", "Unknown"))
            status = int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400))
            failed = error(sfn_error_name(prefix, code), str(err))
            if code not in NEXT_ENDPOINT and status < 500:
                raise failed from None
        except BotoCoreError as err:  # no answer at all (connection refused, timed out)
            failed = error(f"{prefix}.SdkClientException", str(err))
    raise failed or error("DR.NoEndpoints", "no endpoint to call")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def caught_up(event: dict[str, Any]) -> dict[str, Any]:
    """`{"caught_up": bool, "broken": bool, "detail": str}` from `timestamps`/`values` (one series, the engine's
    native unit times `to_seconds`) of the periods starting at or after `since`."""
    since = _time(str(event["since"]))
    scale = float(event.get("to_seconds", 1.0))
    points = sorted((t, float(v) * scale if float(v) >= 0 else float(v))
                    for t, v in zip(map(_time, event.get("timestamps") or []), event.get("values") or [],
                                    strict=False) if t >= since)
    if any(v < 0 for _, v in points):
        return {"caught_up": False, "broken": True, "detail": "lag -1 after the fence: replication is broken"}
    postgres = str(event.get("engine", "")).startswith(("postgres", "aurora-postgresql"))
    proof = _replay_stands_still(points) if postgres else next((p for p in points if p[1] == 0), None)
    if proof is None:
        newest = f"{points[-1][1]:g} s at {points[-1][0].isoformat()}" if points else "no datapoint yet"
        return {"caught_up": False, "broken": False, "detail": f"not caught up since {since.isoformat()}: {newest}"}
    rule = "replay timestamp standing still" if postgres else "lag 0"
    return {"caught_up": True, "broken": False, "detail": f"{rule} in the period starting {proof[0].isoformat()}"}


def _now() -> datetime:
    return datetime.now(UTC)


NOW: Callable[[], datetime] = _now
"""The function's clock (Lambda's: the machine's time; a test sets its own)."""


def fresh_lag(event: dict[str, Any]) -> dict[str, Any]:
    """`{"fresh": bool, "broken": bool, "detail": str}` of the newest of `timestamps`/`values` (one series, the
    engine's native unit; `to_seconds` converts it): fresh when it exists, is not -1, is at most `max_age_seconds`
    old now (its period's start, so it errs on the old side) and at most `threshold`."""
    scale = float(event.get("to_seconds", 1.0))
    max_age = float(event.get("max_age_seconds", DEFAULT_MAX_AGE_SECONDS))
    points = sorted(zip(map(_time, event.get("timestamps") or []), map(float, event.get("values") or []),
                        strict=False))
    if not points:
        return {"fresh": False, "broken": False, "detail": "no lag datapoint yet"}
    at, value = points[-1]
    age = max(0.0, (NOW() - at).total_seconds())
    if value < 0:
        return {"fresh": False, "broken": True, "detail": f"lag -1 at {at.isoformat()}: replication broken"}
    if age > max_age:
        return {"fresh": False, "broken": False, "detail": f"newest lag datapoint is {age:.0f} s old "
                f"(> {max_age:.0f} s): metric stale"}
    limit = float(event["threshold"]) * scale
    if value * scale > limit:
        return {"fresh": False, "broken": False, "detail": f"lag {value * scale:.0f} s > RPO {limit:.0f} s"}
    return {"fresh": True, "broken": False, "detail": f"lag {value * scale:.0f} s <= RPO {limit:.0f} s"}


CHECKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {"caught-up": caught_up, "fresh-lag": fresh_lag}
"""The checks the function answers without calling AWS (`{"check": name, ...}`)."""


def _replay_stands_still(points: list[tuple[datetime, float]]) -> tuple[datetime, float] | None:
    for (t1, v1), (t2, v2) in pairwise(points):
        if t2 <= t1:
            continue
        if abs(((t2 - timedelta(seconds=v2)) - (t1 - timedelta(seconds=v1))).total_seconds()) \
                <= REPLAY_TOLERANCE_SECONDS:
            return t2, v2
    return None


def _time(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
