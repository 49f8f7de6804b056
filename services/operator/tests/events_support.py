"""Helpers of the event-log tests: engines, drafts, reading rows back, scratch databases."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import psycopg
from conftest import OWNER, RUNTIME, PostgresServer
from psycopg import sql
from sqlalchemy import Connection, Engine, text

from oson_operator.domain.event_chain import StoredEvent
from oson_operator.domain.events import EventDraft
from oson_operator.migrate import upgrade
from oson_operator.settings import Settings
from oson_operator.storage.engine import create_database_engine

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)

SELECT_STORED = (
    "SELECT id, chain, chain_seq, started_at, ended_at, recorded_at, actor, action, record_type, record_id, "
    "result, source_address, request_id, details::text, prev_hash, hash FROM oson.event"
)


def draft(n: int = 0, **overrides: object) -> EventDraft:
    values: dict[str, object] = {
        "action": "test.event",
        "actor": "staff:tester",
        "result": "ok",
        "started_at": T0 + timedelta(seconds=n),
        "ended_at": T0 + timedelta(seconds=n, milliseconds=250),
        "record_type": "operation",
        "record_id": f"op-{n}",
        "source_address": "192.0.2.10",
        "request_id": f"req-{n}",
        "details": {"n": n},
    }
    values.update(overrides)
    return EventDraft(**values)  # type: ignore[arg-type]


def stored(connection: Connection, where: str = "",
           params: dict[str, object] | None = None) -> list[StoredEvent]:
    rows = connection.execute(text(f"{SELECT_STORED} {where} ORDER BY chain, chain_seq"), params or {})
    return [StoredEvent(*[bytes(v) if isinstance(v, memoryview) else v for v in row]) for row in rows]


@contextmanager
def runtime_engine(settings: Settings) -> Iterator[Engine]:
    engine = create_database_engine(settings)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def scratch_database(server: PostgresServer) -> Iterator[Settings]:
    """A freshly migrated database of its own, for tests that tamper with the log, dropped after."""
    name = f"oson_ev_{secrets.token_hex(4)}"
    with server.superuser() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name),
                                                                   sql.Identifier(OWNER)))
        conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name)))
        conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(name),
                                                                         sql.Identifier(RUNTIME)))
    settings = server.settings(database_name=name)
    try:
        upgrade(settings)
        yield settings
    finally:
        with server.superuser() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def superuser_tamper(server: PostgresServer, database: str, *statements: str) -> None:
    """Run statements as the superuser with the guard triggers off (what an attacker with root could do)."""
    with psycopg.connect(host=str(server.socket_dir), port=server.port, user="postgres", dbname=database,
                         connect_timeout=5) as conn:
        conn.execute("SET session_replication_role = replica")
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]
        conn.commit()
