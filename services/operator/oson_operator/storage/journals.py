"""SQL of the accounting journals and the reports (read-only; operational days are Asia/Almaty dates)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import Connection, text


@dataclass(frozen=True)
class JournalLine:
    entry_id: int
    created_at: datetime
    operational_day: date
    operation_id: str
    operation_kind: str
    receipt_number: int | None
    account_id: str
    account_kind: str
    amount: int  # signed tiyn: positive = credit, negative = debit


def _period(day_from: date | None, day_to: date | None, column: str,
            style: str = "named") -> tuple[str, dict[str, Any]]:
    """WHERE clauses of a period; ``style`` "named" (:day_from, SQLAlchemy) or "pyformat" (the driver's)."""
    mark = ":{}" if style == "named" else "%({})s"
    clauses: list[str] = ["TRUE"]
    params: dict[str, Any] = {}
    if day_from is not None:
        clauses.append(f"{column} >= {mark.format('day_from')}")
        params["day_from"] = day_from
    if day_to is not None:
        clauses.append(f"{column} <= {mark.format('day_to')}")
        params["day_to"] = day_to
    return " AND ".join(clauses), params


def journal_lines(conn: Connection, day_from: date | None, day_to: date | None,
                  account_id: str | None = None) -> list[JournalLine]:
    """Every ledger entry of the period with its operation, in posting order."""
    where, params = _period(day_from, day_to, "e.operational_day")
    if account_id is not None:
        where += " AND e.account_id = CAST(:account AS uuid)"
        params["account"] = account_id
    rows = conn.execute(text(f"""
        SELECT e.id, e.created_at, e.operational_day, e.operation_id::text, o.kind, o.receipt_number,
            e.account_id::text, a.kind, e.amount
        FROM oson.ledger_entry e JOIN oson.operation o ON o.id = e.operation_id
        JOIN oson.account a ON a.id = e.account_id
        WHERE {where} ORDER BY e.operational_day, e.id"""), params).all()
    return [JournalLine(*row) for row in rows]


def _tenge(expression: str) -> str:
    """SQL formatting a non-negative tiyn amount as tenge text, like domain.money.format_amount."""
    # mod(), not %: the text goes to the driver, where % starts a placeholder.
    return f"(({expression}) / 100)::text || '.' || lpad(mod({expression}, 100)::text, 2, '0')"


# Settings of the general journal's query alone. Its entries are sorted in memory (about 25 MB for a
# month of 170,000 entries): a sort spilled to disk stalls for seconds while the disk is busy. It runs
# in one process: on a small, busy host parallel workers spend their time waiting for each other.
JOURNAL_QUERY_SETTINGS = {"work_mem": "64MB", "max_parallel_workers_per_gather": "0"}


def _of_operation(column: str) -> str:
    """SQL of the entry's operation's ``column``: from ``d`` (operations of the period's days) or else by key."""
    return (f"CASE WHEN d.id IS NULL THEN (SELECT o.{column} FROM oson.operation o WHERE o.id = e.operation_id) "
            f"ELSE d.{column} END")


def journal_text_rows(conn: Connection, day_from: date | None, day_to: date | None,
                      names: Mapping[str, str]) -> tuple[tuple[str, ...], ...]:
    """The general journal's rows, formatted by the database (entry, day, time, operation, operation kind,
    receipt, account, account kind, debit, credit), kinds shown by ``names`` (a kind missing there is
    shown as itself).

    A month holds hundreds of thousands of rows: they are read with the driver's own cursor into plain
    tuples, with no per-row work in Python (no result-row objects, no re-packing)."""
    where, params = _period(day_from, day_to, "e.operational_day", style="pyformat")
    same_days, _ = _period(day_from, day_to, "d.operational_day", style="pyformat")
    params["names"] = Jsonb(dict(names))
    # An entry is posted on its operation's day, so the operations of the same days (a range of the
    # operation_day_id index) are joined instead of scanning every operation; an entry whose operation
    # lies outside them still gets it, looked up by key (the lookups run only for such entries).
    # Sorted before formatting: the sort then holds narrow rows (in memory rather than on disk).
    query = f"""
        SELECT x.id::text, x.operational_day::text,
            to_char(x.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),
            x.operation_id::text, coalesce(%(names)s::jsonb ->> x.operation_kind, x.operation_kind),
            coalesce(x.receipt_number::text, ''), x.account_id::text,
            coalesce(%(names)s::jsonb ->> x.account_kind, x.account_kind),
            CASE WHEN x.amount < 0 THEN {_tenge("-x.amount")} ELSE '' END,
            CASE WHEN x.amount > 0 THEN {_tenge("x.amount")} ELSE '' END
        FROM (
            SELECT e.id, e.operational_day, e.created_at, e.operation_id, e.account_id, e.amount,
                {_of_operation("kind")} AS operation_kind, {_of_operation("receipt_number")} AS receipt_number,
                a.kind AS account_kind
            FROM oson.ledger_entry e
            LEFT JOIN oson.operation d ON d.id = e.operation_id AND {same_days}
            JOIN oson.account a ON a.id = e.account_id
            WHERE {where} ORDER BY e.operational_day, e.id
        ) x ORDER BY x.operational_day, x.id"""
    # The driver connection takes part in the caller's transaction (same snapshot as the totals).
    driver = conn.connection.driver_connection
    with driver.cursor() as cursor, _query_settings(cursor, JOURNAL_QUERY_SETTINGS):  # type: ignore[union-attr]
        cursor.execute(query, params)
        return tuple(cursor.fetchall())


@contextmanager
def _query_settings(cursor: psycopg.Cursor[Any], settings: Mapping[str, str]) -> Iterator[None]:
    """Server settings for the queries run inside, put back afterwards; local to the caller's transaction
    (SQLAlchemy always has one open), so they end with it whatever happens."""
    previous = {name: cursor.execute("SELECT current_setting(%s)", (name,)).fetchone()[0]  # type: ignore[index]
                for name in settings}
    for name, value in settings.items():
        cursor.execute("SELECT set_config(%s, %s, true)", (name, value))
    try:
        yield
    finally:
        for name, value in previous.items():
            cursor.execute("SELECT set_config(%s, %s, true)", (name, value))


def balance_before(conn: Connection, account_id: str, day: date | None) -> int:
    """The account's balance at the start of ``day`` (0 when ``day`` is None: the very beginning)."""
    if day is None:
        return 0
    return int(conn.execute(text(
        "SELECT coalesce(sum(amount), 0) FROM oson.ledger_entry WHERE account_id = CAST(:a AS uuid) "
        "AND operational_day < :d"), {"a": account_id, "d": day}).scalar_one())


def account_exists(conn: Connection, account_id: str) -> bool:
    return conn.execute(text("SELECT EXISTS (SELECT 1 FROM oson.account WHERE id = CAST(:a AS uuid))"),
                        {"a": account_id}).scalar_one()


@dataclass(frozen=True)
class TurnoverLine:
    account_id: str
    account_kind: str
    holder: str | None
    opening: int
    debit: int  # tiyn, positive
    credit: int
    closing: int


def turnover(conn: Connection, day_from: date | None, day_to: date | None) -> list[TurnoverLine]:
    """Per account: opening balance, debit and credit turnover of the period, closing balance."""
    params: dict[str, Any] = {"day_from": day_from or date.min, "day_to": day_to or date.max}
    rows = conn.execute(text("""
        WITH sums AS (
            SELECT e.account_id,
                coalesce(sum(e.amount) FILTER (WHERE e.operational_day < :day_from), 0) AS opening,
                coalesce(sum(-e.amount) FILTER (WHERE e.operational_day >= :day_from AND e.amount < 0), 0) AS debit,
                coalesce(sum(e.amount) FILTER (WHERE e.operational_day >= :day_from AND e.amount > 0), 0) AS credit
            FROM oson.ledger_entry e WHERE e.operational_day <= :day_to GROUP BY e.account_id
        )
        SELECT a.id::text, a.kind, p.name, s.opening, s.debit, s.credit
        FROM sums s JOIN oson.account a ON a.id = s.account_id LEFT JOIN oson.participant p ON p.id = a.participant_id
        WHERE s.opening <> 0 OR s.debit <> 0 OR s.credit <> 0
        ORDER BY a.kind, a.id"""), params).all()
    return [TurnoverLine(a, k, h, int(o), int(d), int(c), int(o) - int(d) + int(c)) for a, k, h, o, d, c in rows]


@dataclass(frozen=True)
class ServiceLine:
    kind: str
    category: str
    count: int
    amount: int
    commission: int


# The category is the participant the service was rendered to: the payer (the payee for an issuance,
# which has no payer wallet, and for a return, which gives money back to the payee).
_CATEGORY = "CASE WHEN o.kind = 'return' OR pp.kind IS NULL THEN coalesce(qp.kind, pp.kind) ELSE pp.kind END"


def services_rendered(conn: Connection, day_from: date, day_to: date) -> list[ServiceLine]:
    rows = conn.execute(text(f"""
        SELECT o.kind, coalesce({_CATEGORY}, 'none'), count(*), coalesce(sum(o.amount), 0),
            coalesce(sum(o.commission), 0)
        FROM oson.operation o
        LEFT JOIN oson.account pa ON pa.id = o.payer_account LEFT JOIN oson.participant pp ON pp.id = pa.participant_id
        LEFT JOIN oson.account qa ON qa.id = o.payee_account LEFT JOIN oson.participant qp ON qp.id = qa.participant_id
        WHERE o.status = 'completed' AND o.operational_day BETWEEN :day_from AND :day_to
        GROUP BY 1, 2 ORDER BY 1, 2"""), {"day_from": day_from, "day_to": day_to}).all()
    return [ServiceLine(k, c, int(n), int(a), int(m)) for k, c, n, a, m in rows]


@dataclass(frozen=True)
class OperationLine:
    id: str
    created_at: datetime
    operational_day: date
    receipt_number: int | None
    kind: str
    status: str
    reason_code: str | None
    amount: int
    commission: int
    payer_account: str | None
    payee_account: str | None


def operations_of_period(conn: Connection, day_from: date, day_to: date) -> list[OperationLine]:
    rows = conn.execute(text("""
        SELECT id::text, created_at, operational_day, receipt_number, kind, status, reason_code, amount, commission,
            payer_account::text, payee_account::text
        FROM oson.operation WHERE operational_day BETWEEN :day_from AND :day_to
        ORDER BY operational_day, created_at, id"""), {"day_from": day_from, "day_to": day_to}).all()
    return [OperationLine(*row) for row in rows]


def ledger_sums(conn: Connection, day_from: date | None, day_to: date | None) -> tuple[int, int, int]:
    """(entries, debit, credit) of the period straight from the ledger (what a journal must reconcile with)."""
    where, params = _period(day_from, day_to, "operational_day")
    count, debit, credit = conn.execute(text(
        f"SELECT count(*), coalesce(sum(-amount) FILTER (WHERE amount < 0), 0), "
        f"coalesce(sum(amount) FILTER (WHERE amount > 0), 0) FROM oson.ledger_entry WHERE {where}"), params).one()
    return int(count), int(debit), int(credit)
