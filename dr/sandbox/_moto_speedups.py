"""Speed-ups of moto that change no behaviour, applied wherever the sandbox runs (fixtures, server).

- moto's EKS validates every role ARN against the AWS partitions by building a new boto3 Session each time
  (about 0.15 s per cluster or node group, most of seeding the example). The partitions are fixed for a
  process: the replacement reads them once and applies exactly moto's rule. If moto changes shape, nothing
  is patched and moto stays as it is (slower, never wrong).
- moto's server resolves the backend of every request by listing moto's package directory (a `stat` per
  service, ~1 ms) and trying the backend URL patterns, under the dispatcher's one lock, so concurrent
  requests queue behind it. The answer depends on the host name alone: `memo_dispatcher` keeps it per host.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable
from typing import Any

_ROLE_ARN = re.compile("arn:(?P<partition>.+):iam::(?P<account_id>[0-9]{12}):role/.+")
_lock = threading.Lock()
_applied = False


@functools.cache
def _partitions() -> frozenset[str]:
    from boto3 import Session

    return frozenset(Session().get_available_partitions())


def validate_role_arn(arn: str) -> None:
    """moto.eks.utils.validate_role_arn with the partitions read once."""
    from moto.eks.exceptions import InvalidParameterException

    match = _ROLE_ARN.match(arn) if arn else None
    if not (match and match.group("partition") in _partitions()):
        raise InvalidParameterException(message="Invalid Role Arn: '" + arn + "'")


def apply() -> None:
    """Install the speed-ups once per process (a no-op when moto's layout is not the one measured)."""
    global _applied  # noqa: PLW0603 - one process-wide switch, guarded by the lock
    with _lock:
        if _applied:
            return
        _applied = True
        try:
            from moto.eks import models, utils
        except ImportError:
            return
        if callable(getattr(models, "validate_role_arn", None)) and callable(getattr(utils, "validate_role_arn", None)):
            models.validate_role_arn = validate_role_arn  # type: ignore[attr-defined]


def memo_dispatcher(create_app: Callable[..., Any]) -> Any:
    """moto's `DomainDispatcherApplication` for `create_app`, resolving each host name to its backend once.

    moto's `get_backend_for_host` is a pure function of the host (moto's installed modules and its fixed
    URL patterns); its result, `None` included, is kept in a dict. Without the method (another moto
    shape) moto's own dispatcher is returned unchanged."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    if not callable(getattr(DomainDispatcherApplication, "get_backend_for_host", None)):
        return DomainDispatcherApplication(create_app)

    class HostMemoDispatcher(DomainDispatcherApplication):
        def __init__(self, create: Callable[..., Any]) -> None:
            super().__init__(create)
            self._backends: dict[str | None, Any] = {}

        def get_backend_for_host(self, host: str | None) -> Any:
            if host not in self._backends:
                self._backends[host] = super().get_backend_for_host(host)
            return self._backends[host]

    return HostMemoDispatcher(create_app)
