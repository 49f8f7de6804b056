"""Journals against the real database: their totals reconcile with the ledger, the turnover sheet's
closing balances are the balances as of that day, and the account journal runs its balance."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from conftest import PostgresServer
from records_support import Office, almaty, busy_day, fresh_day, open_office, sql_scalar
from sqlalchemy import text

from oson_operator.storage.engine import create_database_engine
from oson_operator.storage.ledger import COMMISSION_ACCOUNT, SPECIALIZED_ACCOUNT


@pytest.fixture()
def office(running_pg: PostgresServer) -> Iterator[Office]:
    day = fresh_day()
    with open_office(running_pg.settings(), almaty(day, 8)) as office:
        office.day = day  # type: ignore[attr-defined]
        yield office


def _tiyn(text: str) -> int:
    return int(Decimal(text or "0") * 100)


def journal(office: Office, path: str, **params: Any) -> dict[str, Any]:
    response = office.desk.client.get(f"/api/journals/{path}", params=params, headers=office.desk.headers)
    assert response.status_code == 200, response.text
    return response.json()["document"]


def test_general_journal_of_a_day_is_the_ledger_of_that_day(office: Office) -> None:
    day = office.day  # type: ignore[attr-defined]
    busy_day(office, day)
    section = journal(office, "general", day=day.isoformat())["sections"][0]
    debit = sum(_tiyn(row[8]) for row in section["rows"])
    credit = sum(_tiyn(row[9]) for row in section["rows"])
    settings = office.settings
    count = sql_scalar(settings, "SELECT count(*) FROM oson.ledger_entry WHERE operational_day = :d", d=day)
    ledger_credit = sql_scalar(settings, "SELECT sum(amount) FROM oson.ledger_entry WHERE operational_day = :d "
                                         "AND amount > 0", d=day)
    ledger_debit = sql_scalar(settings, "SELECT -sum(amount) FROM oson.ledger_entry WHERE operational_day = :d "
                                        "AND amount < 0", d=day)
    assert len(section["rows"]) == count > 0
    assert (debit, credit) == (ledger_debit, ledger_credit)
    assert debit == credit  # whole operations balance
    assert section["totals"][8:] == [f"{Decimal(debit) / 100:.2f}", f"{Decimal(credit) / 100:.2f}"]
    assert {row[1] for row in section["rows"]} == {day.isoformat()}
    # A range that ends the day before holds none of them.
    before = journal(office, "general", **{"from": (day - timedelta(days=3)).isoformat(),
                                           "to": (day - timedelta(days=1)).isoformat()})
    assert not {row[3] for row in before["sections"][0]["rows"]} & {row[3] for row in section["rows"]}


def test_turnover_closing_is_opening_plus_movements_and_the_balance_as_of_that_day(office: Office) -> None:
    first = office.day  # type: ignore[attr-defined]
    world = busy_day(office, first)
    second = first + timedelta(days=1)
    office.at(almaty(second, 10))
    before = _tiyn(office.desk.balance(world.client_wallet))
    office.desk.pay(world.client_wallet, world.partner_wallet, "1000.00", expect=201)
    drop = before - _tiyn(office.desk.balance(world.client_wallet))  # the amount and the payer's commission
    assert drop >= 100000
    sheet = journal(office, "turnover", day=second.isoformat())["sections"][0]
    rows = {row[0]: row for row in sheet["rows"]}
    for row in sheet["rows"]:
        assert _tiyn(row[6]) == _tiyn(row[3]) - _tiyn(row[4]) + _tiyn(row[5])
    client = rows[world.client_wallet]
    assert _tiyn(client[4]) == drop and client[5] == "0.00"
    # Closing balances = the wallets' balances as of the end of that day (the wallets list, as_of).
    end_of_day = almaty(second + timedelta(days=1), 0) - timedelta(microseconds=1)
    wallets = office.search("wallets", {"filters": [{"field": "id", "op": "in", "value": [
        world.client_wallet, world.partner_wallet]}], "as_of": end_of_day.isoformat()})["rows"]
    for wallet in wallets:
        assert rows[wallet["id"]][6] == wallet["balance"]
    # ... and the opening balance is the closing of the day before.
    previous = {row[0]: row for row in journal(office, "turnover", day=first.isoformat())["sections"][0]["rows"]}
    assert client[3] == previous[world.client_wallet][6]
    # The whole sheet balances: total debit = total credit, total closing = 0 (trial balance).
    assert sheet["totals"][4] == sheet["totals"][5]
    totals = journal(office, "turnover", **{"to": second.isoformat()})["sections"][0]["totals"]
    assert totals[6] == "0.00"


def test_account_journal_runs_the_balance(office: Office) -> None:
    day = office.day  # type: ignore[attr-defined]
    world = busy_day(office, day)
    response = office.desk.client.get(f"/api/journals/accounts/{world.client_wallet}",
                                      params={"day": day.isoformat(), "format": "csv"}, headers=office.desk.headers)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header = next(i for i, row in enumerate(rows) if row and row[0] == "Запись")
    body = rows[header + 1:]
    assert body[0][-1] == "0.00"  # opening
    closing = body[-1]
    assert closing[-1] == office.desk.balance(world.client_wallet)
    balance = 0
    for row in body[1:-1]:
        balance += _tiyn(row[6]) - _tiyn(row[5])
        assert _tiyn(row[7]) == balance
    missing = office.desk.client.get("/api/journals/accounts/00000000-0000-4000-8000-000000000999",
                                     headers=office.desk.headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "ACCOUNT_NOT_FOUND"


def test_bad_periods_are_refused(office: Office) -> None:
    client, headers = office.desk.client, office.desk.headers
    backwards = client.get("/api/journals/general", params={"from": "2050-01-02", "to": "2050-01-01"},
                           headers=headers)
    assert backwards.status_code == 422 and backwards.json()["problems"][0]["field"] == "from"
    unknown = client.get("/api/journals/general", params={"format": "docx"}, headers=headers)
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "FORMAT_UNKNOWN"


def test_entries_posted_on_another_day_than_their_operation_keep_its_kind_and_receipt(office: Office) -> None:
    """The journal joins the operations of the period's own days; an entry whose operation has another
    operational day (none does today, nothing forbids it) must still show its operation."""
    day = office.day  # type: ignore[attr-defined]
    operation_id = str(uuid4())
    engine = create_database_engine(office.settings, application_name="records-tests", pooled=False)
    try:
        with engine.begin() as connection:
            receipt = connection.execute(text("""
                INSERT INTO oson.operation (id, kind, status, amount, commission, receipt_number, actor, created_at,
                    operational_day)
                VALUES (CAST(:id AS uuid), 'transfer', 'completed', 700, 0, nextval('oson.receipt_number'), 'tests',
                    :at, :day) RETURNING receipt_number"""),
                {"id": operation_id, "at": almaty(day, 23, 59), "day": day}).scalar_one()
            connection.execute(text("""
                INSERT INTO oson.ledger_entry (operation_id, account_id, amount, created_at, operational_day)
                VALUES (CAST(:id AS uuid), CAST(:a AS uuid), -700, :at, :next),
                       (CAST(:id AS uuid), CAST(:b AS uuid), 700, :at, :next)"""),
                {"id": operation_id, "a": SPECIALIZED_ACCOUNT, "b": COMMISSION_ACCOUNT,
                 "at": almaty(day, 23, 59), "next": day + timedelta(days=1)})
    finally:
        engine.dispose()
    rows = journal(office, "general", day=(day + timedelta(days=1)).isoformat())["sections"][0]["rows"]
    mine = [row for row in rows if row[3] == operation_id]
    assert [(row[4], row[5], row[8], row[9]) for row in mine] == [("Перевод", str(receipt), "7.00", ""),
                                                                  ("Перевод", str(receipt), "", "7.00")]
    own_day = journal(office, "general", day=day.isoformat())["sections"][0]["rows"]
    assert operation_id not in {row[3] for row in own_day}


def test_the_journal_query_leaves_the_sessions_settings_as_they_were(office: Office) -> None:
    from oson_operator.storage import journals as store

    day = office.day  # type: ignore[attr-defined]
    busy_day(office, day)
    engine = create_database_engine(office.settings, application_name="records-tests", pooled=False)
    try:
        with engine.connect() as connection:
            connection.execute(text("SET work_mem = '5MB'; SET max_parallel_workers_per_gather = 1"))
            rows = store.journal_text_rows(connection, day, day, {"payment": "P"})
            assert rows and {row[4] for row in rows} >= {"P"}
            settings = connection.execute(text("SELECT current_setting('work_mem'), "
                                               "current_setting('max_parallel_workers_per_gather')")).one()
            assert tuple(settings) == ("5MB", "1")
    finally:
        engine.dispose()
