"""SQL of wallets, operations and the double-entry ledger (schema oson, migration 0004)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, text

from oson_operator.domain.postings import Posting
from oson_operator.domain.rules import WalletState

SPECIALIZED_ACCOUNT = "00000000-0000-4000-8000-00000000000a"
COMMISSION_ACCOUNT = "00000000-0000-4000-8000-00000000000b"

# An AML case in force on the holder p (list match §16.2.7, under control §16.3).
AML_IN_FORCE = """EXISTS (SELECT 1 FROM oson.aml_case c WHERE c.participant_id = p.id
            AND c.status IN ('frozen', 'under_control'))"""
WALLET_COLUMNS = f"""
    a.id::text, a.balance, a.status, a.block_mode, a.blocked_until, a.issuer_id::text,
    p.id::text, p.kind, p.status, p.identification, p.name, p.iin_bin, p.tariff, {AML_IN_FORCE}
"""


def wallet_state(row: Sequence[Any]) -> WalletState:
    return WalletState(*row)


def lock_wallets(conn: Connection, wallet_ids: Iterable[str]) -> dict[str, WalletState]:
    """Read and lock wallets in id order (the same order everywhere, so transfers cannot deadlock).

    FOR NO KEY UPDATE, not FOR UPDATE: foreign-key checks of inserted operations and entries take
    KEY SHARE locks on these rows, which FOR UPDATE would conflict with (and deadlock under load).
    """
    ids = sorted(set(wallet_ids))
    rows = conn.execute(text(
        f"SELECT {WALLET_COLUMNS} FROM oson.account a JOIN oson.participant p ON p.id = a.participant_id "
        "WHERE a.id = ANY(CAST(:ids AS uuid[])) AND a.kind = 'wallet' ORDER BY a.id FOR NO KEY UPDATE OF a"
    ), {"ids": ids}).all()
    return {row[0]: wallet_state(row) for row in rows}


def get_wallet(conn: Connection, wallet_id: str) -> WalletState | None:
    row = conn.execute(text(
        f"SELECT {WALLET_COLUMNS} FROM oson.account a JOIN oson.participant p ON p.id = a.participant_id "
        "WHERE a.id = CAST(:id AS uuid) AND a.kind = 'wallet'"
    ), {"id": wallet_id}).first()
    return wallet_state(row) if row else None


def debited_today(conn: Connection, wallet_id: str, day: date) -> int:
    """What left the wallet by client operations on the operational day (for the daily limit)."""
    return int(conn.execute(text(
        "SELECT coalesce(sum(amount), 0) FROM oson.operation WHERE payer_account = CAST(:w AS uuid) "
        "AND operational_day = :d AND status = 'completed' AND kind IN ('payment', 'transfer', 'redemption')"
    ), {"w": wallet_id, "d": day}).scalar_one())


@dataclass(frozen=True)
class OperationRow:
    id: str
    kind: str
    status: str
    reason_code: str | None
    amount: int
    commission: int
    payer_account: str | None
    payee_account: str | None
    original_operation: str | None
    receipt_number: int | None
    details: dict[str, Any]
    actor: str
    request_id: str | None
    created_at: datetime
    operational_day: date


_OPERATION_COLUMNS = """id::text, kind, status, reason_code, amount, commission, payer_account::text,
    payee_account::text, original_operation::text, receipt_number, details, actor, request_id, created_at,
    operational_day"""


def record_operation(
    conn: Connection, *, operation_id: str, kind: str, amount: int, commission: int, payer: str | None,
    payee: str | None, original: str | None, details: dict[str, Any], actor: str, request_id: str | None,
    now: datetime, day: date, postings: list[Posting],
) -> OperationRow:
    """Insert a completed operation, its receipt number, its entries and the wallet balances: one round trip."""
    values = ", ".join(f"(CAST(:a{i} AS uuid), CAST(:m{i} AS bigint))" for i in range(len(postings)))
    params: dict[str, Any] = {
        "id": operation_id, "kind": kind, "amount": amount, "commission": commission, "payer": payer,
        "payee": payee, "original": original, "details": json.dumps(details), "actor": actor,
        "request_id": request_id, "now": now, "day": day,
    }
    for i, posting in enumerate(postings):
        params[f"a{i}"] = posting.account_id
        params[f"m{i}"] = posting.amount
    row = conn.execute(text(f"""
        WITH op AS (
            INSERT INTO oson.operation (id, kind, status, amount, commission, payer_account, payee_account,
                original_operation, receipt_number, details, actor, request_id, created_at, operational_day)
            VALUES (CAST(:id AS uuid), :kind, 'completed', :amount, :commission, CAST(:payer AS uuid),
                CAST(:payee AS uuid), CAST(:original AS uuid), nextval('oson.receipt_number'),
                CAST(:details AS jsonb), :actor, :request_id, :now, :day)
            RETURNING {_OPERATION_COLUMNS}
        ), entries AS (
            INSERT INTO oson.ledger_entry (operation_id, account_id, amount, created_at, operational_day)
            SELECT CAST(:id AS uuid), v.account, v.amount, :now, :day FROM (VALUES {values}) AS v(account, amount)
            RETURNING account_id, amount
        ), balances AS (
            UPDATE oson.account a SET balance = a.balance + s.delta
            FROM (SELECT account_id, sum(amount) AS delta FROM entries GROUP BY account_id) s
            WHERE a.id = s.account_id AND a.kind = 'wallet'
        )
        SELECT * FROM op
    """), params).one()
    return OperationRow(*row)


def record_refusal(
    conn: Connection, *, operation_id: str, kind: str, reason_code: str, amount: int, payer: str | None,
    payee: str | None, original: str | None, details: dict[str, Any], actor: str, request_id: str | None,
    now: datetime, day: date,
) -> OperationRow:
    """A refused operation is recorded too (§5.4.7), with no entries."""
    row = conn.execute(text(f"""
        INSERT INTO oson.operation (id, kind, status, reason_code, amount, commission, payer_account,
            payee_account, original_operation, details, actor, request_id, created_at, operational_day)
        VALUES (CAST(:id AS uuid), :kind, 'refused', :reason, :amount, 0,
            (SELECT id FROM oson.account WHERE id = CAST(:payer AS uuid)),
            (SELECT id FROM oson.account WHERE id = CAST(:payee AS uuid)),
            (SELECT id FROM oson.operation WHERE id = CAST(:original AS uuid)),
            CAST(:details AS jsonb), :actor, :request_id, :now, :day)
        RETURNING {_OPERATION_COLUMNS}
    """), {"id": operation_id, "kind": kind, "reason": reason_code, "amount": amount, "payer": payer,
           "payee": payee, "original": original, "details": json.dumps(details), "actor": actor,
           "request_id": request_id, "now": now, "day": day}).one()
    return OperationRow(*row)


def get_operation(conn: Connection, operation_id: str) -> OperationRow | None:
    row = conn.execute(text(f"SELECT {_OPERATION_COLUMNS} FROM oson.operation WHERE id = CAST(:id AS uuid)"),
                       {"id": operation_id}).first()
    return OperationRow(*row) if row else None


def lock_operation(conn: Connection, operation_id: str) -> OperationRow | None:
    """The original of a return, locked so two returns of it are counted one after the other.

    Operations are append-only (the runtime login cannot UPDATE them, so no row lock): an advisory
    transaction lock keyed on the original's id does the serializing.
    """
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:id, 0))"), {"id": operation_id})
    row = conn.execute(text(f"SELECT {_OPERATION_COLUMNS} FROM oson.operation WHERE id = CAST(:id AS uuid)"),
                       {"id": operation_id}).first()
    return OperationRow(*row) if row else None


def returned_so_far(conn: Connection, operation_id: str) -> int:
    return int(conn.execute(text(
        "SELECT coalesce(sum(amount), 0) FROM oson.operation WHERE original_operation = CAST(:id AS uuid) "
        "AND kind = 'return' AND status = 'completed'"
    ), {"id": operation_id}).scalar_one())


def list_operations(conn: Connection, *, wallet_id: str | None, kind: str | None, status: str | None,
                    limit: int, before: datetime | None) -> list[OperationRow]:
    clauses = ["TRUE"]
    params: dict[str, Any] = {"limit": limit}
    if wallet_id:
        clauses.append("(payer_account = CAST(:w AS uuid) OR payee_account = CAST(:w AS uuid))")
        params["w"] = wallet_id
    if kind:
        clauses.append("kind = :kind")
        params["kind"] = kind
    if status:
        clauses.append("status = :status")
        params["status"] = status
    if before:
        clauses.append("created_at < :before")
        params["before"] = before
    rows = conn.execute(text(
        f"SELECT {_OPERATION_COLUMNS} FROM oson.operation WHERE {' AND '.join(clauses)} "
        "ORDER BY created_at DESC, id LIMIT :limit"
    ), params).all()
    return [OperationRow(*row) for row in rows]


@dataclass(frozen=True)
class EntryRow:
    id: int
    operation_id: str
    account_id: str
    amount: int
    created_at: datetime
    operational_day: date


def entries_of_operation(conn: Connection, operation_id: str) -> list[EntryRow]:
    rows = conn.execute(text(
        "SELECT id, operation_id::text, account_id::text, amount, created_at, operational_day "
        "FROM oson.ledger_entry WHERE operation_id = CAST(:id AS uuid) ORDER BY id"
    ), {"id": operation_id}).all()
    return [EntryRow(*row) for row in rows]


def entries_of_account(conn: Connection, account_id: str, limit: int, after_id: int | None) -> list[EntryRow]:
    rows = conn.execute(text(
        "SELECT id, operation_id::text, account_id::text, amount, created_at, operational_day "
        "FROM oson.ledger_entry WHERE account_id = CAST(:id AS uuid) AND id > :after ORDER BY id LIMIT :limit"
    ), {"id": account_id, "after": after_id or 0, "limit": limit}).all()
    return [EntryRow(*row) for row in rows]


@dataclass(frozen=True)
class LedgerCheck:
    trial_balance: int
    entries: int
    wallets_checked: int
    wallet_mismatches: list[dict[str, Any]]
    unbalanced_operations: list[str]


def check_ledger(conn: Connection) -> LedgerCheck:
    """The invariants: entries sum to zero, per operation and overall; each wallet = sum of its entries."""
    total, count = conn.execute(text("SELECT coalesce(sum(amount), 0), count(*) FROM oson.ledger_entry")).one()
    mismatches = conn.execute(text("""
        SELECT a.id::text, a.balance, coalesce(e.total, 0) FROM oson.account a
        LEFT JOIN (SELECT account_id, sum(amount) AS total FROM oson.ledger_entry GROUP BY account_id) e
            ON e.account_id = a.id
        WHERE a.kind = 'wallet' AND a.balance <> coalesce(e.total, 0)
    """)).all()
    wallets = conn.execute(text("SELECT count(*) FROM oson.account WHERE kind = 'wallet'")).scalar_one()
    unbalanced = conn.execute(text(
        "SELECT operation_id::text FROM oson.ledger_entry GROUP BY operation_id HAVING sum(amount) <> 0 LIMIT 100"
    )).scalars().all()
    return LedgerCheck(
        trial_balance=int(total), entries=int(count), wallets_checked=int(wallets),
        wallet_mismatches=[{"wallet_id": w, "balance": int(b), "entries_sum": int(s)} for w, b, s in mismatches],
        unbalanced_operations=list(unbalanced),
    )


def system_balances(conn: Connection) -> dict[str, int]:
    rows = conn.execute(text(
        "SELECT a.kind, coalesce(sum(e.amount), 0) FROM oson.account a "
        "LEFT JOIN oson.ledger_entry e ON e.account_id = a.id WHERE a.kind <> 'wallet' GROUP BY a.kind"
    )).all()
    return {kind: int(total) for kind, total in rows}
