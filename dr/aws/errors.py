"""Classify AWS failures: retryable (throttling, 5xx, timeouts) versus fatal (access, validation, not found)."""

from __future__ import annotations

RETRYABLE_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded",
    "PriorRequestNotComplete", "TooManyRequestsException", "RequestThrottled", "SlowDown",
    "ProvisionedThroughputExceededException", "RequestThrottledException",
    "ServiceUnavailable", "ServiceUnavailableException", "InternalFailure", "InternalError",
    "InternalServerError", "RequestTimeout", "RequestTimeoutException",
})
THROTTLING_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded",
    "PriorRequestNotComplete", "TooManyRequestsException", "RequestThrottled", "SlowDown",
    "RequestThrottledException",
})
NOT_FOUND_SUFFIXES = ("NotFound", "NotFoundFault", "NoSuchEntity", "NoSuchHostedZone", "NoSuchHealthCheck",
                      "ResourceNotFoundException")


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError, the class name for transport errors, else ''."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", "") or "")
    if _is_transport_error(exc):
        return type(exc).__name__
    return ""


def http_status(exc: BaseException) -> int:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return 0


def _is_transport_error(exc: BaseException) -> bool:
    from botocore.exceptions import (
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )
    from botocore.parsers import ResponseParserError

    return isinstance(exc, ConnectTimeoutError | ReadTimeoutError | EndpointConnectionError
                      | ConnectionClosedError | ResponseParserError)


def is_retryable(exc: BaseException) -> bool:
    """True for throttling, server errors and connect/read timeouts; False for everything else."""
    if getattr(exc, "retryable", False) is True:
        return True
    if error_code(exc) in RETRYABLE_CODES or http_status(exc) >= 500:
        return True
    return _is_transport_error(exc)


def is_throttling(exc: BaseException) -> bool:
    return error_code(exc) in THROTTLING_CODES


def is_not_found(exc: BaseException) -> bool:
    code = error_code(exc)
    return bool(code) and code.endswith(NOT_FOUND_SUFFIXES)


def is_unreachable(exc: BaseException) -> bool:
    """The endpoint did not answer at all: what a regional outage looks like from here."""
    from botocore.exceptions import (
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    return isinstance(exc, ConnectTimeoutError | EndpointConnectionError | ReadTimeoutError | ConnectionClosedError)


def describe(exc: BaseException) -> str:
    """One line for the operator: code and message, without a traceback."""
    code = error_code(exc)
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        message = response.get("Error", {}).get("Message", "") or str(exc)
        return f"{code}: {message}" if code else message
    return f"{code}: {exc}" if code else str(exc) or type(exc).__name__
