"""The sandbox server's middleware and its parts, without a server: call naming, token bucket, zone busy rule."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from dr.sandbox.calls import identify
from dr.sandbox.control import LocalControl
from dr.sandbox.extensions.state import STATE
from dr.sandbox.middleware import SandboxMiddleware
from dr.sandbox.throttle import BucketsByKey, TokenBucket


def _auth(service: str, region: str = "us-east-1", key: str = "AKIDEXAMPLE") -> str:
    return (
        f"AWS4-HMAC-SHA256 Credential={key}/20260101/{region}/{service}/aws4_request, SignedHeaders=host, Signature=x"
    )


def _environ(method: str, path: str, service: str, body: bytes = b"", **extra: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "HTTP_AUTHORIZATION": _auth(service),
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        **extra,
    }


class _FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class TestCallNaming:
    def test_a_query_call_is_named_from_its_form_body_which_stays_readable(self) -> None:
        """RDS (query protocol): Action comes from the body, and the app behind still reads the whole body."""
        body = b"Action=DescribeDBInstances&Version=2014-10-31"
        environ = _environ("POST", "/", "rds", body, CONTENT_TYPE="application/x-www-form-urlencoded; charset=utf-8")
        call = identify(environ)
        assert (call.service, call.operation, call.region) == ("rds", "DescribeDBInstances", "us-east-1")
        assert environ["wsgi.input"].read() == body

    def test_a_json_call_is_named_from_its_target_header(self) -> None:
        """DynamoDB (json protocol): the operation is the X-Amz-Target suffix."""
        call = identify(_environ("POST", "/", "dynamodb", HTTP_X_AMZ_TARGET="DynamoDB_20120810.PutItem"))
        assert (call.service, call.operation) == ("dynamodb", "PutItem")

    def test_a_cbor_call_is_named_from_its_path_and_signing_name_mapped(self) -> None:
        """CloudWatch (rpc-v2-cbor, signed as `monitoring`): named cloudwatch/GetMetricData."""
        call = identify(
            _environ("POST", "/service/GraniteServiceVersion20100801/operation/GetMetricData", "monitoring")
        )
        assert (call.service, call.operation) == ("cloudwatch", "GetMetricData")

    @pytest.mark.parametrize(
        ("method", "path", "operation", "params"),
        [
            ("POST", "/2013-04-01/hostedzone/Z1/rrset/", "ChangeResourceRecordSets", {"Id": "Z1"}),
            ("GET", "/2013-04-01/change/C1", "GetChange", {"Id": "C1"}),
            ("GET", "/2013-04-01/healthcheck/h1/status", "GetHealthCheckStatus", {"HealthCheckId": "h1"}),
            ("GET", "/2013-04-01/testdnsanswer", "TestDNSAnswer", {}),
        ],
    )
    def test_a_rest_call_is_named_from_method_and_path(
        self, method: str, path: str, operation: str, params: dict[str, str]
    ) -> None:
        """Route53 (rest-xml): botocore's model maps method and path to the operation and its path parameters."""
        call = identify(_environ(method, path, "route53"))
        assert (call.operation, call.params) == (operation, params)


class TestTokenBucket:
    def test_the_bucket_allows_the_burst_then_refuses(self) -> None:
        """A full bucket of 3 allows 3 calls at once and refuses the 4th."""
        bucket = TokenBucket(rate=10, burst=3, monotonic=_FakeTime())
        assert [bucket.take() for _ in range(4)] == [True, True, True, False]

    def test_the_bucket_refills_at_its_rate(self) -> None:
        """After 0.1 s at 10/s one more call is allowed, not two."""
        time = _FakeTime()
        bucket = TokenBucket(rate=10, burst=1, monotonic=time)
        assert bucket.take()
        time.now += 0.1
        assert [bucket.take(), bucket.take()] == [True, False]

    def test_each_account_has_its_own_bucket(self) -> None:
        """An empty bucket for one account does not throttle another."""
        buckets = BucketsByKey(rate=1, burst=1, monotonic=_FakeTime())
        assert [buckets.take("111111111111"), buckets.take("111111111111"), buckets.take("222222222222")] == [
            True,
            False,
            True,
        ]

    def test_a_bucket_without_capacity_is_refused(self) -> None:
        """rate 0 or burst 0 is a configuration error, not a bucket that refuses everything."""
        with pytest.raises(ValueError, match="rate > 0"):
            TokenBucket(rate=0, burst=1)


def _change_environ(zone: str) -> dict[str, Any]:
    return _environ("POST", f"/2013-04-01/hostedzone/{zone}/rrset/", "route53")


class _ReentrantApp:
    """An inner app that, while 'processing' a change, lets another request through the middleware."""

    def __init__(self) -> None:
        self.middleware: SandboxMiddleware | None = None
        self.nested: list[str] = []
        self.pending: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        while self.pending:
            self.nested.append(_call(self, self.pending.pop(0)))
        start_response("200 OK", [])
        return [b"ok"]


@pytest.fixture
def app() -> Iterator[_ReentrantApp]:
    LocalControl().reset()
    inner = _ReentrantApp()
    inner.middleware = SandboxMiddleware(inner, monotonic=_FakeTime())
    yield inner
    LocalControl().reset()


def _call(app: _ReentrantApp, environ: dict[str, Any]) -> str:
    assert app.middleware is not None
    statuses: list[str] = []
    body = b"".join(app.middleware(environ, lambda status, headers: statuses.append(status)))
    return f"{statuses[0]} {body.decode()}"


class TestZoneBusyRule:
    def test_a_change_to_a_zone_being_changed_is_prior_request_not_complete(self, app: _ReentrantApp) -> None:
        """While a change to Z1 is processed, a second change to Z1 gets 400 PriorRequestNotComplete."""
        LocalControl().set_route53_throttle(100, 100)
        app.pending.append(_change_environ("Z1"))
        assert _call(app, _change_environ("Z1")) == "200 OK ok"
        [nested] = app.nested
        assert nested.startswith("400 Bad Request")
        assert "<Code>PriorRequestNotComplete</Code>" in nested
        assert STATE.stats.rejected == {"PriorRequestNotComplete": {"ChangeResourceRecordSets": 1}}
        assert STATE.stats.route53_changes_by_zone == {"Z1": 1}

    def test_a_change_to_another_zone_proceeds(self, app: _ReentrantApp) -> None:
        """Changes to different zones do not block each other."""
        LocalControl().set_route53_throttle(100, 100)
        app.pending.append(_change_environ("Z2"))
        _call(app, _change_environ("Z1"))
        assert app.nested == ["200 OK ok"]

    def test_a_zone_is_free_again_once_its_change_answered(self, app: _ReentrantApp) -> None:
        """A PENDING (propagating) change does not block the next one: only in-flight requests do."""
        LocalControl().set_route53_throttle(100, 100)
        assert [_call(app, _change_environ("Z1")), _call(app, _change_environ("Z1"))] == ["200 OK ok"] * 2

    def test_without_throttling_concurrent_changes_are_not_refused(self, app: _ReentrantApp) -> None:
        """Fault fidelity is off by default: no PriorRequestNotComplete either."""
        app.pending.append(_change_environ("Z1"))
        _call(app, _change_environ("Z1"))
        assert app.nested == ["200 OK ok"]

    def test_a_control_request_body_must_be_an_object(self, app: _ReentrantApp) -> None:
        """The control endpoint answers 400 with a message for a body that is not a JSON object."""
        environ = _environ("POST", "/_drctl/set_latency", "none", b"[1]")
        assert _call(app, environ).startswith("400 Bad Request")


class TestLatency:
    def test_every_aws_call_waits_the_configured_latency_and_control_calls_do_not(self) -> None:
        """With set_latency(0.03) each AWS call sleeps 0.03 s once; control requests never wait."""
        LocalControl().reset()
        slept: list[float] = []
        middleware = SandboxMiddleware(_ReentrantApp(), monotonic=_FakeTime(), sleep=slept.append)
        try:
            LocalControl().set_latency(0.03)
            for environ in (
                _environ("POST", "/", "dynamodb", HTTP_X_AMZ_TARGET="DynamoDB_20120810.GetItem"),
                _change_environ("Z1"),
                _environ("POST", "/_drctl/stats", "none", b"{}"),
            ):
                b"".join(middleware(environ, lambda status, headers: None))
            assert slept == [0.03, 0.03]
        finally:
            LocalControl().reset()

    def test_no_latency_by_default(self) -> None:
        """Fault fidelity is off by default: no call sleeps."""
        LocalControl().reset()
        slept: list[float] = []
        middleware = SandboxMiddleware(_ReentrantApp(), monotonic=_FakeTime(), sleep=slept.append)
        b"".join(middleware(_change_environ("Z1"), lambda status, headers: None))
        assert slept == []


class TestRegionalOutage:
    def test_a_call_to_a_region_in_outage_hangs_then_is_dropped_before_moto(self) -> None:
        """The call waits the hang time, never reaches moto, is counted as RegionOutage; other regions pass."""
        control = LocalControl()
        control.reset()
        slept: list[float] = []
        reached: list[str] = []

        def moto(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            reached.append(environ["HTTP_AUTHORIZATION"])
            start_response("200 OK", [])
            return [b"ok"]

        middleware = SandboxMiddleware(moto, monotonic=_FakeTime(), sleep=slept.append)
        body = b"Action=DescribeDBInstances&Version=2014-10-31"
        form = {"CONTENT_TYPE": "application/x-www-form-urlencoded"}
        try:
            control.set_outage("eu-west-1", True)
            control.set_outage_hang_seconds(7)
            down = _environ("POST", "/", "rds", body, **form, HTTP_AUTHORIZATION=_auth("rds", "eu-west-1"))
            with pytest.raises(ConnectionAbortedError, match="eu-west-1"):
                middleware(down, lambda status, headers: None)
            assert (slept, reached) == ([7.0], [])
            assert STATE.stats.rejected == {"RegionOutage": {"DescribeDBInstances": 1}}
            up = _environ("POST", "/", "rds", body, **form, HTTP_AUTHORIZATION=_auth("rds", "eu-central-1"))
            assert b"".join(middleware(up, lambda status, headers: None)) == b"ok"
        finally:
            control.reset()


class _CountingApp:
    """An inner app that stays in 'moto' a while and records how many requests are inside at once."""

    def __init__(self) -> None:
        self.inside = 0
        self.most = 0
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with self.lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
        time.sleep(0.02)
        with self.lock:
            self.inside -= 1
        start_response("200 OK", [])
        return [b"ok"]


class TestOneRequestAtATime:
    def test_parallel_requests_enter_moto_one_at_a_time(self) -> None:
        """moto's models are not thread-safe: the threaded server's parallel RDS requests (a run's fences and
        promotions) reach moto one at a time, as in-process calls do; all of them are answered."""
        LocalControl().reset()
        inner = _CountingApp()
        middleware = SandboxMiddleware(inner, monotonic=_FakeTime())

        def one(_: int) -> str:
            statuses: list[str] = []
            body = b"".join(middleware(_environ("POST", "/", "rds", b"Action=DescribeDBInstances"),
                                       lambda status, headers: statuses.append(status)))
            return f"{statuses[0]} {body.decode()}"

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(one, range(16)))
        assert answers == ["200 OK ok"] * 16
        assert inner.most == 1
