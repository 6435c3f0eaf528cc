"""Where run metrics are pushed: the Pushgateway URL, its basic-auth credentials, and the URL as it may be shown.

Credentials come from `$DRCTL_PUSHGATEWAY_USERNAME` / `$DRCTL_PUSHGATEWAY_PASSWORD`, else from the URL's
`user:password@`; they are sent with HTTP basic auth (prometheus-client's `basic_auth_handler`) and never
printed: every message shows `redacted`, whose password is `***`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit, urlunsplit

from dr.metrics.names import PUSHGATEWAY_PASSWORD_ENV_VAR, PUSHGATEWAY_USERNAME_ENV_VAR

REDACTED = "***"
_EXAMPLE = "http://pushgateway.monitoring:9091"


@dataclass(frozen=True)
class PushTarget:
    """A checked Pushgateway: `url` without credentials, and the basic-auth pair if any."""

    url: str
    redacted: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, raw: str, environ: Mapping[str, str] | None = None) -> PushTarget:
        """ValueError (its message shows the URL redacted, never a password) unless `raw` is an http(s) URL
        with a host and a valid port."""
        env = os.environ if environ is None else environ
        shown = redact(raw)
        fix = f"use an http(s) URL such as {_EXAMPLE}"
        try:
            parts = urlsplit(raw.strip())
            port = parts.port  # raises ValueError for a port out of range or not a number
        except ValueError:
            raise ValueError(f"{shown!r} is not a URL: {fix}") from None
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"{shown!r} is not an http(s) URL: {fix}")
        if not parts.hostname:
            raise ValueError(f"{shown!r} names no host: {fix}")
        if parts.query or parts.fragment:
            raise ValueError(f"{shown!r} has a query or fragment, which a Pushgateway URL does not take: {fix}")
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        netloc = f"{host}:{port}" if port is not None else host
        url = urlunsplit((parts.scheme, netloc, parts.path, "", ""))
        username = env.get(PUSHGATEWAY_USERNAME_ENV_VAR) or (unquote(parts.username) if parts.username else None)
        password = env.get(PUSHGATEWAY_PASSWORD_ENV_VAR) or (unquote(parts.password) if parts.password else None)
        if password and not username:
            raise ValueError(f"a Pushgateway password without a user name: set ${PUSHGATEWAY_USERNAME_ENV_VAR} "
                             "or write the URL as http://USER:PASSWORD@host:port")
        return cls(url=url, redacted=shown, username=username, password=password)

    def handler(self) -> Callable[..., Callable[[], None]]:
        """The prometheus-client push handler: basic auth when there are credentials, else the default."""
        from prometheus_client.exposition import basic_auth_handler, default_handler

        if self.username is None:
            return default_handler
        username, password = self.username, self.password or ""

        def auth(url: str, method: str, timeout: float | None, headers: list[tuple[str, str]], data: bytes,
                 ) -> Callable[[], None]:
            return basic_auth_handler(url, method, timeout, headers, data, username, password)

        return auth


def redact(url: str) -> str:
    """`url` with the password of its user-info replaced by ***; anything unparsable comes back cut at the '@'."""
    head, at, tail = url.rpartition("@")
    if not at:
        return url
    scheme, sep, userinfo = head.partition("://")
    if not sep:
        scheme, userinfo = "", head
    user, colon, _ = userinfo.partition(":")
    prefix = f"{scheme}://" if sep else ""
    return f"{prefix}{user}{':' + REDACTED if colon else ''}@{tail}"

