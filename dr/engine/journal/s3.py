"""Journals in S3 for teams: one object per event, `<prefix><run_id>/<seq>.json`, so appends never rewrite.

S3 has no append; an object per event keeps the journal append-only, and a completed PUT is durable.
Reading lists the run's objects in key order (seq is zero-padded) and returns them as JSON Lines.
"""

from __future__ import annotations

from typing import Any

from dr.errors import DrError


class JournalConflict(DrError):
    """Another process wrote the same journal event: the run stops rather than interleave."""


class S3Backend:
    def __init__(self, client: Any, bucket: str, prefix: str = "drctl/runs/") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix if prefix.endswith("/") or not prefix else prefix + "/"
        self.location = f"s3://{bucket}/{self.prefix}"

    def where(self, run_id: str) -> str:
        return f"{self.location}{run_id}/"

    def append(self, run_id: str, seq: int, line: str) -> None:
        """A conditional PUT (If-None-Match: *): an event is never overwritten, so two writers of one run
        cannot interleave silently; a retried PUT of our own line is recognised as such."""
        key = f"{self.prefix}{run_id}/{seq:08d}.json"
        body = line.encode("utf-8")
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json",
                                   IfNoneMatch="*")
        except Exception as err:
            from dr.aws.errors import error_code

            if error_code(err) != "PreconditionFailed":
                raise
            if self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read() != body:
                raise JournalConflict(f"{self.location}{key} was written by another process; two runs are "
                                      f"writing journal {run_id}") from err

    def read(self, run_id: str) -> list[str] | None:
        keys: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{self.prefix}{run_id}/"):
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
        if not keys:
            return None
        return [self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read().decode("utf-8")
                for key in sorted(keys)]

    def run_ids(self) -> list[str]:
        ids: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix, Delimiter="/"):
            ids.extend(p["Prefix"][len(self.prefix):].rstrip("/") for p in page.get("CommonPrefixes", []))
        return sorted(ids)

    def close(self) -> None:
        """Nothing buffered: every event is its own completed PUT."""
