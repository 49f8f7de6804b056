"""Reports against the real database: counts and sums by service and category, determinism (same bytes
twice), and the event of each generation carrying the SHA-256 of what was handed out."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from conftest import PostgresServer
from records_support import Office, almaty, busy_day, fresh_day, open_office

from oson_operator.domain.money import format_amount


@pytest.fixture()
def office(running_pg: PostgresServer) -> Iterator[Office]:
    day = fresh_day()
    with open_office(running_pg.settings(), almaty(day, 8)) as office:
        office.day = day  # type: ignore[attr-defined]
        yield office


def report(office: Office, name: str, headers: dict[str, str] | None = None, **params: Any) -> Any:
    response = office.desk.client.get(f"/api/reports/{name}", params=params, headers=headers or office.desk.headers)
    assert response.status_code == 200, response.text
    return response


def test_payment_services_by_type_and_category(office: Office) -> None:
    day = office.day  # type: ignore[attr-defined]
    busy_day(office, day)
    office.at(almaty(day, 13))
    refused = office.desk.pay(office.search("wallets", {"limit": 1})["rows"][0]["id"],
                              office.search("wallets", {"limit": 1})["rows"][0]["id"], "99999999.00")
    assert refused.status_code >= 400
    document = report(office, "payment-services", day=day.isoformat(),
                      headers={**office.desk.headers, "Accept-Language": "en"}).json()["document"]
    detail = {(row[0], row[1]): row for row in document["sections"][0]["rows"]}
    payments = detail[("Payment", "Individual")]
    assert payments[2] == "3" and payments[3] == format_amount(10000 + 25050 + 4200)
    assert detail[("Issuance", "Individual")][2] == "1"
    by_kind = {row[0]: row for row in document["sections"][1]["rows"]}
    assert by_kind["Payment"][1] == "3"
    total = document["sections"][0]["totals"]
    assert total[2] == "4"  # refused operations are not services rendered
    other_day = report(office, "payment-services", day=(day + timedelta(days=1)).isoformat()).json()
    assert other_day["document"]["sections"][0]["rows"] == []


def test_operations_report_lists_the_period_with_totals(office: Office) -> None:
    day = office.day  # type: ignore[attr-defined]
    busy_day(office, day)
    document = report(office, "operations", **{"from": day.isoformat(), "to": day.isoformat()}).json()["document"]
    rows = document["sections"][0]["rows"]
    assert [row[3] for row in rows] == ["Выпуск", "Платёж", "Платёж", "Платёж"]
    assert document["sections"][0]["totals"][5] == format_amount(500000 + 10000 + 25050 + 4200)


def test_same_parameters_give_the_same_bytes_and_each_generation_is_an_event(office: Office) -> None:
    day = office.day  # type: ignore[attr-defined]
    busy_day(office, day)
    for hour, fmt in enumerate(("json", "html", "print", "csv", "pdf"), start=14):
        params = {"day": day.isoformat(), "format": fmt}
        office.at(almaty(day, hour))
        first = report(office, "operations", **params)
        office.at(almaty(day, hour, 30))  # a later generation of the same data: the same bytes
        second = report(office, "operations", **params)
        assert first.content == second.content and first.content
        digest = hashlib.sha256(first.content).hexdigest()
        assert first.headers["x-content-sha256"] == digest
        events = office.search("events", {"filters": [
            {"field": "action", "op": "eq", "value": "report.generate"},
            {"field": "record_id", "op": "eq", "value": "operations"}], "limit": 100}, headers=office.auditor)["rows"]
        mine = [event["details"] for event in events
                if event["details"]["parameters"]["from"] == str(day) and event["details"]["format"] == fmt]
        assert [details["sha256"] for details in mine] == [digest, digest]


def test_a_report_needs_a_bounded_period(office: Office) -> None:
    client, headers = office.desk.client, office.desk.headers
    open_ended = client.get("/api/reports/operations", params={"from": "2050-01-01"}, headers=headers)
    assert open_ended.status_code == 422 and open_ended.json()["problems"][0]["field"] == "to"
    too_long = client.get("/api/reports/payment-services", params={"from": "2050-01-01", "to": "2052-01-01"},
                          headers=headers)
    assert too_long.status_code == 422 and too_long.json()["problems"][0]["code"] == "PERIOD_INVALID"
    listed = client.get("/api/reports", headers=office.auditor).json()["reports"]
    assert {r["name"] for r in listed} == {"payment-services", "operations"}
