"""SQL of saved search queries (migration 0005)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from oson_operator.domain.errors import Conflict


@dataclass(frozen=True)
class SavedQuery:
    id: str
    owner: str
    name: str
    list_name: str
    query: dict[str, Any]
    created_at: datetime

    def view(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "list": self.list_name, "query": self.query,
                "created_at": self.created_at.isoformat()}


_COLUMNS = "id::text, owner, name, list_name, query, created_at"


def insert_saved_query(conn: Connection, *, owner: str, name: str, list_name: str, query: dict[str, Any],
                       now: datetime) -> SavedQuery:
    savepoint = conn.begin_nested()
    try:
        row = conn.execute(text(
            f"INSERT INTO oson.saved_query (owner, name, list_name, query, created_at) "
            f"VALUES (:owner, :name, :list, CAST(:query AS jsonb), :now) RETURNING {_COLUMNS}"
        ), {"owner": owner, "name": name, "list": list_name, "query": json.dumps(query), "now": now}).one()
        savepoint.commit()
    except IntegrityError:
        savepoint.rollback()
        raise Conflict("SAVED_QUERY_EXISTS", params={"name": name}) from None
    return SavedQuery(*row)


def _uuid(value: str) -> str | None:
    try:
        return str(UUID(value))
    except ValueError:
        return None


def get_saved_query(conn: Connection, owner: str, query_id: str) -> SavedQuery | None:
    """The owner's saved query; another user's is as good as absent."""
    if _uuid(query_id) is None:
        return None
    row = conn.execute(text(
        f"SELECT {_COLUMNS} FROM oson.saved_query WHERE id = CAST(:id AS uuid) AND owner = :owner"
    ), {"id": query_id, "owner": owner}).first()
    return SavedQuery(*row) if row else None


def list_saved_queries(conn: Connection, owner: str) -> list[SavedQuery]:
    rows = conn.execute(text(
        f"SELECT {_COLUMNS} FROM oson.saved_query WHERE owner = :owner ORDER BY name, id"
    ), {"owner": owner}).all()
    return [SavedQuery(*row) for row in rows]


def delete_saved_query(conn: Connection, owner: str, query_id: str) -> bool:
    if _uuid(query_id) is None:
        return False
    result = conn.execute(text(
        "DELETE FROM oson.saved_query WHERE id = CAST(:id AS uuid) AND owner = :owner"
    ), {"id": query_id, "owner": owner})
    return result.rowcount > 0
