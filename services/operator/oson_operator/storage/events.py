"""The event log's storage: append (inside the caller's transaction), checkpoints, verification."""

from __future__ import annotations

from sqlalchemy import Connection

from oson_operator.domain.events import EventDraft


def append_event(connection: Connection, draft: EventDraft) -> int:
    """Append one event in the caller's transaction and return its id."""
    raise NotImplementedError("the event log arrives with migration 0002")
