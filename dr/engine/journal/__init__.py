"""The run journal: append-only JSON Lines, durable per event, on a local directory or in S3."""

from dr.engine.journal.base import Journal, JournalBackend, read_events
from dr.engine.journal.header import RunHeader
from dr.engine.journal.replay import RunHistory, StepRecord, replay

__all__ = ["Journal", "JournalBackend", "RunHeader", "RunHistory", "StepRecord", "read_events", "replay"]
