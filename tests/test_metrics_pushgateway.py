"""Pushgateway basic auth: credentials from the environment or the URL are sent, and never printed."""

from __future__ import annotations

import base64
import http.server
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_support import http_get, pushgateway
from test_metrics_run import FINISHED, report, value

from dr.metrics import names
from dr.metrics.pushgateway import PushTarget, redact
from dr.metrics.run_metrics import export_run

PASSWORD = "pw-9f2c!"
PASSWORD_BCRYPT = "$2b$04$ZNUjH/2evlb6H9wD4J/ihudFsDcNNC6tVNCrMJqHIL66slF5HFoPy"
"""bcrypt of PASSWORD (cost 4: fast), for the Pushgateway's web config."""


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class _AuthRecorder(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[str, str | None]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.seen.append((self.path, self.headers.get("Authorization")))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[tuple[str, str | None]]]]:
    """An HTTP server that records each push's path and Authorization header."""
    _AuthRecorder.seen = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _AuthRecorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}", _AuthRecorder.seen
    server.shutdown()
    server.server_close()


class TestPushTarget:
    def test_credentials_in_the_url_are_split_off(self) -> None:
        """user:password@ leaves the URL; the pair is kept for basic auth; the shown URL has ***."""
        target = PushTarget.parse("https://ops:s%40cret@pg.example:9091/base", environ={})
        assert target.url == "https://pg.example:9091/base"
        assert (target.username, target.password) == ("ops", "s@cret")
        assert target.redacted == "https://ops:***@pg.example:9091/base"
        assert "s@cret" not in repr(target)

    def test_environment_credentials_win_over_the_url(self) -> None:
        """$DRCTL_PUSHGATEWAY_USERNAME / _PASSWORD are used even when the URL names others."""
        env = {names.PUSHGATEWAY_USERNAME_ENV_VAR: "svc", names.PUSHGATEWAY_PASSWORD_ENV_VAR: "envpw"}
        target = PushTarget.parse("http://u:p@pg:9091", environ=env)
        assert (target.username, target.password) == ("svc", "envpw")

    def test_no_credentials_uses_the_default_handler(self) -> None:
        """Without credentials nothing is added to the request."""
        from prometheus_client.exposition import default_handler

        assert PushTarget.parse("http://pg:9091", environ={}).handler() is default_handler

    def test_password_without_user_is_refused(self) -> None:
        """A password alone (environment) cannot be sent: refused naming the username variable."""
        with pytest.raises(ValueError, match=names.PUSHGATEWAY_USERNAME_ENV_VAR):
            PushTarget.parse("http://pg:9091", environ={names.PUSHGATEWAY_PASSWORD_ENV_VAR: "x"})

    @pytest.mark.parametrize("url", [
        "not-a-url", "ftp://pg:21", "file:///etc/passwd", "http://", "http://:9091", "http://pg:99999",
        "http://pg:port", "javascript:alert(1)", "http://pg:9091/?q=1", "//pg:9091", "", "   ",
    ])
    def test_malformed_urls_are_refused(self, url: str) -> None:
        """Anything but an http(s) URL with a host and a valid port is a ValueError naming the URL."""
        with pytest.raises(ValueError, match="http"):
            PushTarget.parse(url, environ={})

    def test_refusal_never_shows_the_password(self) -> None:
        """A malformed URL with credentials is named with the password redacted."""
        with pytest.raises(ValueError, match="not an http") as err:
            PushTarget.parse("ftp://ops:TOPSECRET@pg:21", environ={})
        assert "TOPSECRET" not in str(err.value)
        assert "ops:***@pg:21" in str(err.value)

    @pytest.mark.parametrize(("url", "shown"), [
        ("http://u:p@h:1", "http://u:***@h:1"),
        ("http://u@h:1", "http://u@h:1"),
        ("http://u:p@ss@h:1", "http://u:***@h:1"),
        ("u:p@h", "u:***@h"),
        ("http://h:1", "http://h:1"),
    ])
    def test_redact(self, url: str, shown: str) -> None:
        """The password part of the user-info is replaced by ***, whatever else the URL holds."""
        assert redact(url) == shown


class TestBasicAuthSent:
    def test_url_credentials_are_sent_as_basic_auth(self, recorder: tuple[str, list[tuple[str, str | None]]]) -> None:
        """user:password@ in --pushgateway: the push carries that Authorization header."""
        where, seen = recorder
        export_run(report(), pushgateway=f"http://ops:{PASSWORD}@{where}", metrics_file=None)
        assert seen == [("/metrics/job/drctl/runbook/failover/target/qa", basic("ops", PASSWORD))]

    def test_environment_credentials_are_sent(self, recorder: tuple[str, list[tuple[str, str | None]]],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
        """$DRCTL_PUSHGATEWAY_USERNAME / _PASSWORD: the push carries them."""
        where, seen = recorder
        monkeypatch.setenv(names.PUSHGATEWAY_USERNAME_ENV_VAR, "svc")
        monkeypatch.setenv(names.PUSHGATEWAY_PASSWORD_ENV_VAR, PASSWORD)
        export_run(report(), pushgateway=f"http://{where}", metrics_file=None)
        assert seen[0][1] == basic("svc", PASSWORD)

    def test_failed_push_warning_redacts_the_password(self, caplog: pytest.LogCaptureFixture) -> None:
        """A push that fails logs the URL with *** in place of the password."""
        with caplog.at_level(logging.WARNING):
            export_run(report(), pushgateway="http://ops:TOPSECRET@127.0.0.1:1", metrics_file=None)
        assert "not exported to Pushgateway http://ops:***@127.0.0.1:1" in caplog.text
        assert "TOPSECRET" not in caplog.text


@pytest.mark.promtool
class TestRealPushgatewayWithAuth:
    def test_push_with_credentials_is_accepted_and_without_refused(
            self, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
        """A Pushgateway requiring basic auth stores the push made with credentials; one without gets 401,
        logged as a warning that never shows the password."""
        with pushgateway(tmp_path, basic_auth=("ops", PASSWORD_BCRYPT)) as url:
            host = url.removeprefix("http://")
            with caplog.at_level(logging.WARNING):
                export_run(report(runbook="drill", mode="drill"), pushgateway=url, metrics_file=None)
            assert "401" in caplog.text
            monkeypatch.setenv(names.PUSHGATEWAY_USERNAME_ENV_VAR, "ops")
            monkeypatch.setenv(names.PUSHGATEWAY_PASSWORD_ENV_VAR, PASSWORD)
            caplog.clear()
            with caplog.at_level(logging.WARNING):
                export_run(report(runbook="drill", mode="drill"), pushgateway=f"http://{host}", metrics_file=None)
            assert caplog.text == ""
            status, body = http_get(f"{url}/metrics", headers={"Authorization": basic("ops", PASSWORD)})
        assert status == 200
        group = {"job": "drctl", "runbook": "drill", "target": "qa", "instance": ""}
        assert value(body.decode(), "drctl_drill_last_success_timestamp_seconds", **group) == FINISHED
