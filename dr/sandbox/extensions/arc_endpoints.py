"""Where ARC requests reach the sandbox: in-process (botocore's moto stub) and on the server (its middleware).

moto routes a request only to services it implements; the two ARC services (`arc_api`) are answered here before
moto sees them, after the regional-outage check (`outage`): a cluster endpoint's call is signed for the
endpoint's Region, so while that Region is down the call fails as a dead endpoint does ("If the endpoint is
unavailable, you can try connecting to another one of your cluster endpoints", ARC Developer Guide, "Getting and
updating routing control states using the ARC API",
https://docs.aws.amazon.com/r53recovery/latest/dg/routing-control.update.api.html).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from dr.sandbox.extensions import arc_api, arc_health, outage


def install() -> None:
    outage.add_interceptor(_in_process)
    arc_health.install()


def _account(access_key: str) -> str:
    """The account behind an access key (moto tracks the keys of assumed roles); moto's default otherwise."""
    try:
        from moto.iam.models import get_account_id_from

        return str(get_account_id_from(access_key))
    except (ImportError, KeyError, AttributeError):
        from moto.core.models import DEFAULT_ACCOUNT_ID

        return str(DEFAULT_ACCOUNT_ID)


def _access_key(authorization: str) -> str:
    marker = "Credential="
    start = authorization.find(marker)
    return authorization[start + len(marker):].split("/", 1)[0] if start >= 0 else ""


def _in_process(request: Any) -> Any | None:
    """An AWSResponse for an ARC request made under `mock_aws`, else None (moto handles it)."""
    auth = request.headers.get("Authorization", "")
    auth = auth.decode("utf-8", "replace") if isinstance(auth, bytes) else str(auth)
    if arc_api.service_of(auth) is None:
        return None
    from botocore.awsrequest import AWSResponse
    from moto.core.botocore_stubber import MockRawResponse

    headers = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in request.headers.items()}
    body = request.body or b""
    body = body.encode() if isinstance(body, str) else body if isinstance(body, bytes) else body.read()
    status, out_headers, payload = arc_api.handle(request.method, request.url, headers, body,
                                                  _account(_access_key(auth)))
    return AWSResponse(request.url, status, out_headers, MockRawResponse(payload))


def is_arc(environ: dict[str, Any]) -> bool:
    return arc_api.service_of(str(environ.get("HTTP_AUTHORIZATION", ""))) is not None


def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Answer an ARC request that reached the sandbox server."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}"
    query = environ.get("QUERY_STRING", "")
    url = f"{environ.get('wsgi.url_scheme', 'http')}://{host}{environ.get('PATH_INFO', '')}" + (
        f"?{query}" if query else "")
    headers = {"Authorization": str(environ.get("HTTP_AUTHORIZATION", "")),
               "X-Amz-Target": str(environ.get("HTTP_X_AMZ_TARGET", ""))}
    auth = headers["Authorization"]
    status, out_headers, payload = arc_api.handle(environ.get("REQUEST_METHOD", "GET"), url, headers, body,
                                                  _account(_access_key(auth)))
    reason = "OK" if status == 200 else "Bad Request" if status == 400 else "Not Found"
    start_response(f"{status} {reason}", [*out_headers.items(), ("Content-Length", str(len(payload)))])
    return [payload]
