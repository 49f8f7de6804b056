"""SQL of counterparty keys and the electronic document archive (migration 0006)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from oson_operator.domain.errors import Conflict
from oson_operator.storage.where import Where


@dataclass(frozen=True)
class KeyRow:
    id: str
    counterparty: str
    participant_id: str | None
    kind: str
    algorithm: str
    material: str
    fingerprint: str
    subject: str | None
    valid_from: datetime | None
    valid_to: datetime | None
    added_at: datetime
    added_by: str
    revoked_at: datetime | None
    revoked_by: str | None
    revoked_reason: str | None


_KEY_COLUMNS = ("id::text, counterparty, participant_id::text, kind, algorithm, material, fingerprint, subject, "
                "valid_from, valid_to, added_at, added_by, revoked_at, revoked_by, revoked_reason")


def insert_key(conn: Connection, **values: Any) -> KeyRow:
    savepoint = conn.begin_nested()
    try:
        row = conn.execute(text(f"""
            INSERT INTO oson.counterparty_key (counterparty, participant_id, kind, algorithm, material, fingerprint,
                subject, valid_from, valid_to, added_at, added_by)
            VALUES (:counterparty, CAST(:participant_id AS uuid), :kind, :algorithm, :material, :fingerprint,
                :subject, :valid_from, :valid_to, :added_at, :added_by)
            RETURNING {_KEY_COLUMNS}"""), values).one()
        savepoint.commit()
    except IntegrityError:
        savepoint.rollback()
        raise Conflict("DOCUMENT_KEY_EXISTS", params={"fingerprint": values["fingerprint"]}) from None
    return KeyRow(*row)


def get_key(conn: Connection, key_id: str, *, lock: bool = False) -> KeyRow | None:
    row = conn.execute(text(f"SELECT {_KEY_COLUMNS} FROM oson.counterparty_key WHERE id = CAST(:id AS uuid)"
                            + (" FOR UPDATE" if lock else "")), {"id": key_id}).first()
    return KeyRow(*row) if row else None


def keys_of(conn: Connection, counterparty: str | None) -> list[KeyRow]:
    clause = "WHERE counterparty = :c" if counterparty else ""
    rows = conn.execute(text(f"SELECT {_KEY_COLUMNS} FROM oson.counterparty_key {clause} ORDER BY added_at, id"),
                        {"c": counterparty}).all()
    return [KeyRow(*row) for row in rows]


def revoke_key(conn: Connection, key_id: str, now: datetime, actor: str, reason: str) -> None:
    conn.execute(text("UPDATE oson.counterparty_key SET revoked_at = :now, revoked_by = :actor, "
                      "revoked_reason = :reason WHERE id = CAST(:id AS uuid)"),
                 {"now": now, "actor": actor, "reason": reason, "id": key_id})


@dataclass(frozen=True)
class DocumentRow:
    id: str
    number: int
    direction: str
    status: str
    refusal_code: str | None
    counterparty: str
    doc_type: str
    file_name: str
    media_type: str
    size: int
    content_sha256: str
    has_signature: bool
    key_fingerprint: str | None
    counterparty_key_id: str | None
    note: str | None
    recorded_at: datetime
    recorded_by: str
    request_id: str | None
    retain_until: datetime
    deleted_at: datetime | None
    deleted_by: str | None
    deleted_reason: str | None


_DOC_COLUMNS = ("id::text, number, direction, status, refusal_code, counterparty, doc_type, file_name, media_type, "
                "size, content_sha256, signature IS NOT NULL, key_fingerprint, counterparty_key_id::text, note, "
                "recorded_at, recorded_by, request_id, retain_until, deleted_at, deleted_by, deleted_reason")


def insert_document(conn: Connection, **values: Any) -> DocumentRow:
    row = conn.execute(text(f"""
        INSERT INTO oson.document (direction, status, refusal_code, counterparty, doc_type, file_name, media_type,
            size, content, content_sha256, signature, key_fingerprint, counterparty_key_id, note, recorded_at,
            recorded_by, request_id, retain_until)
        VALUES (:direction, :status, :refusal_code, :counterparty, :doc_type, :file_name, :media_type, :size,
            :content, :content_sha256, :signature, :key_fingerprint, CAST(:counterparty_key_id AS uuid), :note,
            :recorded_at, :recorded_by, :request_id, :retain_until)
        RETURNING {_DOC_COLUMNS}"""), values).one()
    return DocumentRow(*row)


def get_document(conn: Connection, document_id: str, *, lock: bool = False) -> DocumentRow | None:
    row = conn.execute(text(f"SELECT {_DOC_COLUMNS} FROM oson.document WHERE id = CAST(:id AS uuid)"
                            + (" FOR UPDATE" if lock else "")), {"id": document_id}).first()
    return DocumentRow(*row) if row else None


def document_bytes(conn: Connection, document_id: str, part: str) -> bytes | None:
    column = {"content": "content", "signature": "signature"}[part]
    row = conn.execute(text(f"SELECT {column} FROM oson.document WHERE id = CAST(:id AS uuid)"),
                       {"id": document_id}).first()
    return bytes(row[0]) if row and row[0] is not None else None


def list_documents(conn: Connection, *, direction: str | None, status: str | None, counterparty: str | None,
                   recorded_from: datetime | None, recorded_to: datetime | None, limit: int,
                   offset: int) -> list[DocumentRow]:
    where = Where().equal("direction", direction).equal("status", status).equal("counterparty", counterparty)
    where.time_range("recorded_at", recorded_from, recorded_to)
    rows = conn.execute(text(f"SELECT {_DOC_COLUMNS} FROM oson.document WHERE {where.sql} "
                             "ORDER BY recorded_at DESC, number DESC LIMIT :limit OFFSET :offset"),
                        where.page(limit, offset)).all()
    return [DocumentRow(*row) for row in rows]


def purge_document(conn: Connection, document_id: str, now: datetime, actor: str, reason: str) -> None:
    conn.execute(text("UPDATE oson.document SET content = NULL, signature = NULL, deleted_at = :now, "
                      "deleted_by = :actor, deleted_reason = :reason WHERE id = CAST(:id AS uuid)"),
                 {"now": now, "actor": actor, "reason": reason, "id": document_id})
