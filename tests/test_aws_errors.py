"""Error classification and the one retry builder."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

from dr.aws.errors import describe, error_code, is_not_found, is_retryable, is_throttling, is_unreachable
from dr.clock import FakeClock
from dr.retry import retrying


def client_error(code: str, status: int = 400, message: str = "boom") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


class TestClassification:
    @pytest.mark.parametrize("code", ["Throttling", "ThrottlingException", "RequestLimitExceeded",
                                      "PriorRequestNotComplete", "TooManyRequestsException"])
    def test_throttling_codes_are_retryable(self, code: str) -> None:
        """Throttling of every AWS flavour is retried."""
        assert is_retryable(client_error(code))
        assert is_throttling(client_error(code))

    def test_server_errors_are_retryable(self) -> None:
        """Any 5xx is retried."""
        assert is_retryable(client_error("SomethingOdd", 503))

    @pytest.mark.parametrize("exc", [ConnectTimeoutError(endpoint_url="x"), ReadTimeoutError(endpoint_url="x"),
                                     EndpointConnectionError(endpoint_url="x")])
    def test_transport_failures_are_retryable_and_unreachable(self, exc: Exception) -> None:
        """Connect/read timeouts are retried and mean the endpoint is unreachable."""
        assert is_retryable(exc)
        assert is_unreachable(exc)

    @pytest.mark.parametrize("code", ["AccessDenied", "ValidationError", "InvalidParameterValue",
                                      "DBInstanceNotFound", "InvalidDBInstanceState"])
    def test_fatal_codes_are_not_retried(self, code: str) -> None:
        """Access, validation, state and not-found errors are fatal."""
        assert not is_retryable(client_error(code))

    def test_not_found_is_recognised(self) -> None:
        """Not-found codes of several services."""
        assert is_not_found(client_error("DBInstanceNotFound"))
        assert is_not_found(client_error("NoSuchHostedZone"))
        assert not is_not_found(client_error("AccessDenied"))

    def test_describe_is_one_line_with_code(self) -> None:
        """What the operator reads: code and message."""
        assert describe(client_error("AccessDenied", message="not allowed")) == "AccessDenied: not allowed"
        assert error_code(ValueError("x")) == ""


class TestRetryBuilder:
    def test_retries_retryable_errors_until_success(self) -> None:
        """Throttled twice, then fine: three attempts, slept on the injected clock only."""
        clock = FakeClock()
        calls: list[int] = []

        def flaky() -> str:
            calls.append(1)
            if len(calls) < 3:
                raise client_error("Throttling")
            return "ok"

        assert retrying(clock=clock, attempts=5)(flaky) == "ok"
        assert len(calls) == 3
        assert clock.monotonic() > 0

    def test_fatal_error_is_raised_at_once(self) -> None:
        """AccessDenied is not retried."""
        calls: list[int] = []

        def denied() -> None:
            calls.append(1)
            raise client_error("AccessDenied")

        with pytest.raises(ClientError):
            retrying(clock=FakeClock(), attempts=5)(denied)
        assert len(calls) == 1

    def test_deadline_stops_before_attempts_run_out(self) -> None:
        """The budget deadline stops retrying even when attempts remain; the last error is raised."""
        clock = FakeClock()
        calls: list[int] = []

        def throttled() -> None:
            calls.append(1)
            clock.advance(1.0)
            raise client_error("Throttling")

        with pytest.raises(ClientError, match="Throttling"):
            retrying(clock=clock, attempts=100, deadline=3.0)(throttled)
        assert 1 < len(calls) < 5
        assert clock.monotonic() <= 4.0
