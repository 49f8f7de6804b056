"""The event log's storage: append (inside the caller's transaction), checkpoints, verification."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, Engine, text

from oson_operator.domain.event_chain import (
    CHAINS,
    GENESIS_HASH,
    ChainHead,
    Checkpoint,
    Problem,
    StoredEvent,
    Verifier,
    VerifyReport,
    checkpoint_from_export,
    epoch_micros,
    export_document,
    heads_document,
    heads_from_document,
    private_key_from_pem,
    public_key_from_pem,
    sign_checkpoint,
)
from oson_operator.domain.events import EventDraft

log = logging.getLogger(__name__)

# Only one app VM writes a given periodic checkpoint (transaction-level advisory lock).
CHECKPOINT_LOCK_KEY = 0x05_0A_0E_02

# Public so that a caller can append the event in the same statement as its last write (one round trip).
INSERT_EVENT_SQL = (
    "INSERT INTO oson.event (started_at, ended_at, actor, action, record_type, record_id, result, "
    "source_address, request_id, details) VALUES (:started_at, :ended_at, :actor, :action, :record_type, "
    ":record_id, :result, :source_address, :request_id, CAST(:details AS jsonb)) RETURNING id"
)
_INSERT = text(INSERT_EVENT_SQL)


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


def event_parameters(draft: EventDraft) -> dict[str, Any]:
    """The bind parameters of ``INSERT_EVENT_SQL`` for one event."""
    details = json.dumps(_json_ready(dict(draft.details)), ensure_ascii=False, separators=(",", ":"),
                         allow_nan=False)
    return {
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
    }


def append_event(connection: Connection, draft: EventDraft) -> int:
    """Append one event in the caller's transaction and return its id.

    The insert trigger chains the row (chain, chain_seq, prev_hash, hash, recorded_at). It locks
    the chain's head row until the caller commits, so: call this in a READ COMMITTED transaction
    (the default), and preferably as one of the last statements, after the business rows are
    locked; a rollback removes the event together with the business change.
    """
    row = connection.execute(_INSERT, event_parameters(draft)).one()
    return int(row[0])


# --- Keys ------------------------------------------------------------------------------------------


class EventKeyError(Exception):
    """A signing or verification key cannot be used; the message says what to fix."""


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key that signs checkpoints (PEM, unencrypted, e.g. from ``events keygen``)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EventKeyError(f"cannot read the signing key {path}: {exc.strerror or exc}; "
                            "create one with `oson-operator events keygen --out FILE`") from None
    try:
        return private_key_from_pem(data)
    except ValueError as exc:
        raise EventKeyError(f"{path}: {exc}; create one with `oson-operator events keygen --out FILE`") from None


def load_public_key(path: Path) -> Ed25519PublicKey:
    """A verification key: a PEM public key, or the private key file it belongs to."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EventKeyError(f"cannot read the public key {path}: {exc.strerror or exc}") from None
    try:
        return public_key_from_pem(data)
    except ValueError as exc:
        raise EventKeyError(f"{path}: {exc}") from None


# --- Checkpoints -----------------------------------------------------------------------------------

_COMMITTED_HEADS = text(
    "SELECT c.chain, coalesce(e.chain_seq, 0), e.hash FROM generate_series(0, :last) AS c(chain) "
    "LEFT JOIN LATERAL (SELECT chain_seq, hash FROM oson.event WHERE chain = c.chain "
    "ORDER BY chain_seq DESC LIMIT 1) e ON true ORDER BY c.chain"
)


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection in a REPEATABLE READ transaction: one consistent snapshot, committed at the end."""
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection, connection.begin():
        yield connection


def committed_heads(connection: Connection) -> dict[int, ChainHead]:
    """The last committed event of each chain, as this transaction's snapshot sees it.

    Read from oson.event, not from the head table: a head row may carry an update of a transaction
    that has not committed yet, and a checkpoint must only name committed events.
    """
    rows = connection.execute(_COMMITTED_HEADS, {"last": CHAINS - 1})
    return {int(chain): ChainHead(int(seq), bytes(digest) if digest is not None else GENESIS_HASH)
            for chain, seq, digest in rows}


def _checkpoint(row: Any) -> Checkpoint:
    return Checkpoint(id=int(row[0]), created_at=row[1], heads=heads_from_document(row[2]), key_id=row[3],
                      signature=bytes(row[4]))


_CHECKPOINT_COLUMNS = "id, created_at, heads, key_id, signature"


def latest_checkpoint(connection: Connection) -> Checkpoint | None:
    row = connection.execute(text(
        f"SELECT {_CHECKPOINT_COLUMNS} FROM oson.event_checkpoint ORDER BY id DESC LIMIT 1")).first()
    return _checkpoint(row) if row is not None else None


def write_checkpoint(
    engine: Engine,
    private_key: Ed25519PrivateKey,
    export_dir: Path | None = None,
    *,
    skip_if_busy: bool = False,
    skip_if_unchanged: bool = False,
) -> Checkpoint | None:
    """Sign the committed heads of every chain, store the checkpoint, and export it to ``export_dir``.

    One REPEATABLE READ snapshot gives heads that name committed events only. With
    ``skip_if_busy`` nothing is written when another process holds the checkpoint lock; with
    ``skip_if_unchanged`` nothing is written when no event arrived since the latest checkpoint.
    Returns the checkpoint written, or None when skipped. The file is written after the commit.
    """
    with _snapshot(engine) as connection:
        if skip_if_busy:
            locked = connection.execute(text("SELECT pg_try_advisory_xact_lock(:key)"),
                                        {"key": CHECKPOINT_LOCK_KEY}).scalar_one()
            if not locked:
                return None
        else:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHECKPOINT_LOCK_KEY})
        heads = committed_heads(connection)
        if skip_if_unchanged:
            previous = latest_checkpoint(connection)
            if (dict(previous.heads) == heads if previous is not None
                    else all(head.seq == 0 for head in heads.values())):
                return None
        created_at = connection.execute(text("SELECT clock_timestamp()")).scalar_one()
        signer, signature = sign_checkpoint(private_key, created_at, heads)
        checkpoint_id = connection.execute(
            text("INSERT INTO oson.event_checkpoint (created_at, heads, key_id, signature) "
                 "VALUES (:created_at, CAST(:heads AS jsonb), :key_id, :signature) RETURNING id"),
            {"created_at": created_at, "heads": json.dumps(heads_document(heads)), "key_id": signer,
             "signature": signature},
        ).scalar_one()
    checkpoint = Checkpoint(int(checkpoint_id), created_at, heads, signer, signature)
    if export_dir is not None:
        export_checkpoint(checkpoint, export_dir)
    return checkpoint


def export_checkpoint(checkpoint: Checkpoint, export_dir: Path) -> Path:
    """Write ``<UTC timestamp>-<id>.json`` atomically (temporary file, then rename)."""
    stamp = checkpoint.created_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    path = export_dir / f"{stamp}-{checkpoint.id}.json"
    temporary = export_dir / f".{path.name}.tmp"
    body = json.dumps(export_document(checkpoint), indent=2, sort_keys=True) + "\n"
    try:
        export_dir.mkdir(parents=True, exist_ok=True)
        with open(temporary, "w", encoding="ascii") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        raise OSError(f"checkpoint {checkpoint.id} is stored in the database but could not be exported to "
                      f"{export_dir}: {exc}; check OSON_EVENT_CHECKPOINT_DIR") from None
    return path


def read_exported_checkpoints(export_dir: Path) -> Iterator[Checkpoint | Problem]:
    """Every ``*.json`` checkpoint file of ``export_dir``, or a Problem for one that cannot be read."""
    for path in sorted(export_dir.glob("*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            yield checkpoint_from_export(document, str(path))
        except (OSError, ValueError) as exc:
            yield Problem("checkpoint_file", f"exported checkpoint {path} cannot be read: {exc}")


# --- Verification ----------------------------------------------------------------------------------

_STORED_COLUMNS = (
    "id, chain, chain_seq, started_at, ended_at, recorded_at, actor, action, record_type, record_id, result, "
    "source_address, request_id, details::text, prev_hash, hash"
)


def _stored(row: Sequence[Any]) -> StoredEvent:
    return StoredEvent(
        int(row[0]), int(row[1]), int(row[2]), row[3], row[4], row[5], row[6], row[7], row[8], row[9],
        row[10], row[11], row[12], row[13], bytes(row[14]), bytes(row[15]),
    )


def verify_events(
    connection: Connection,
    public_key: Ed25519PublicKey | Sequence[Ed25519PublicKey] | None,
    exported_checkpoints_dir: Path | None = None,
) -> VerifyReport:
    """Check every chain, every checkpoint signature and (if given) every exported checkpoint.

    Run it in a REPEATABLE READ transaction (``verify_event_log`` does) so that the rows, the chain
    heads and the checkpoints are one consistent snapshot while writers go on appending. With
    ``public_key`` None, signatures are not checked (the report says so).
    """
    keys: list[Ed25519PublicKey] | None
    if public_key is None:
        keys = None
    elif isinstance(public_key, Ed25519PublicKey):
        keys = [public_key]
    else:
        keys = list(public_key)
    heads = {int(chain): ChainHead(int(seq), bytes(digest)) for chain, seq, digest in
             connection.execute(text("SELECT chain, seq, hash FROM oson.event_chain_heads()"))}
    verifier = Verifier(public_keys=keys, chain_heads=heads)
    # Streaming is asked per statement: Connection.execution_options() would change the caller's
    # connection for good, and its later statements (a RELEASE SAVEPOINT) would become cursors too.
    rows = connection.execute(text(f"SELECT {_CHECKPOINT_COLUMNS} FROM oson.event_checkpoint ORDER BY id"),
                              execution_options={"stream_results": True, "yield_per": 2000})
    for row in rows:
        verifier.add_checkpoint(_checkpoint(row))
    if exported_checkpoints_dir is not None:
        if not exported_checkpoints_dir.is_dir():
            raise EventKeyError(f"{exported_checkpoints_dir} is not a directory of exported checkpoints")
        batch: list[Checkpoint] = []
        for item in read_exported_checkpoints(exported_checkpoints_dir):
            if isinstance(item, Problem):
                verifier.add_problem(item)
                continue
            batch.append(item)
            if len(batch) >= 1000:
                _add_exported(connection, verifier, batch)
                batch = []
        _add_exported(connection, verifier, batch)
    events = connection.execute(text(f"SELECT {_STORED_COLUMNS} FROM oson.event ORDER BY chain, chain_seq"),
                                execution_options={"stream_results": True, "yield_per": 5000})
    for row in events:
        verifier.feed(_stored(row))
    return verifier.finish()


def _add_exported(connection: Connection, verifier: Verifier, batch: list[Checkpoint]) -> None:
    if not batch:
        return
    rows = connection.execute(
        text(f"SELECT {_CHECKPOINT_COLUMNS} FROM oson.event_checkpoint WHERE id = ANY(:ids)"),
        {"ids": [checkpoint.id for checkpoint in batch]})
    stored = {checkpoint.id: checkpoint for checkpoint in map(_checkpoint, rows)}
    for exported in batch:
        verifier.add_exported(exported, stored.get(exported.id))


def verify_event_log(
    engine: Engine,
    public_key: Ed25519PublicKey | Sequence[Ed25519PublicKey] | None,
    exported_checkpoints_dir: Path | None = None,
) -> VerifyReport:
    """``verify_events`` in its own read-only REPEATABLE READ transaction, without a statement timeout."""
    with _snapshot(engine) as connection:
        connection.execute(text("SET TRANSACTION READ ONLY"))
        connection.execute(text("SET LOCAL statement_timeout = 0"))
        return verify_events(connection, public_key, exported_checkpoints_dir)


# --- Queries ---------------------------------------------------------------------------------------

MAX_PAGE = 500


@dataclass(frozen=True)
class EventFilter:
    """Filters of the event list; every field optional. ``started_from`` inclusive, ``started_to`` not."""

    started_from: datetime | None = None
    started_to: datetime | None = None
    actor: str | None = None
    action: str | None = None
    record_type: str | None = None
    record_id: str | None = None
    result: str | None = None


@dataclass(frozen=True)
class EventRow:
    id: int
    started_at: datetime
    ended_at: datetime
    recorded_at: datetime
    actor: str
    action: str
    record_type: str | None
    record_id: str | None
    result: str
    source_address: str | None
    request_id: str | None
    details: dict[str, Any]
    chain: int
    chain_seq: int
    hash: str


@dataclass(frozen=True)
class EventCursor:
    """Where the next page starts: strictly older than (started_at, id). Text form ``<epoch us>:<id>``."""

    started_at: datetime
    id: int

    def encode(self) -> str:
        return f"{epoch_micros(self.started_at)}:{self.id}"

    @classmethod
    def decode(cls, value: str) -> EventCursor:
        """ValueError unless ``value`` came from ``encode``."""
        micros, _, event_id = value.partition(":")
        try:
            return cls(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(micros)), int(event_id))
        except (ValueError, OverflowError):
            raise ValueError(f"not an event cursor: {value!r}") from None


def list_events(connection: Connection, filters: EventFilter, *, limit: int = 100,
                before: EventCursor | None = None) -> list[EventRow]:
    """Events matching ``filters``, newest ``started_at`` first (ties: highest id first).

    Page on with ``before`` = the cursor of the last row seen. Both the time range and the order
    follow the (started_at, id) index, so a page costs the same however large the log grows.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be 1..{MAX_PAGE}")
    clauses: list[str] = []
    params: dict[str, object] = {"limit": limit}
    for column, operator, value in (
        ("started_at", ">=", filters.started_from),
        ("started_at", "<", filters.started_to),
        ("actor", "=", filters.actor),
        ("action", "=", filters.action),
        ("record_type", "=", filters.record_type),
        ("record_id", "=", filters.record_id),
        ("result", "=", filters.result),
    ):
        if value is not None:
            name = f"p{len(params)}"
            clauses.append(f"{column} {operator} :{name}")
            params[name] = value
    if before is not None:
        clauses.append("(started_at, id) < (:before_at, :before_id)")
        params.update(before_at=before.started_at, before_id=before.id)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = connection.execute(text(
        "SELECT id, started_at, ended_at, recorded_at, actor, action, record_type, record_id, result, "
        f"source_address, request_id, details, chain, chain_seq, hash FROM oson.event {where} "
        "ORDER BY started_at DESC, id DESC LIMIT :limit"), params)
    return [EventRow(*row[:14], bytes(row[14]).hex()) for row in rows]
