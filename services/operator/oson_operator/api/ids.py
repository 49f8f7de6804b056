"""Path identifiers are UUIDs; anything else is simply not found (never a database error)."""

from __future__ import annotations

import uuid

from oson_operator.domain.errors import NotFound


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def require_uuid(value: str, code: str) -> str:
    if not is_uuid(value):
        raise NotFound(code, params={"id": value})
    return value
