"""Search over the core lists through the API against the real database: filters, sorts, keyset pages."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from conftest import PostgresServer
from records_support import Office, almaty, busy_day, fresh_day, open_office


@pytest.fixture()
def office(running_pg: PostgresServer) -> Iterator[Office]:
    day = fresh_day()
    with open_office(running_pg.settings(), almaty(day, 8)) as office:
        office.day = day  # type: ignore[attr-defined]
        yield office


def test_lists_describe_their_columns(office: Office) -> None:
    body = office.desk.get("/api/search/lists")
    names = {spec["name"] for spec in body["lists"]}
    assert {"participants", "wallets", "operations", "ledger_entries"} <= names
    assert "events" not in names  # operators do not read the event log
    auditor = office.desk.client.get("/api/search/lists", headers=office.auditor).json()
    assert "events" in {spec["name"] for spec in auditor["lists"]}
    operations = next(spec for spec in body["lists"] if spec["name"] == "operations")
    amount = next(c for c in operations["columns"] if c["name"] == "amount")
    assert amount["type"] == "money" and "gte" in amount["operators"] and amount["label"]["ru"] == "Сумма"


def test_operations_filter_sort_and_page(office: Office) -> None:
    world = busy_day(office, office.day)  # type: ignore[attr-defined]
    mine = {"field": "payer_account", "op": "eq", "value": world.client_wallet}
    payments = office.all_pages("operations", {"filters": [mine, {"field": "kind", "op": "eq", "value": "payment"}],
                                               "sort": {"field": "amount", "direction": "desc"}, "limit": 1})
    assert [row["amount"] for row in payments] == ["250.50", "100.00", "42.00"]
    ranged = office.search("operations", {"filters": [mine, {"field": "amount", "op": "gte", "value": "100"},
                                                      {"field": "amount", "op": "lt", "value": "250.50"}]})
    assert [row["amount"] for row in ranged["rows"]] == ["100.00"]
    timed = office.search("operations", {"filters": [mine], "from": almaty(office.day, 10, 30).isoformat(),  # type: ignore[attr-defined]
                                         "to": almaty(office.day, 12).isoformat(), "sort": {"field": "created_at"}})  # type: ignore[attr-defined]
    assert [row["amount"] for row in timed["rows"]] == ["250.50"]
    both = office.search("operations", {"filters": [{"field": "kind", "op": "in", "value": ["payment", "issuance"]},
                                                    {"field": "payee_account", "op": "in",
                                                     "value": [world.client_wallet, world.partner_wallet]}]})
    assert sorted(row["kind"] for row in both["rows"]) == ["issuance", "payment", "payment", "payment"]
    assert both["sort"] == {"field": "created_at", "direction": "desc"}


def test_every_sortable_column_pages_completely_and_in_order(office: Office) -> None:
    world = busy_day(office, office.day)  # type: ignore[attr-defined]
    wallets = [world.client_wallet, world.partner_wallet]
    lists = {
        "operations": [{"field": "payer_account", "op": "in", "value": wallets}],
        "ledger_entries": [{"field": "account_id", "op": "in", "value": wallets}],
        "wallets": [{"field": "id", "op": "in", "value": wallets}],
        "participants": [{"field": "id", "op": "in", "value": [world.client, world.partner, world.issuer]}],
    }
    specs = {spec["name"]: spec for spec in office.desk.get("/api/search/lists")["lists"]}
    for name, filters in lists.items():
        everything = office.search(name, {"filters": filters, "limit": 500})["rows"]
        key = specs[name]["key"]
        assert everything
        for column in specs[name]["columns"]:
            if not column["sortable"]:
                continue
            for direction in ("asc", "desc"):
                paged = office.all_pages(name, {"filters": filters, "limit": 2,
                                                "sort": {"field": column["name"], "direction": direction}})
                assert sorted(r[key] for r in paged) == sorted(r[key] for r in everything), (name, column["name"])
                values = [r[column["name"]] for r in paged if r[column["name"]] is not None]
                if column["type"] == "money":
                    values = [Decimal(v) for v in values]
                assert values == sorted(values, reverse=direction == "desc"), (name, column["name"], direction)
                nulls = [r[column["name"]] is None for r in paged]
                assert nulls == sorted(nulls), "NULLs come last"


def test_text_contains_is_case_insensitive_and_literal(office: Office) -> None:
    office.desk.register("partner", name="Shop 100%_Best")
    office.desk.register("partner", name="Shop 1000 Best")
    found = office.search("participants", {"filters": [{"field": "name", "op": "contains", "value": "100%_b"}]})
    assert [row["name"] for row in found["rows"]] == ["Shop 100%_Best"]


def test_bad_queries_are_refused_naming_the_field(office: Office) -> None:
    client, headers = office.desk.client, {**office.desk.headers, "Accept-Language": "kk"}
    response = client.post("/api/search/operations", headers=headers, json={
        "filters": [{"field": "colour", "op": "eq", "value": "red"},
                    {"field": "amount", "op": "contains", "value": "1"},
                    {"field": "amount", "op": "gte", "value": "abc"}],
        "sort": {"field": "nope"}, "limit": 0, "as_of": "2030-01-01T00:00:00Z"})
    assert response.status_code == 422
    problems = {p["field"]: p for p in response.json()["problems"]}
    assert set(problems) == {"filters.0.field", "filters.1.op", "filters.2.value", "sort.field", "limit", "as_of"}
    assert problems["filters.0.field"]["code"] == "LIST_FIELD_UNKNOWN"
    assert "colour" in problems["filters.0.field"]["message"] and "тізімінде" in problems["filters.0.field"]["message"]
    assert problems["as_of"]["code"] == "LIST_AS_OF_UNSUPPORTED"
    english = client.post("/api/search/nothing", json={}, headers={**office.desk.headers, "Accept-Language": "en"})
    assert english.status_code == 404 and "operations" in english.json()["error"]["message"]
    forged = office.search("operations", {"cursor": "bm90IGEgY3Vyc29y"}, expect=422)
    assert forged["problems"][0]["code"] == "LIST_CURSOR_INVALID"
    page = office.search("operations", {"limit": 1})
    other_sort = office.search("operations", {"limit": 1, "cursor": page["next_cursor"],
                                              "sort": {"field": "amount"}}, expect=422)
    assert other_sort["problems"][0]["field"] == "cursor"


def test_events_list_is_for_admins_and_auditors(office: Office) -> None:
    office.search("events", {"limit": 1}, headers=office.desk.headers, expect=403)
    rows = office.search("events", {"filters": [{"field": "action", "op": "eq", "value": "participant.register"}],
                                    "limit": 3}, headers=office.auditor)["rows"]
    assert rows and all(row["action"] == "participant.register" for row in rows)
