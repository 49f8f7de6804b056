"""Idempotency keys: one row per (caller, key), kept forever, holding the first answer given."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from oson_operator.domain.events import EventDraft
from oson_operator.storage.events import INSERT_EVENT_SQL, event_parameters


@dataclass(frozen=True)
class StoredAnswer:
    request_hash: str
    status_code: int | None
    response: dict[str, Any] | None


def claim(conn: Connection, actor: str, key: str, request_hash: str) -> StoredAnswer | None:
    """Claim the key in this transaction, or return the answer stored under it.

    A concurrent claim of the same key waits here until the first transaction ends: if it committed,
    the insert finds the row and we return its answer; if it rolled back, we get the key.
    """
    inserted = conn.execute(text(
        "INSERT INTO oson.idempotency_key (actor, key, request_hash) VALUES (:actor, :key, :hash) "
        "ON CONFLICT (actor, key) DO NOTHING RETURNING 1"
    ), {"actor": actor, "key": key, "hash": request_hash}).first()
    if inserted is not None:
        return None
    row = conn.execute(text(
        "SELECT request_hash, status_code, response FROM oson.idempotency_key WHERE actor = :actor AND key = :key"
    ), {"actor": actor, "key": key}).one()
    return StoredAnswer(row[0], row[1], row[2])


_STORE_WITH_EVENT = text(
    f"WITH event AS ({INSERT_EVENT_SQL}) "
    "UPDATE oson.idempotency_key SET status_code = :status, response = CAST(:response AS json) "
    "WHERE actor = :key_actor AND key = :key RETURNING (SELECT id FROM event)"
)


def store_with_event(conn: Connection, actor: str, key: str, status_code: int, response: dict[str, Any],
                     event: EventDraft) -> int:
    """Store the answer and append the request's event in one statement; returns the event id."""
    params = event_parameters(event)
    params.update({"status": status_code, "response": json.dumps(response), "key_actor": actor, "key": key})
    return int(conn.execute(_STORE_WITH_EVENT, params).scalar_one())
