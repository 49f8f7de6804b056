"""SQL of AML/CFT: imported lists, cases (freezes), their history, suspicious-transaction reports."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, text

from oson_operator.domain.aml_lists import ListEntry
from oson_operator.storage.where import Where

IN_FORCE = ("frozen", "under_control")


def insert_list(conn: Connection, *, source: str, list_date: date | None, file_format: str, file_sha256: str,
                entries: Sequence[ListEntry], now: datetime, actor: str) -> str:
    list_id = str(conn.execute(text(
        "INSERT INTO oson.aml_list (source, list_date, format, file_sha256, entries, imported_at, imported_by) "
        "VALUES (:source, :list_date, :format, :sha, :entries, :now, :actor) RETURNING id::text"
    ), {"source": source, "list_date": list_date, "format": file_format, "sha": file_sha256,
        "entries": len(entries), "now": now, "actor": actor}).scalar_one())
    conn.execute(text(
        "INSERT INTO oson.aml_list_entry (list_id, name, name_key, birth_date, iin_bin, identifiers, reference) "
        "VALUES (CAST(:list_id AS uuid), :name, :name_key, :birth_date, :iin_bin, CAST(:identifiers AS jsonb), "
        ":reference)"
    ), [{"list_id": list_id, "name": e.name, "name_key": e.name_key, "birth_date": e.birth_date,
         "iin_bin": e.iin_bin, "identifiers": json.dumps(list(e.identifiers)), "reference": e.reference}
        for e in entries])
    return list_id


@dataclass(frozen=True)
class EntryRow:
    id: int
    name: str
    name_key: str
    birth_date: date | None
    iin_bin: str | None
    reference: str | None


def current_list(conn: Connection) -> dict[str, Any] | None:
    row = conn.execute(text(
        "SELECT id::text, source, list_date, format, file_sha256, entries, imported_at, imported_by "
        "FROM oson.aml_list ORDER BY number DESC LIMIT 1")).mappings().first()
    return dict(row) if row else None


def list_entries(conn: Connection, list_id: str) -> list[EntryRow]:
    rows = conn.execute(text(
        "SELECT id, name, name_key, birth_date, iin_bin, reference FROM oson.aml_list_entry "
        "WHERE list_id = CAST(:id AS uuid) ORDER BY id"), {"id": list_id}).all()
    return [EntryRow(*row) for row in rows]


def candidate_entries(conn: Connection, list_id: str, name_key: str, iin_bin: str | None) -> list[EntryRow]:
    rows = conn.execute(text(
        "SELECT id, name, name_key, birth_date, iin_bin, reference FROM oson.aml_list_entry "
        "WHERE list_id = CAST(:id AS uuid) AND (name_key = :key OR (iin_bin IS NOT NULL AND iin_bin = :iin)) "
        "ORDER BY id"), {"id": list_id, "key": name_key, "iin": iin_bin}).all()
    return [EntryRow(*row) for row in rows]


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    iin_bin: str
    birth_date: date | None


def all_participants(conn: Connection, batch: int = 5000) -> Iterator[Person]:
    """Every participant, streamed (a server-side cursor: a million rows never sit in memory at once)."""
    # Options on the statement, not the connection: later statements of the transaction stay ordinary.
    result = conn.execute(text("SELECT id::text, name, iin_bin, birth_date FROM oson.participant ORDER BY id")
                          .execution_options(stream_results=True, yield_per=batch))
    for row in result:
        yield Person(*row)


def participant_person(conn: Connection, participant_id: str) -> Person | None:
    row = conn.execute(text("SELECT id::text, name, iin_bin, birth_date FROM oson.participant "
                            "WHERE id = CAST(:id AS uuid)"), {"id": participant_id}).first()
    return Person(*row) if row else None


def holders_of_operations(conn: Connection, start: datetime, end: datetime) -> list[tuple[str, str]]:
    """(operation id, participant id) of both parties' holders of the completed operations in [start, end)."""
    rows = conn.execute(text("""
        SELECT o.id::text, a.participant_id::text FROM oson.operation o
        JOIN oson.account a ON a.id IN (o.payer_account, o.payee_account) AND a.kind = 'wallet'
        WHERE o.created_at >= :start AND o.created_at < :end AND o.status = 'completed'
        ORDER BY o.created_at, o.id"""), {"start": start, "end": end}).all()
    return [(row[0], row[1]) for row in rows]


@dataclass(frozen=True)
class CaseRow:
    id: str
    number: int
    participant_id: str
    participant_name: str
    kind: str
    status: str
    list_id: str | None
    list_entry_id: int | None
    operation_id: str | None
    details: dict[str, Any]
    opened_at: datetime
    opened_by: str
    released_at: datetime | None
    released_by: str | None
    release_reason: str | None


_CASE_COLUMNS = ("c.id::text, c.number, c.participant_id::text, p.name, c.kind, c.status, c.list_id::text, "
                 "c.list_entry_id, c.operation_id::text, c.details, c.opened_at, c.opened_by, c.released_at, "
                 "c.released_by, c.release_reason")
_CASE_FROM = "FROM oson.aml_case c JOIN oson.participant p ON p.id = c.participant_id"


def case_in_force(conn: Connection, participant_id: str) -> str | None:
    return conn.execute(text(
        "SELECT id::text FROM oson.aml_case WHERE participant_id = CAST(:p AS uuid) "
        "AND status IN ('frozen', 'under_control') ORDER BY opened_at LIMIT 1"), {"p": participant_id}).scalar()


def cleared(conn: Connection, participant_id: str, entry_key: str) -> bool:
    """Whether a released list-match case cleared the participant against this entry (name, birth date, IIN)."""
    return conn.execute(text(
        "SELECT 1 FROM oson.aml_case WHERE participant_id = CAST(:p AS uuid) AND kind = 'list_match' "
        "AND status = 'released' AND details->>'entry_key' = :k LIMIT 1"), {"p": participant_id, "k": entry_key}
    ).first() is not None


def insert_case(conn: Connection, **values: Any) -> CaseRow:
    case_id = conn.execute(text(
        "INSERT INTO oson.aml_case (participant_id, kind, status, list_id, list_entry_id, operation_id, details, "
        "opened_at, opened_by) VALUES (CAST(:participant_id AS uuid), :kind, :status, CAST(:list_id AS uuid), "
        ":list_entry_id, CAST(:operation_id AS uuid), CAST(:details AS jsonb), :opened_at, :opened_by) "
        "RETURNING id::text"), {**values, "details": json.dumps(values["details"])}).scalar_one()
    row = get_case(conn, case_id)
    assert row is not None
    return row


def get_case(conn: Connection, case_id: str, *, lock: bool = False) -> CaseRow | None:
    row = conn.execute(text(f"SELECT {_CASE_COLUMNS} {_CASE_FROM} WHERE c.id = CAST(:id AS uuid)"
                            + (" FOR UPDATE OF c" if lock else "")), {"id": case_id}).first()
    return CaseRow(*row) if row else None


def list_cases(conn: Connection, *, status: str | None, participant_id: str | None, limit: int,
               offset: int) -> list[CaseRow]:
    where = Where().equal("c.status", status).equal("c.participant_id", participant_id, uuid=True)
    rows = conn.execute(text(f"SELECT {_CASE_COLUMNS} {_CASE_FROM} WHERE {where.sql} "
                             "ORDER BY c.opened_at DESC, c.number DESC LIMIT :limit OFFSET :offset"),
                        where.page(limit, offset)).all()
    return [CaseRow(*row) for row in rows]


def set_case_status(conn: Connection, case_id: str, status: str, *, released_at: datetime | None = None,
                    released_by: str | None = None, release_reason: str | None = None) -> None:
    conn.execute(text(
        "UPDATE oson.aml_case SET status = :status, released_at = coalesce(:at, released_at), "
        "released_by = coalesce(:by, released_by), release_reason = coalesce(:reason, release_reason) "
        "WHERE id = CAST(:id AS uuid)"),
        {"status": status, "at": released_at, "by": released_by, "reason": release_reason, "id": case_id})


def add_step(conn: Connection, case_id: str, action: str, from_status: str | None, to_status: str,
             reason: str | None, details: dict[str, Any], at: datetime, by: str) -> None:
    conn.execute(text(
        "INSERT INTO oson.aml_case_step (case_id, action, from_status, to_status, reason, details, at, by) "
        "VALUES (CAST(:id AS uuid), :action, :from_status, :to_status, :reason, CAST(:details AS jsonb), :at, :by)"
    ), {"id": case_id, "action": action, "from_status": from_status, "to_status": to_status, "reason": reason,
        "details": json.dumps(details, default=str), "at": at, "by": by})


def steps(conn: Connection, case_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(text(
        "SELECT action, from_status, to_status, reason, details, at, by FROM oson.aml_case_step "
        "WHERE case_id = CAST(:id AS uuid) ORDER BY id"), {"id": case_id}).mappings().all()
    return [{**row, "at": row["at"].isoformat()} for row in rows]


@dataclass(frozen=True)
class ReportRow:
    id: str
    number: int
    case_id: str
    operation_id: str | None
    reason: str
    detected_at: datetime
    due_at: datetime
    status: str
    sent_at: datetime | None
    sent_by: str | None
    reference: str | None


_REPORT_COLUMNS = ("id::text, number, case_id::text, operation_id::text, reason, detected_at, due_at, status, "
                   "sent_at, sent_by, reference")


def queue_report(conn: Connection, *, case_id: str, operation_id: str | None, reason: str, detected_at: datetime,
                 due_at: datetime) -> ReportRow:
    row = conn.execute(text(
        f"INSERT INTO oson.aml_report (case_id, operation_id, reason, detected_at, due_at, status) "
        f"VALUES (CAST(:case_id AS uuid), CAST(:operation_id AS uuid), :reason, :detected_at, :due_at, 'queued') "
        f"RETURNING {_REPORT_COLUMNS}"), {"case_id": case_id, "operation_id": operation_id, "reason": reason,
                                           "detected_at": detected_at, "due_at": due_at}).one()
    return ReportRow(*row)


def get_report(conn: Connection, report_id: str, *, lock: bool = False) -> ReportRow | None:
    row = conn.execute(text(f"SELECT {_REPORT_COLUMNS} FROM oson.aml_report WHERE id = CAST(:id AS uuid)"
                            + (" FOR UPDATE" if lock else "")), {"id": report_id}).first()
    return ReportRow(*row) if row else None


def list_reports(conn: Connection, *, status: str | None, due_before: datetime | None, case_id: str | None,
                 limit: int, offset: int) -> list[ReportRow]:
    where = Where().equal("status", status).equal("case_id", case_id, uuid=True)
    where.condition("due_at <= :due", due_before, due=due_before)
    rows = conn.execute(text(f"SELECT {_REPORT_COLUMNS} FROM oson.aml_report WHERE {where.sql} "
                             "ORDER BY due_at, number LIMIT :limit OFFSET :offset"), where.page(limit, offset)).all()
    return [ReportRow(*row) for row in rows]


def mark_report_sent(conn: Connection, report_id: str, now: datetime, actor: str, reference: str) -> None:
    conn.execute(text("UPDATE oson.aml_report SET status = 'sent', sent_at = :now, sent_by = :actor, "
                      "reference = :reference WHERE id = CAST(:id AS uuid)"),
                 {"now": now, "actor": actor, "reference": reference, "id": report_id})
