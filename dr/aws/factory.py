"""The one AWS client factory: per environment and region, assumed roles, short timeouts, fault hooks."""

from __future__ import annotations

import getpass
import re
import threading
from typing import Any

from dr import __version__
from dr.aws.faults import Faults
from dr.config.model import AwsSettings, Topology

_SESSION_NAME_CHARS = re.compile(r"[^\w+=,.@-]")


def session_name(user: str, run_id: str) -> str:
    """`drctl-<user>-<run_id>` within AWS's RoleSessionName rules (2-64 chars of [\\w+=,.@-])."""
    name = _SESSION_NAME_CHARS.sub("-", f"drctl-{user}-{run_id}")
    return name[:64]


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


_LOADER_LOCK = threading.Lock()
ROUTE53_MIN_ATTEMPTS = 10
"""Attempts per Route53 call at least (adaptive retry mode): Route53 throttles at 10 requests/s per account."""
_SHARED_LOADER: list[Any] = []
ARC_CLUSTER_SERVICE = "route53-recovery-cluster"
ARC_ENDPOINT_ATTEMPTS = 2
"""botocore attempts per ARC cluster endpoint: AWS's advice is to try the next endpoint, not wait on one."""
STS_REGIONAL_ENDPOINTS = "regional"
"""Pinned on every session: STS is called in the region asked for (sts.<region>.amazonaws.com). A user's
`AWS_STS_REGIONAL_ENDPOINTS=legacy` (or `sts_regional_endpoints = legacy` in ~/.aws/config) would otherwise send
role assumption for most regions to the global endpoint, served from us-east-1: a failover would then depend
on a region it does not use. A session's own setting outranks both the variable and the config file."""


def _botocore_session() -> Any:
    """A new botocore session sharing one data loader: service models are parsed once per process, not
    once per (environment, region) session (about 0.15 s saved per client). STS endpoints are regional."""
    import botocore.session

    core = botocore.session.get_session()
    with _LOADER_LOCK:
        if not _SHARED_LOADER:
            _SHARED_LOADER.append(core.get_component("data_loader"))
    core.register_component("data_loader", _SHARED_LOADER[0])
    core.set_config_variable("sts_regional_endpoints", STS_REGIONAL_ENDPOINTS)
    return core


class ClientFactory:
    """Makes and caches boto3 clients for (service, environment, region).

    An environment with `role_arn` is reached by assuming that role through STS *in the region being
    called*, so that nothing depends on a failed region. Endpoints, profiles and CA bundles come from the
    standard AWS variables, as with any boto3 tool.
    """

    def __init__(
        self,
        topology: Topology,
        *,
        run_id: str = "adhoc",
        user: str | None = None,
        faults: Faults | None = None,
        settings: AwsSettings | None = None,
    ) -> None:
        self.topology = topology
        self.run_id = run_id
        self.user = user or current_user()
        self.faults = faults
        self.settings = settings or topology.aws
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._sessions: dict[tuple[str, str], Any] = {}
        self._sts: dict[str, Any] = {}
        self._lock = threading.RLock()

    def client(self, service: str, env: str, region: str | None = None, *, endpoint_url: str | None = None) -> Any:
        """A client for `service` in `env`'s account, in `region` (default: the env's home region); `endpoint_url`
        for a service reached at an endpoint of its own (an ARC cluster's regional endpoints, dr/aws/arc.py)."""
        region = region or self.topology.environments[env].region
        key = (service, env, region) if endpoint_url is None else (service, env, f"{region} {endpoint_url}")
        with self._lock:
            if key not in self._clients:
                extra = {} if endpoint_url is None else {"endpoint_url": endpoint_url}
                client = self._session(env, region).client(service, region_name=region,
                                                           config=self._config(service), **extra)
                if self.faults is not None:
                    self.faults.attach(client, region)
                self._clients[key] = client
            return self._clients[key]

    def route53(self, env: str) -> Any:
        """Route53 is global; its control plane lives in us-east-1."""
        return self.client("route53", env, "us-east-1")

    def _config(self, service: str = "") -> Any:
        from botocore.config import Config

        attempts, mode = self.settings.max_attempts, "standard"
        if service == ARC_CLUSTER_SERVICE:
            # a cluster endpoint that does not answer is left for the next one (dr/aws/arc.py), not retried here
            attempts = min(attempts, ARC_ENDPOINT_ATTEMPTS)
        if service == "route53":
            # 10 requests/s per account, burst 50: at a few hundred records the reads queue for tokens. Adaptive
            # mode paces the client to the rate it is given, and the extra attempts let a throttled read wait its
            # turn instead of failing a readiness check as "Throttling" (which refused the whole failover).
            attempts, mode = max(attempts, ROUTE53_MIN_ATTEMPTS), "adaptive"
        return Config(
            connect_timeout=self.settings.connect_timeout,
            read_timeout=self.settings.read_timeout,
            retries={"total_max_attempts": attempts, "mode": mode},
            user_agent_extra=f"drctl/{__version__}",
            max_pool_connections=32,
        )

    def _session(self, env: str, region: str) -> Any:
        import boto3

        key = (env, region)
        if key in self._sessions:
            return self._sessions[key]
        role_arn = self.topology.environments[env].role_arn
        core = self._assumed(role_arn, region) if role_arn else _botocore_session()
        session = boto3.session.Session(botocore_session=core)
        self._sessions[key] = session
        return session

    def role_assumption_client(self, region: str) -> Any:
        """The STS client that assumes environments' roles for calls to `region`: STS in that same region, with
        the caller's own credentials (one per region)."""
        import boto3

        with self._lock:
            if region not in self._sts:
                base = boto3.session.Session(botocore_session=_botocore_session())
                sts = base.client("sts", region_name=region, config=self._config())
                if self.faults is not None:
                    self.faults.attach(sts, region)
                self._sts[region] = sts
            return self._sts[region]

    def _assumed(self, role_arn: str, region: str) -> Any:
        """A botocore session whose credentials come from assuming `role_arn`, refreshed before expiry."""
        from botocore.credentials import DeferredRefreshableCredentials

        sts = self.role_assumption_client(region)
        name = session_name(self.user, self.run_id)

        def fetch() -> dict[str, str]:
            creds = sts.assume_role(RoleArn=role_arn, RoleSessionName=name)["Credentials"]
            return {
                "access_key": creds["AccessKeyId"],
                "secret_key": creds["SecretAccessKey"],
                "token": creds["SessionToken"],
                "expiry_time": creds["Expiration"].isoformat(),
            }

        core = _botocore_session()
        core._credentials = DeferredRefreshableCredentials(refresh_using=fetch, method="sts-assume-role")
        return core
