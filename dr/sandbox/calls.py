"""Which AWS API call an HTTP request to the sandbox server is: service, operation, region, key.

Clients reach the server through `AWS_ENDPOINT_URL`, so the host says nothing; the SigV4 credential
scope names the service and region, and the operation comes from the protocol: `X-Amz-Target`
(json), `Action` (query, in the URL or the form body), the `/service/…/operation/…` path
(rpc-v2-cbor), or the HTTP method and path matched against botocore's model (rest-xml, rest-json).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs

_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_RPC_V2 = re.compile(r"^/service/[^/]+/operation/([^/?]+)")
_SIGNING_TO_SERVICE = {"monitoring": "cloudwatch", "elasticloadbalancing": "elbv2", "email": "ses"}
MAX_FORM_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class CallInfo:
    service: str
    operation: str
    region: str
    access_key: str
    params: dict[str, str]
    """Path parameters of a REST call (e.g. the hosted zone `Id`)."""


def identify(environ: dict[str, Any]) -> CallInfo:
    """Name the call; unknown parts are "unknown" (the request is still served)."""
    match = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    access_key, region, signing = match.groups() if match else ("", "unknown", "unknown")
    service = _SIGNING_TO_SERVICE.get(signing, signing)
    path = environ.get("PATH_INFO", "")
    params: dict[str, str] = {}
    operation = _operation(environ, path)
    if not operation:
        operation, params = rest_operation(service, environ.get("REQUEST_METHOD", "GET"), path)
    return CallInfo(service, operation or "unknown", region, access_key, params)


def _operation(environ: dict[str, Any], path: str) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return str(target.rsplit(".", 1)[-1])
    rpc = _RPC_V2.match(path)
    if rpc:
        return rpc.group(1)
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
    if action:
        return str(action[0])
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        form = parse_qs(_peek_body(environ).decode("utf-8", "replace")).get("Action")
        if form:
            return str(form[0])
    return ""


def _peek_body(environ: dict[str, Any]) -> bytes:
    """Read the request body and put it back, so the app behind still reads all of it."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0 or length > MAX_FORM_BYTES:
        return b""
    body: bytes = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def rest_operation(service: str, method: str, path: str) -> tuple[str, dict[str, str]]:
    for op_method, pattern, name in _rest_routes(service):
        if op_method == method:
            found = pattern.match(path)
            if found:
                return name, {k: v for k, v in found.groupdict().items() if v is not None}
    return "", {}


@lru_cache(maxsize=64)
def _rest_routes(service: str) -> tuple[tuple[str, re.Pattern[str], str], ...]:
    import botocore.session
    from botocore.exceptions import UnknownServiceError

    try:
        model = botocore.session.get_session().get_service_model(service)
    except UnknownServiceError:
        return ()
    if model.protocol not in ("rest-xml", "rest-json"):
        return ()
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = http.get("requestUri", "/").split("?", 1)[0]
        literal = len(re.sub(r"\{[^}]*\}", "", uri))
        routes.append((literal, http.get("method", "GET"), _uri_regex(uri), name))
    routes.sort(key=lambda r: -r[0])  # the most specific path first
    return tuple((m, p, n) for _, m, p, n in routes)


def _uri_regex(uri: str) -> re.Pattern[str]:
    def group(found: re.Match[str]) -> str:
        name = found.group(1)
        if name.endswith("+"):
            return f"(?P<{_safe(name[:-1])}>.+)"
        return f"(?P<{_safe(name)}>[^/]+)"

    body = re.sub(r"\{([^}]+)\}", group, re.escape(uri).replace(r"\{", "{").replace(r"\}", "}").replace(r"\+", "+"))
    return re.compile("^" + body.rstrip("/") + "/?$")


def _safe(name: str) -> str:
    return re.sub(r"\W", "_", name)
