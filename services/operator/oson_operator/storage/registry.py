"""SQL of participants, wallets and their recorded status changes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from oson_operator.domain.errors import Conflict
from oson_operator.storage.where import Where


@dataclass(frozen=True)
class ParticipantRow:
    id: str
    kind: str
    name: str
    iin_bin: str
    phone: str | None
    email: str | None
    birth_date: date | None
    identification: str | None
    status: str
    legal_form: str | None
    tariff: str | None
    details: dict[str, Any]
    created_at: datetime
    created_by: str


_PARTICIPANT_COLUMNS = ("id::text, kind, name, iin_bin, phone, email, birth_date, identification, status, "
                        "legal_form, tariff, details, created_at, created_by")


def insert_participant(conn: Connection, *, kind: str, name: str, iin_bin: str, phone: str | None,
                       email: str | None, birth_date: date | None, identification: str | None,
                       legal_form: str | None, tariff: str | None, details: dict[str, Any], now: datetime,
                       actor: str) -> ParticipantRow:
    savepoint = conn.begin_nested()
    try:
        row = conn.execute(text(f"""
            INSERT INTO oson.participant (kind, name, iin_bin, phone, email, birth_date, identification,
                legal_form, tariff, details, created_at, created_by)
            VALUES (:kind, :name, :iin_bin, :phone, :email, :birth_date, :identification, :legal_form, :tariff,
                CAST(:details AS jsonb), :now, :actor)
            RETURNING {_PARTICIPANT_COLUMNS}
        """), {"kind": kind, "name": name, "iin_bin": iin_bin, "phone": phone, "email": email,
               "birth_date": birth_date, "identification": identification, "legal_form": legal_form,
               "tariff": tariff, "details": json.dumps(details), "now": now, "actor": actor}).one()
        savepoint.commit()
    except IntegrityError:
        savepoint.rollback()
        raise Conflict("PARTICIPANT_EXISTS", params={"iin_bin": iin_bin}) from None
    return ParticipantRow(*row)


def get_participant(conn: Connection, participant_id: str, *, lock: bool = False) -> ParticipantRow | None:
    row = conn.execute(text(
        f"SELECT {_PARTICIPANT_COLUMNS} FROM oson.participant WHERE id = CAST(:id AS uuid)"
        + (" FOR UPDATE" if lock else "")
    ), {"id": participant_id}).first()
    return ParticipantRow(*row) if row else None


def list_participants(conn: Connection, *, kind: str | None, status: str | None, iin_bin: str | None,
                      limit: int, offset: int) -> list[ParticipantRow]:
    where = Where().equal("kind", kind).equal("status", status).equal("iin_bin", iin_bin)
    rows = conn.execute(text(
        f"SELECT {_PARTICIPANT_COLUMNS} FROM oson.participant WHERE {where.sql} "
        "ORDER BY created_at, id LIMIT :limit OFFSET :offset"
    ), where.page(limit, offset)).all()
    return [ParticipantRow(*row) for row in rows]


def change_participant(conn: Connection, participant_id: str, field: str, old: str | None, new: str,
                       reason: str | None, now: datetime, actor: str) -> None:
    if field not in ("identification", "status"):
        raise ValueError(field)
    conn.execute(text(f"UPDATE oson.participant SET {field} = :new WHERE id = CAST(:id AS uuid)"),
                 {"new": new, "id": participant_id})
    conn.execute(text(
        "INSERT INTO oson.participant_change (participant_id, field, old_value, new_value, reason, changed_at, "
        "changed_by) VALUES (CAST(:id AS uuid), :field, :old, :new, :reason, :now, :actor)"
    ), {"id": participant_id, "field": field, "old": old, "new": new, "reason": reason, "now": now,
        "actor": actor})


def participant_history(conn: Connection, participant_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(text(
        "SELECT field, old_value, new_value, reason, changed_at, changed_by FROM oson.participant_change "
        "WHERE participant_id = CAST(:id AS uuid) ORDER BY id"
    ), {"id": participant_id}).mappings().all()
    return [dict(row) for row in rows]


@dataclass(frozen=True)
class WalletRow:
    id: str
    participant_id: str
    issuer_id: str | None
    currency: str
    balance: int
    status: str
    block_mode: str | None
    block_reason: str | None
    blocked_until: datetime | None
    created_at: datetime


_WALLET_COLUMNS = ("id::text, participant_id::text, issuer_id::text, currency, balance, status, block_mode, "
                   "block_reason, blocked_until, created_at")


def insert_wallet(conn: Connection, participant_id: str, issuer_id: str, now: datetime, actor: str) -> WalletRow:
    row = conn.execute(text(
        f"INSERT INTO oson.account (kind, participant_id, issuer_id, created_at) "
        f"VALUES ('wallet', CAST(:p AS uuid), CAST(:i AS uuid), :now) RETURNING {_WALLET_COLUMNS}"
    ), {"p": participant_id, "i": issuer_id, "now": now}).one()
    record_wallet_change(conn, row[0], "open", None, None, None, now, actor)
    return WalletRow(*row)


def get_wallet_row(conn: Connection, wallet_id: str) -> WalletRow | None:
    row = conn.execute(text(
        f"SELECT {_WALLET_COLUMNS} FROM oson.account WHERE id = CAST(:id AS uuid) AND kind = 'wallet'"
    ), {"id": wallet_id}).first()
    return WalletRow(*row) if row else None


def wallets_of(conn: Connection, participant_id: str) -> list[WalletRow]:
    rows = conn.execute(text(
        f"SELECT {_WALLET_COLUMNS} FROM oson.account WHERE participant_id = CAST(:p AS uuid) ORDER BY created_at"
    ), {"p": participant_id}).all()
    return [WalletRow(*row) for row in rows]


def set_wallet_block(conn: Connection, wallet_id: str, *, status: str, mode: str | None, reason: str | None,
                     until: datetime | None) -> None:
    conn.execute(text(
        "UPDATE oson.account SET status = :status, block_mode = :mode, block_reason = :reason, "
        "blocked_until = :until WHERE id = CAST(:id AS uuid)"
    ), {"status": status, "mode": mode, "reason": reason, "until": until, "id": wallet_id})


def record_wallet_change(conn: Connection, wallet_id: str, action: str, reason: str | None, mode: str | None,
                         until: datetime | None, now: datetime, actor: str) -> None:
    conn.execute(text(
        "INSERT INTO oson.account_change (account_id, action, reason, block_mode, blocked_until, changed_at, "
        "changed_by) VALUES (CAST(:id AS uuid), :action, :reason, :mode, :until, :now, :actor)"
    ), {"id": wallet_id, "action": action, "reason": reason, "mode": mode, "until": until, "now": now,
        "actor": actor})


def wallet_history(conn: Connection, wallet_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(text(
        "SELECT action, reason, block_mode, blocked_until, changed_at, changed_by FROM oson.account_change "
        "WHERE account_id = CAST(:id AS uuid) ORDER BY id"
    ), {"id": wallet_id}).mappings().all()
    return [dict(row) for row in rows]
