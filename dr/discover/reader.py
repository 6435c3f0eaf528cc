"""Discovery's only way to AWS: clients from the one ClientFactory, reads only, every list paginated, calls counted."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dr.aws.factory import ClientFactory

READ_PREFIXES = ("describe_", "list_", "get_")
"""The only kinds of operation discovery makes (AWS names its read-only operations this way)."""

ROUTE53_REGION = "us-east-1"
"""Where the factory's Route53 client (and so the STS that assumes its role) lives: Route53's control plane."""

MIN_PAGE_SIZE = {"rds": 20}
"""Smallest page a service accepts (RDS: MaxRecords 20-100)."""


class ReadOnlyViolation(RuntimeError):
    """Discovery was about to call an operation that is not a read: a bug, refused before it reaches AWS."""


class Reader:
    """Clients per (service, env, region), a paginated `pages` and a single `call`, and the calls they made."""

    def __init__(self, clients: ClientFactory, *, page_size: int | None = None) -> None:
        self.clients = clients
        self.page_size = page_size
        self.calls: dict[str, Counter[str]] = {}
        self._counted: set[int] = set()

    def client(self, service: str, env: str, region: str | None = None) -> Any:
        """The factory's client (assuming env's role), counting its calls and those of the STS behind it."""
        region = ROUTE53_REGION if service == "route53" else region or self.clients.topology.environments[env].region
        if self.clients.topology.environments[env].role_arn:
            self._count(self.clients.role_assumption_client(region))
        client = self.clients.route53(env) if service == "route53" else self.clients.client(service, env, region)
        self._count(client)
        return client

    def _count(self, client: Any) -> None:
        if id(client) in self._counted:
            return
        self._counted.add(id(client))
        client.meta.events.register("before-call.*.*", self._counter)

    def _counter(self, model: Any, **_: Any) -> None:
        service = str(model.service_model.service_name)
        self.calls.setdefault(service, Counter())[str(model.name)] += 1

    def pages(self, client: Any, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every page of a list operation (botocore's paginator), `page_size` items per request when set."""
        _check(operation)
        config: dict[str, Any] = {}
        if self.page_size:
            service = str(client.meta.service_model.service_name)
            config["PaginationConfig"] = {"PageSize": max(self.page_size, MIN_PAGE_SIZE.get(service, 1))}
        yield from client.get_paginator(operation).paginate(**kwargs, **config)

    def call(self, client: Any, operation: str, **kwargs: Any) -> dict[str, Any]:
        """One read that returns everything in one answer (e.g. get_hosted_zone, describe_services of ≤ 10)."""
        _check(operation)
        result: dict[str, Any] = getattr(client, operation)(**kwargs)
        return result

    def counts(self) -> dict[str, dict[str, int]]:
        return {service: dict(sorted(ops.items())) for service, ops in sorted(self.calls.items())}


def _check(operation: str) -> None:
    if not operation.startswith(READ_PREFIXES):
        raise ReadOnlyViolation(f"discovery only reads AWS; {operation} is not a read")
