"""In-process moto handles one request at a time, as the sandbox server does (dr.sandbox.middleware, same lock).

moto's models are not thread-safe: under `mock_aws` every boto3 call runs moto in the calling thread, and a run's
parallel steps (promotions, lineage reads, fences) call it from many threads at once. Two requests touching the
same moto structures could then fail with "OrderedDict mutated during iteration" (seen intermittently in
failback tests). AWS serves concurrent requests, so this is no fidelity loss: each call still sees the world as
one consistent step. The outage hang runs before this lock (in `outage`), so a dead region never blocks others.
"""

from __future__ import annotations

import threading
from typing import Any

from dr.sandbox.extensions import _guard

MOTO_LOCK = threading.RLock()
"""Held while moto handles one request, in-process (here) and in the sandbox server (dr.sandbox.middleware)."""


def install() -> None:
    from moto.core.botocore_stubber import BotocoreStubber

    _guard.replace(BotocoreStubber, "process_request", _process_request, ["request"])


def _process_request(self: Any, request: Any) -> Any:
    with MOTO_LOCK:
        return _guard.original(type(self), "process_request")(self, request)
