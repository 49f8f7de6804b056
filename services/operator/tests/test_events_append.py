"""Appending events: chained by the database, concurrent writers, append-only for the runtime login."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import psycopg
import pytest
from conftest import DATABASE, PASSWORDS, RUNTIME, PostgresServer
from events_support import draft, runtime_engine, stored
from psycopg import errors
from sqlalchemy import text

from oson_operator.domain.event_chain import CHAINS, GENESIS_HASH, canonical_bytes, chain_hash
from oson_operator.domain.events import EventDraft
from oson_operator.storage.events import append_event


def test_append_returns_the_id_and_the_database_chains_the_row(running_pg: PostgresServer) -> None:
    with runtime_engine(running_pg.settings()) as engine:
        with engine.begin() as conn:
            first = append_event(conn, draft(1, details={"amount": "10.50", "tags": ["a", "b"], "ok": True}))
            second = append_event(conn, draft(2, record_type=None, record_id="", source_address=None))
        with engine.connect() as conn:
            rows = {row.id: row for row in stored(conn, "WHERE id IN (:a, :b)", {"a": first, "b": second})}
    one, two = rows[first], rows[second]
    assert one.actor == "staff:tester" and one.action == "test.event" and one.result == "ok"
    assert one.started_at == datetime(2026, 3, 1, 9, 30, 1, tzinfo=UTC)
    assert one.details_text == '{"ok": true, "tags": ["a", "b"], "amount": "10.50"}'
    assert (two.record_type, two.record_id, two.source_address) == (None, "", None)
    # One transaction, one backend: the same chain, consecutive seqs, linked hashes.
    assert two.chain == one.chain and 0 <= one.chain < CHAINS
    assert two.chain_seq == one.chain_seq + 1
    assert two.prev_hash == one.hash
    # The Python mirror of the canonical form gives exactly the trigger's hashes.
    assert chain_hash(one.prev_hash, one) == one.hash
    assert chain_hash(two.prev_hash, two) == two.hash


def test_canonical_form_matches_the_database_function(running_pg: PostgresServer) -> None:
    with runtime_engine(running_pg.settings()) as engine, engine.begin() as conn:
        actor = "staff:\x1f\u0436\u04af\u0439\u0435"  # a separator and Cyrillic in one value
        event_id = append_event(conn, draft(3, actor=actor, details={"k": "\x1f", "kk": "Қазақ"}))
        [row] = stored(conn, "WHERE id = :id", {"id": event_id})
    with running_pg.superuser(DATABASE) as su:
        database_bytes = su.execute(
            "SELECT oson.event_canonical(id, chain, chain_seq, started_at, ended_at, recorded_at, actor, "
            "action, record_type, record_id, result, source_address, request_id, details) "
            "FROM oson.event WHERE id = %s", (event_id,)).fetchone()[0]
    assert bytes(database_bytes) == canonical_bytes(row)


def test_null_and_empty_text_chain_differently() -> None:
    base = draft(0)
    from oson_operator.domain.event_chain import StoredEvent

    def as_stored(record_id: str | None) -> StoredEvent:
        return StoredEvent(1, 0, 1, base.started_at, base.ended_at, base.ended_at, base.actor, base.action,
                           base.record_type, record_id, base.result, None, None, "{}", GENESIS_HASH, b"")

    assert canonical_bytes(as_stored(None)) != canonical_bytes(as_stored(""))
    assert canonical_bytes(as_stored("-")) != canonical_bytes(as_stored(None))


def test_rollback_gives_the_seq_back(running_pg: PostgresServer) -> None:
    with runtime_engine(running_pg.settings()) as engine, engine.connect() as conn:
        with conn.begin():
            kept = append_event(conn, draft(10))
        transaction = conn.begin()
        append_event(conn, draft(11))
        transaction.rollback()
        with conn.begin():
            after = append_event(conn, draft(12))
        rows = {row.id: row for row in stored(conn, "WHERE id IN (:a, :b)", {"a": kept, "b": after})}
    assert rows[after].chain == rows[kept].chain
    assert rows[after].chain_seq == rows[kept].chain_seq + 1
    assert rows[after].prev_hash == rows[kept].hash


def test_concurrent_writers_keep_every_chain_whole(running_pg: PostgresServer) -> None:
    threads, per_thread = 8, 200
    errors_seen: list[BaseException] = []
    marker = f"concurrency-{threading.get_ident()}"

    with runtime_engine(running_pg.settings(database_pool_size=threads)) as engine:

        def writer(number: int) -> None:
            try:
                for i in range(per_thread):
                    with engine.begin() as conn:
                        append_event(conn, draft(i, action=marker, actor=f"staff:w{number}"))
            except BaseException as exc:  # pragma: no cover - reported below
                errors_seen.append(exc)

        workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
        assert not errors_seen, errors_seen
        with engine.connect() as conn:
            count = conn.execute(text("SELECT count(*) FROM oson.event WHERE action = :a"),
                                 {"a": marker}).one()
            rows = stored(conn)
    assert count[0] == threads * per_thread
    previous: dict[int, tuple[int, bytes]] = {}
    for row in rows:
        seq, prev = previous.get(row.chain, (0, GENESIS_HASH))
        assert row.chain_seq == seq + 1, row.where
        assert row.prev_hash == prev, row.where
        assert chain_hash(row.prev_hash, row) == row.hash, row.where
        previous[row.chain] = (row.chain_seq, row.hash)


def test_naive_timestamps_are_refused(running_pg: PostgresServer) -> None:
    naive = EventDraft(action="x", actor="anonymous", result="ok", started_at=datetime(2026, 1, 1),
                       ended_at=datetime(2026, 1, 1))
    with runtime_engine(running_pg.settings()) as engine, engine.begin() as conn, \
            pytest.raises(ValueError, match="timezone-aware"):
        append_event(conn, naive)


def _runtime(server: PostgresServer) -> psycopg.Connection:
    return psycopg.connect(host="127.0.0.1", port=server.port, dbname=DATABASE, user=RUNTIME,
                           password=PASSWORDS[RUNTIME], autocommit=True, sslmode="disable")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE oson.event SET result = 'tampered'",
        "DELETE FROM oson.event",
        "TRUNCATE oson.event",
        "UPDATE oson.event_checkpoint SET key_id = 'x'",
        "DELETE FROM oson.event_checkpoint",
        "TRUNCATE oson.event_checkpoint",
        "SELECT * FROM oson.event_chain_head",
        "UPDATE oson.event_chain_head SET seq = 0",
        "DELETE FROM oson.event_chain_head",
    ],
)
def test_runtime_login_cannot_change_the_log(running_pg: PostgresServer, statement: str) -> None:
    with _runtime(running_pg) as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute(statement)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "statement",
    ["UPDATE oson.event SET result = 'tampered'", "DELETE FROM oson.event", "TRUNCATE oson.event",
     "TRUNCATE oson.event_checkpoint", "TRUNCATE oson.event_chain_head"],
)
def test_even_the_owner_is_stopped_by_the_guard_triggers(running_pg: PostgresServer, statement: str) -> None:
    with running_pg.superuser(DATABASE) as conn:
        conn.execute("SET ROLE oson_owner")
        with pytest.raises(errors.InsufficientPrivilege, match="append-only"):
            conn.execute(statement)  # type: ignore[arg-type]
