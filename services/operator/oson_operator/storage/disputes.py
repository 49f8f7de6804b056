"""SQL of the register of written claims (§XVIII) and its append-only history (migration 0006)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from oson_operator.storage.where import Where


@dataclass(frozen=True)
class DisputeRow:
    id: str
    number: int
    claimant_name: str
    participant_id: str | None
    contact: str
    channel: str
    subject: str
    claim: str
    operation_id: str | None
    received_at: datetime
    due_at: datetime
    status: str
    answer: str | None
    answered_at: datetime | None
    answered_by: str | None
    recorded_at: datetime
    recorded_by: str


_COLUMNS = ("id::text, number, claimant_name, participant_id::text, contact, channel, subject, claim, "
            "operation_id::text, received_at, due_at, status, answer, answered_at, answered_by, recorded_at, "
            "recorded_by")


def insert_dispute(conn: Connection, **values: Any) -> DisputeRow:
    row = conn.execute(text(f"""
        INSERT INTO oson.dispute (claimant_name, participant_id, contact, channel, subject, claim, operation_id,
            received_at, due_at, status, recorded_at, recorded_by)
        VALUES (:claimant_name, CAST(:participant_id AS uuid), :contact, :channel, :subject, :claim,
            CAST(:operation_id AS uuid), :received_at, :due_at, 'registered', :recorded_at, :recorded_by)
        RETURNING {_COLUMNS}"""), values).one()
    return DisputeRow(*row)


def get_dispute(conn: Connection, dispute_id: str, *, lock: bool = False) -> DisputeRow | None:
    row = conn.execute(text(f"SELECT {_COLUMNS} FROM oson.dispute WHERE id = CAST(:id AS uuid)"
                            + (" FOR UPDATE" if lock else "")), {"id": dispute_id}).first()
    return DisputeRow(*row) if row else None


def exists(conn: Connection, table: str, row_id: str) -> bool:
    if table not in ("participant", "operation"):
        raise ValueError(table)
    return conn.execute(text(f"SELECT 1 FROM oson.{table} WHERE id = CAST(:id AS uuid)"), {"id": row_id}).first() \
        is not None


def set_status(conn: Connection, dispute_id: str, status: str, *, answer: str | None = None,
               answered_at: datetime | None = None, answered_by: str | None = None) -> None:
    conn.execute(text(
        "UPDATE oson.dispute SET status = :status, answer = coalesce(:answer, answer), "
        "answered_at = coalesce(:at, answered_at), answered_by = coalesce(:by, answered_by) "
        "WHERE id = CAST(:id AS uuid)"),
        {"status": status, "answer": answer, "at": answered_at, "by": answered_by, "id": dispute_id})


def add_step(conn: Connection, dispute_id: str, action: str, status: str, note: str | None, at: datetime,
             by: str) -> None:
    conn.execute(text(
        "INSERT INTO oson.dispute_step (dispute_id, action, status, note, at, by) "
        "VALUES (CAST(:id AS uuid), :action, :status, :note, :at, :by)"),
        {"id": dispute_id, "action": action, "status": status, "note": note, "at": at, "by": by})


def steps(conn: Connection, dispute_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(text(
        "SELECT action, status, note, at, by FROM oson.dispute_step WHERE dispute_id = CAST(:id AS uuid) "
        "ORDER BY id"), {"id": dispute_id}).mappings().all()
    return [{**row, "at": row["at"].isoformat()} for row in rows]


def list_disputes(conn: Connection, *, status: str | None, overdue_at: datetime | None,
                  received_from: datetime | None, received_to: datetime | None, limit: int,
                  offset: int) -> list[DisputeRow]:
    where = Where().equal("status", status)
    where.condition("status <> 'answered' AND due_at <= :overdue_at", overdue_at, overdue_at=overdue_at)
    where.time_range("received_at", received_from, received_to)
    order = "due_at, number" if overdue_at is not None else "received_at DESC, number DESC"
    rows = conn.execute(text(f"SELECT {_COLUMNS} FROM oson.dispute WHERE {where.sql} "
                             f"ORDER BY {order} LIMIT :limit OFFSET :offset"), where.page(limit, offset)).all()
    return [DisputeRow(*row) for row in rows]
