"""One run per environment pair at a time: a DynamoDB lease when configured, else a local file lock."""

from dr.engine.lock.base import LockInfo, RunLock, lock_key

__all__ = ["LockInfo", "RunLock", "lock_key"]
