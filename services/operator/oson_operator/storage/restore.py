"""Read-only queries of the restore check (``oson-operator restore-check``) on a restored database."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, text

from oson_operator.domain.event_chain import ChainHead, heads_document
from oson_operator.storage.models import SCHEMA_VERSION_KEY

# Ids per round trip when looking operations up (a uuid[] parameter of about 400 KB).
LOOKUP_BATCH = 10_000


@dataclass(frozen=True)
class ServerFacts:
    database: str
    user: str
    server_version: str
    size_bytes: int
    in_recovery: bool


def server_facts(conn: Connection) -> ServerFacts:
    """Which database and server answered, as whom, and how large the database is."""
    row = conn.execute(text(
        "SELECT current_database(), current_user, current_setting('server_version'), "
        "pg_database_size(current_database()), pg_is_in_recovery()"
    )).one()
    return ServerFacts(str(row[0]), str(row[1]), str(row[2]), int(row[3]), bool(row[4]))


@dataclass(frozen=True)
class ActivityFacts:
    operations: int
    last_operation_at: datetime | None
    events: int
    last_event_at: datetime | None


def activity_facts(conn: Connection) -> ActivityFacts:
    """How many operations and events the database holds, and when the last of each was recorded."""
    operations, last_operation = conn.execute(text(
        "SELECT count(*), max(created_at) FROM oson.operation")).one()
    events, last_event = conn.execute(text("SELECT count(*), max(recorded_at) FROM oson.event")).one()
    return ActivityFacts(int(operations), last_operation, int(events), last_event)


@dataclass(frozen=True)
class SchemaRevisions:
    """``app_meta_present``: oson.app_meta exists; ``alembic_readable``: this login may read the
    Alembic version table (the runtime login may not, the owner may)."""

    app_meta_present: bool
    schema_version: str | None
    alembic_readable: bool
    alembic_version: str | None


def schema_revisions(conn: Connection) -> SchemaRevisions:
    """The revision the schema records in oson.app_meta, and Alembic's own record when readable."""
    present, readable = conn.execute(text(
        "SELECT to_regclass('oson.app_meta') IS NOT NULL, "
        "coalesce(has_table_privilege(to_regclass('oson.alembic_version'), 'SELECT'), false)"
    )).one()
    version = None
    if present:
        version = conn.execute(text("SELECT value FROM oson.app_meta WHERE key = :key"),
                               {"key": SCHEMA_VERSION_KEY}).scalar()
    alembic = None
    if readable:
        alembic = conn.execute(text("SELECT version_num FROM oson.alembic_version")).scalar()
    return SchemaRevisions(bool(present), version, bool(readable), alembic)


def operation_statuses(conn: Connection, operation_ids: Sequence[str]) -> dict[str, str]:
    """``{id: status}`` of those of ``operation_ids`` (canonical lower-case UUIDs) that exist."""
    found: dict[str, str] = {}
    for start in range(0, len(operation_ids), LOOKUP_BATCH):
        batch = list(operation_ids[start:start + LOOKUP_BATCH])
        rows = conn.execute(text(
            "SELECT id::text, status FROM oson.operation WHERE id = ANY(CAST(:ids AS uuid[]))"), {"ids": batch})
        found.update((str(row[0]), str(row[1])) for row in rows)
    return found


@dataclass(frozen=True)
class EventsAfter:
    count: int
    first_recorded_at: datetime | None
    last_recorded_at: datetime | None


def events_after(conn: Connection, heads: Mapping[int, ChainHead]) -> EventsAfter:
    """The events past ``heads`` (a checkpoint's): recorded after it, so not covered by its signature."""
    count, first, last = conn.execute(text(
        "SELECT count(*), min(e.recorded_at), max(e.recorded_at) FROM oson.event e "
        "LEFT JOIN jsonb_each(CAST(:heads AS jsonb)) h ON h.key = e.chain::text "
        "WHERE e.chain_seq > coalesce(CAST(h.value ->> 'seq' AS bigint), 0)"
    ), {"heads": json.dumps(heads_document(heads))}).one()
    return EventsAfter(int(count), first, last)
