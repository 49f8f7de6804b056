"""The event log's storage: append (inside the caller's transaction), checkpoints, verification."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, text

from oson_operator.domain.events import EventDraft

_INSERT = text(
    "INSERT INTO oson.event (started_at, ended_at, actor, action, record_type, record_id, result, "
    "source_address, request_id, details) VALUES (:started_at, :ended_at, :actor, :action, :record_type, "
    ":record_id, :result, :source_address, :request_id, CAST(:details AS jsonb)) RETURNING id"
)


def _clean(value: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL; an event must never fail for it, so it becomes U+FFFD."""
    if value is None:
        return None
    return value.replace("\x00", "\ufffd")


def _json_ready(value: Any) -> Any:
    """``details`` as plain JSON: mappings, lists, str, int, float, bool, None; common types as text."""
    if isinstance(value, Mapping):
        return {_clean(str(key)): _json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [_json_ready(item) for item in items]
    if isinstance(value, str):
        return _clean(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return _json_ready(value.value)
    raise TypeError(f"event details: {type(value).__name__} is not JSON; pass str, numbers, lists or dicts")


def _aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"event {name} must be timezone-aware (use the clock's UTC time)")
    return value


def append_event(connection: Connection, draft: EventDraft) -> int:
    """Append one event in the caller's transaction and return its id.

    The insert trigger chains the row (chain, chain_seq, prev_hash, hash, recorded_at). It locks
    the chain's head row until the caller commits, so: call this in a READ COMMITTED transaction
    (the default), and preferably as one of the last statements, after the business rows are
    locked; a rollback removes the event together with the business change.
    """
    details = json.dumps(_json_ready(dict(draft.details)), ensure_ascii=False, separators=(",", ":"),
                         allow_nan=False)
    row = connection.execute(
        _INSERT,
        {
            "started_at": _aware("started_at", draft.started_at),
            "ended_at": _aware("ended_at", draft.ended_at),
            "actor": _clean(draft.actor),
            "action": _clean(draft.action),
            "record_type": _clean(draft.record_type),
            "record_id": _clean(draft.record_id),
            "result": _clean(draft.result),
            "source_address": _clean(draft.source_address),
            "request_id": _clean(draft.request_id),
            "details": details,
        },
    ).one()
    return int(row[0])
