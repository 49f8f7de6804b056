"""Past days as they were (as_of) and saved queries, through the API against the real database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from conftest import PostgresServer
from records_support import Office, almaty, fresh_day, open_office


@pytest.fixture()
def office(running_pg: PostgresServer) -> Iterator[Office]:
    day = fresh_day()
    with open_office(running_pg.settings(), almaty(day, 8)) as office:
        office.day = day  # type: ignore[attr-defined]
        yield office


def test_participants_and_wallets_as_they_were(office: Office) -> None:
    day, desk = office.day, office.desk  # type: ignore[attr-defined]
    office.at(almaty(day, 9))
    issuer = desk.register("issuer")["id"]
    client = desk.register("individual")["id"]
    wallet = desk.wallet(client, issuer)
    office.at(almaty(day, 10))
    desk.issue(wallet, "700.00")
    office.at(almaty(day, 11))
    desk.identify(client, "simplified")
    desk.post(f"/api/wallets/{wallet}/block", {"reason": "dispute", "mode": "debit"}, expect=200)
    office.at(almaty(day + timedelta(days=1), 12))
    desk.issue(wallet, "300.00")
    desk.post(f"/api/participants/{client}/status", {"status": "suspended", "reason": "check"}, expect=200)

    def client_at(hour: int, days: int = 0) -> dict[str, object]:
        rows = office.search("participants", {"filters": [{"field": "id", "op": "eq", "value": client}],
                                              "as_of": almaty(day + timedelta(days=days), hour).isoformat()})["rows"]
        return rows[0] if rows else {}

    def wallet_at(hour: int, days: int = 0) -> dict[str, object]:
        rows = office.search("wallets", {"filters": [{"field": "id", "op": "eq", "value": wallet}],
                                         "as_of": almaty(day + timedelta(days=days), hour).isoformat()})["rows"]
        return rows[0] if rows else {}

    assert client_at(8) == {} and wallet_at(8) == {}  # not registered yet
    before = client_at(10)
    assert (before["identification"], before["status"]) == ("unidentified", "active")
    assert (client_at(12)["identification"], client_at(12)["status"]) == ("simplified", "active")
    assert client_at(13, days=1)["status"] == "suspended"
    assert (wallet_at(10, 0)["balance"], wallet_at(10)["status"]) == ("700.00", "active")
    assert wallet_at(9, 0)["balance"] == "0.00"
    blocked = wallet_at(12)
    assert (blocked["status"], blocked["block_mode"], blocked["identification"]) == ("blocked", "debit", "simplified")
    assert wallet_at(13, days=1)["balance"] == "1000.00"
    # Today's state without as_of.
    now = office.search("wallets", {"filters": [{"field": "id", "op": "eq", "value": wallet}]})["rows"][0]
    assert (now["balance"], now["status"]) == ("1000.00", "blocked")
    # Filters apply to the past state: who was unidentified at 10:00?
    past = office.search("participants", {"filters": [{"field": "id", "op": "eq", "value": client},
                                                      {"field": "identification", "op": "eq",
                                                       "value": "unidentified"}],
                                          "as_of": almaty(day, 10).isoformat()})["rows"]
    assert [row["id"] for row in past] == [client]


def test_saved_queries_belong_to_their_owner(office: Office) -> None:
    client = office.desk.client
    query = {"filters": [{"field": "kind", "op": "in", "value": ["payment", "transfer"]}],
             "sort": {"field": "amount", "direction": "desc"}, "limit": 2, "cursor": "ignored"}
    created = client.post("/api/search/saved", json={"name": "big payments", "list": "operations", "query": query},
                          headers=office.desk.headers)
    assert created.status_code == 201, created.text
    saved = created.json()["saved"]
    assert saved["list"] == "operations" and "cursor" not in saved["query"]
    again = client.post("/api/search/saved", json={"name": "big payments", "list": "operations", "query": query},
                        headers=office.desk.headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "SAVED_QUERY_EXISTS"
    mine = client.get("/api/search/saved", headers=office.desk.headers).json()["saved"]
    assert [s["id"] for s in mine] == [saved["id"]]
    # Run it again, page on with its cursor: the same rows as the query itself.
    run = client.get(f"/api/search/saved/{saved['id']}/run", headers=office.desk.headers).json()
    direct = office.search("operations", {k: v for k, v in query.items() if k != "cursor"})
    assert run["rows"] == direct["rows"] and run["saved"]["id"] == saved["id"]
    if run["next_cursor"]:
        second = client.get(f"/api/search/saved/{saved['id']}/run", params={"cursor": run["next_cursor"]},
                            headers=office.desk.headers).json()
        assert second["rows"] and second["rows"][0]["id"] not in {row["id"] for row in run["rows"]}
    # An auditor keeps queries of their own and cannot see or delete the operator's.
    assert client.get("/api/search/saved", headers=office.auditor).json()["saved"] == []
    assert client.get(f"/api/search/saved/{saved['id']}", headers=office.auditor).status_code == 404
    assert client.delete(f"/api/search/saved/{saved['id']}", headers=office.auditor).status_code == 404
    own = client.post("/api/search/saved", json={"name": "logins", "list": "events",
                                                 "query": {"filters": [{"field": "action", "op": "eq",
                                                                        "value": "auth.login"}]}},
                      headers=office.auditor)
    assert own.status_code == 201
    # A query that could never run is refused when saved, naming the field.
    bad = client.post("/api/search/saved", json={"name": "bad", "list": "operations",
                                                 "query": {"filters": [{"field": "colour", "value": "x"}]}},
                      headers=office.desk.headers)
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "filters.0.field"
    # The operator may not keep a query over a list closed to operators.
    events = client.post("/api/search/saved", json={"name": "ev", "list": "events", "query": {}},
                         headers=office.desk.headers)
    assert events.status_code == 403
    deleted = client.delete(f"/api/search/saved/{saved['id']}", headers=office.desk.headers)
    assert deleted.status_code == 200
    assert client.get(f"/api/search/saved/{saved['id']}/run", headers=office.desk.headers).status_code == 404
    recorded = office.search("events", {"filters": [{"field": "record_id", "op": "eq", "value": saved["id"]}],
                                        "sort": {"field": "id", "direction": "asc"}}, headers=office.auditor)["rows"]
    assert [event["action"] for event in recorded] == ["search.save", "search.delete_saved"]
