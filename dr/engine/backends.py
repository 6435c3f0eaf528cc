"""Where runs keep their journal and lock, from the topology's `state` section.

With `state.s3_bucket` the journal is in S3, with `state.dynamodb_table` the lock is a DynamoDB lease;
both in the state environment (`state.env`, else the DR environment: the first with `dr_for`) and
region (`state.region`, else that environment's region), so they survive the loss of the primary.
Otherwise both live in the local state directory (dr.engine.env.state_dir).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dr.clock import SYSTEM_CLOCK, Clock
from dr.engine.env import state_dir
from dr.engine.journal.base import JournalBackend
from dr.engine.journal.local import LocalBackend
from dr.engine.lock.base import RunLock
from dr.engine.lock.local import LocalLock

if TYPE_CHECKING:
    from dr.aws.factory import ClientFactory
    from dr.config.model import Topology


def state_location(topology: Topology) -> tuple[str, str]:
    """(environment, region) that hold the shared journal and lock."""
    env = topology.state.env
    if env is None:
        dr_envs = [name for name, e in topology.environments.items() if e.dr_for]
        env = dr_envs[0] if dr_envs else next(iter(topology.environments))
    return env, topology.state.region or topology.environments[env].region


def journal_backend(topology: Topology, clients: ClientFactory) -> JournalBackend:
    if topology.state.s3_bucket:
        from dr.engine.journal.s3 import S3Backend

        env, region = state_location(topology)
        return S3Backend(clients.client("s3", env, region), topology.state.s3_bucket, topology.state.s3_prefix)
    return LocalBackend(state_dir())


def run_lock(topology: Topology, clients: ClientFactory, key: str, clock: Clock = SYSTEM_CLOCK) -> RunLock:
    if topology.state.dynamodb_table:
        from dr.engine.lock.dynamodb import DynamoDbLease

        env, region = state_location(topology)
        return DynamoDbLease(clients.client("dynamodb", env, region), topology.state.dynamodb_table, key,
                             lease_seconds=topology.state.lease, clock=clock)
    return LocalLock(state_dir(), key)
