"""Verification: an intact log passes; each kind of tampering is caught and the first bad record named.

Every tampering test works on a database of its own (``scratch_database``), as the superuser with
the guard triggers off, so the shared database stays intact for the other tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import PostgresServer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from events_support import draft, scratch_database, stored, superuser_tamper
from sqlalchemy import Engine, text

from oson_operator.domain.event_chain import StoredEvent, key_id
from oson_operator.storage.engine import create_database_engine
from oson_operator.storage.events import append_event, verify_event_log, write_checkpoint


@dataclass
class Log:
    server: PostgresServer
    database: str
    engine: Engine
    key: Ed25519PrivateKey

    def rows(self) -> list[StoredEvent]:
        with self.engine.connect() as conn:
            return stored(conn)

    def chain(self, chain: int) -> list[StoredEvent]:
        return [row for row in self.rows() if row.chain == chain]

    def busiest_chain(self) -> list[StoredEvent]:
        rows = self.rows()
        chain = max({row.chain for row in rows}, key=lambda c: sum(r.chain == c for r in rows))
        return [row for row in rows if row.chain == chain]

    def tamper(self, *statements: str) -> None:
        superuser_tamper(self.server, self.database, *statements)

    def verify(self, exported: Path | None = None):  # type: ignore[no-untyped-def]
        return verify_event_log(self.engine, self.key.public_key(), exported)


@pytest.fixture()
def log(running_pg: PostgresServer) -> Iterator[Log]:
    with scratch_database(running_pg) as settings:
        engine = create_database_engine(settings)
        try:
            # Two connections at once: two chains (different backends), 12 events each.
            with engine.connect() as first, engine.connect() as second:
                for n in range(12):
                    with first.begin():
                        append_event(first, draft(n, actor="staff:first"))
                    with second.begin():
                        append_event(second, draft(100 + n, actor="client:second", record_id=None))
            yield Log(running_pg, settings.database_name, engine, Ed25519PrivateKey.generate())
        finally:
            engine.dispose()


def test_an_intact_log_verifies(log: Log) -> None:
    write_checkpoint(log.engine, log.key)
    with log.engine.begin() as conn:
        append_event(conn, draft(50))
    report = log.verify()
    assert report.ok, report.problems
    assert report.events_checked == 25
    assert report.checkpoints_checked == 1 and report.signatures_checked
    assert sum(chain.events for chain in report.chains) == 25


def test_an_edited_row_is_named(log: Log) -> None:
    victim = log.busiest_chain()[4]
    log.tamper(f"UPDATE oson.event SET result = 'ok-edited' WHERE id = {victim.id}")
    problem = log.verify().first_problem
    assert problem is not None
    assert (problem.kind, problem.event_id, problem.chain, problem.seq) == (
        "hash_mismatch", victim.id, victim.chain, victim.chain_seq)
    assert f"event id {victim.id}" in problem.message


def test_an_edited_and_rehashed_row_is_named(log: Log) -> None:
    victim = log.busiest_chain()[4]
    log.tamper(
        f"UPDATE oson.event SET details = '{{\"n\": 999}}' WHERE id = {victim.id}",
        "UPDATE oson.event SET hash = sha256(prev_hash || oson.event_canonical(id, chain, chain_seq, "
        "started_at, ended_at, recorded_at, actor, action, record_type, record_id, result, source_address, "
        f"request_id, details)) WHERE id = {victim.id}",
    )
    problem = log.verify().first_problem
    assert problem is not None
    assert (problem.kind, problem.event_id, problem.seq) == ("rehashed", victim.id, victim.chain_seq)


def test_a_deleted_row_is_named(log: Log) -> None:
    chain = log.busiest_chain()
    victim, after = chain[4], chain[5]
    log.tamper(f"DELETE FROM oson.event WHERE id = {victim.id}")
    problem = log.verify().first_problem
    assert problem is not None
    assert (problem.kind, problem.event_id, problem.chain, problem.seq) == (
        "gap", after.id, after.chain, after.chain_seq)
    assert (problem.missing_from, problem.missing_to) == (victim.chain_seq, victim.chain_seq)
    assert f"seq {victim.chain_seq} missing" in problem.message


def test_swapped_rows_are_named(log: Log) -> None:
    chain = log.busiest_chain()
    a, b = chain[3], chain[4]
    log.tamper(
        f"UPDATE oson.event SET chain_seq = -1 WHERE id = {a.id}",
        f"UPDATE oson.event SET chain_seq = {a.chain_seq} WHERE id = {b.id}",
        f"UPDATE oson.event SET chain_seq = {b.chain_seq} WHERE id = {a.id}",
    )
    problem = log.verify().first_problem
    assert problem is not None
    # Walking by seq, the first row out of place is b, now at a's seq.
    assert (problem.kind, problem.event_id, problem.seq) == ("hash_mismatch", b.id, a.chain_seq)


def test_swapped_contents_are_named(log: Log) -> None:
    chain = log.busiest_chain()
    a, b = chain[6], chain[7]
    columns = "started_at, ended_at, recorded_at, actor, action, record_type, record_id, result, " \
              "source_address, request_id, details, prev_hash, hash"
    sets = ", ".join(f"{c} = o.{c}" for c in columns.split(", "))
    log.tamper(
        f"UPDATE oson.event e SET {sets} FROM (SELECT CASE id WHEN {a.id} THEN {b.id} ELSE {a.id} END AS target, "
        f"{columns} FROM oson.event WHERE id IN ({a.id}, {b.id})) o WHERE e.id = o.target"
    )
    problem = log.verify().first_problem
    assert problem is not None
    assert (problem.kind, problem.event_id, problem.seq) == ("hash_mismatch", a.id, a.chain_seq)


def test_truncation_is_named_by_the_checkpoint(log: Log) -> None:
    write_checkpoint(log.engine, log.key)
    chain = log.busiest_chain()
    kept, first_gone, last = chain[8], chain[9], chain[-1]
    # The attacker deletes the latest rows and puts the chain head back to match.
    log.tamper(
        f"DELETE FROM oson.event WHERE chain = {kept.chain} AND chain_seq > {kept.chain_seq}",
        f"UPDATE oson.event_chain_head SET seq = {kept.chain_seq}, hash = '\\x{kept.hash.hex()}' "
        f"WHERE chain = {kept.chain}",
    )
    report = log.verify()
    problem = report.first_problem
    assert problem is not None
    assert problem.kind == "truncated"
    assert (problem.chain, problem.seq, problem.missing_to) == (kept.chain, first_gone.chain_seq, last.chain_seq)
    assert problem.checkpoint_id == report.latest_checkpoint.id  # type: ignore[union-attr]
    assert f"the first missing is seq {first_gone.chain_seq}" in problem.message
    assert f"event id {kept.id}" in problem.message


def test_truncation_without_a_checkpoint_is_named_by_the_chain_head(log: Log) -> None:
    chain = log.busiest_chain()
    kept, first_gone = chain[9], chain[10]
    log.tamper(f"DELETE FROM oson.event WHERE chain = {kept.chain} AND chain_seq > {kept.chain_seq}")
    problem = log.verify().first_problem
    assert problem is not None
    assert (problem.kind, problem.seq, problem.event_id) == ("truncated", first_gone.chain_seq, kept.id)
    assert "chain head" in problem.message


def test_a_rewritten_tail_is_caught_by_the_checkpoint(log: Log) -> None:
    write_checkpoint(log.engine, log.key)
    chain = log.busiest_chain()
    last = chain[-1]
    # Change the last row, rehash it and fix the head: only the signed checkpoint can tell.
    log.tamper(
        f"UPDATE oson.event SET result = 'denied' WHERE id = {last.id}",
        "UPDATE oson.event SET hash = sha256(prev_hash || oson.event_canonical(id, chain, chain_seq, "
        "started_at, ended_at, recorded_at, actor, action, record_type, record_id, result, source_address, "
        f"request_id, details)) WHERE id = {last.id}",
        f"UPDATE oson.event_chain_head h SET hash = e.hash FROM oson.event e WHERE e.id = {last.id} "
        "AND h.chain = e.chain",
    )
    problem = log.verify().first_problem
    assert problem is not None
    assert (problem.kind, problem.event_id, problem.seq) == ("checkpoint_mismatch", last.id, last.chain_seq)


def test_a_tampered_checkpoint_signature_is_caught(log: Log) -> None:
    checkpoint = write_checkpoint(log.engine, log.key)
    assert checkpoint is not None
    chain = log.busiest_chain()[0].chain
    log.tamper(
        f"UPDATE oson.event_checkpoint SET heads = jsonb_set(heads, '{{{chain},seq}}', '1') "
        f"WHERE id = {checkpoint.id}"
    )
    report = log.verify()
    assert [(p.kind, p.checkpoint_id) for p in report.problems] == [("checkpoint_signature", checkpoint.id)]


def test_a_checkpoint_by_an_unknown_key_is_reported(log: Log) -> None:
    write_checkpoint(log.engine, Ed25519PrivateKey.generate())
    report = log.verify()
    assert [p.kind for p in report.problems] == ["checkpoint_unknown_key"]
    assert key_id(log.key.public_key()) in report.problems[0].message


def test_exported_checkpoints_catch_deleted_checkpoint_rows_and_truncation(log: Log, tmp_path: Path) -> None:
    first = write_checkpoint(log.engine, log.key, tmp_path)
    assert first is not None
    files = sorted(tmp_path.glob("*.json"))
    assert len(files) == 1 and files[0].name.endswith(f"-{first.id}.json")
    assert json.loads(files[0].read_text())["checkpoint_id"] == first.id
    assert log.verify(tmp_path).ok
    # Wipe everything the database holds: events, checkpoints, heads.
    log.tamper("TRUNCATE oson.event, oson.event_checkpoint",
               "UPDATE oson.event_chain_head SET seq = 0, hash = '\\x" + "00" * 32 + "'")
    without_files = log.verify()
    assert without_files.ok  # nothing left in the database can tell...
    report = log.verify(tmp_path)  # ...the exported checkpoint can
    kinds = sorted({problem.kind for problem in report.problems})
    assert kinds == ["checkpoint_missing", "truncated"]
    missing = next(p for p in report.problems if p.kind == "checkpoint_missing")
    assert missing.checkpoint_id == first.id and str(files[0]) in missing.message


def test_write_checkpoint_skips_when_nothing_changed(log: Log) -> None:
    assert write_checkpoint(log.engine, log.key, skip_if_unchanged=True) is not None
    assert write_checkpoint(log.engine, log.key, skip_if_unchanged=True) is None
    with log.engine.begin() as conn:
        append_event(conn, draft(77))
    again = write_checkpoint(log.engine, log.key, skip_if_unchanged=True)
    assert again is not None
    with log.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM oson.event_checkpoint")).scalar_one() == 2


def test_checkpoint_heads_name_only_committed_events(log: Log) -> None:
    with log.engine.connect() as writer:
        transaction = writer.begin()
        append_event(writer, draft(88))  # uncommitted: its chain head row is updated but not committed
        checkpoint = write_checkpoint(log.engine, log.key)
        transaction.rollback()
    assert checkpoint is not None
    assert log.verify().ok


def test_only_one_process_writes_a_periodic_checkpoint(log: Log) -> None:
    from oson_operator.storage.events import CHECKPOINT_LOCK_KEY

    with log.engine.connect() as other, other.begin():
        other.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHECKPOINT_LOCK_KEY})
        assert write_checkpoint(log.engine, log.key, skip_if_busy=True) is None
    assert write_checkpoint(log.engine, log.key, skip_if_busy=True) is not None


def test_a_row_forged_past_the_chain_head_is_named(log: Log) -> None:
    last = log.busiest_chain()[-1]
    # A well-chained row inserted with the trigger off: only the chain head (or a later checkpoint) tells.
    log.tamper(
        "INSERT INTO oson.event (chain, chain_seq, started_at, ended_at, recorded_at, actor, action, result, "
        "prev_hash, hash) SELECT chain, chain_seq + 1, started_at, ended_at, recorded_at, actor, 'forged', "
        f"'ok', hash, '\\x00' FROM oson.event WHERE id = {last.id}",
        "UPDATE oson.event SET hash = sha256(prev_hash || oson.event_canonical(id, chain, chain_seq, "
        "started_at, ended_at, recorded_at, actor, action, record_type, record_id, result, source_address, "
        "request_id, details)) WHERE action = 'forged'",
    )
    forged = log.chain(last.chain)[-1]
    assert forged.action == "forged" and forged.chain_seq == last.chain_seq + 1
    problem = log.verify().first_problem
    assert problem is not None
    assert (problem.kind, problem.event_id, problem.seq) == ("extra", forged.id, forged.chain_seq)
