"""Request hygiene: one message per missing field in kk/ru/en (§14.1(3)), and 4xx (never 500) for bad input."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from business_support import Desk, make_world, open_desk
from conftest import PostgresServer

from oson_operator.domain.messages import LANGUAGES, catalog, pick_language


@pytest.fixture()
def desk(running_pg: PostgresServer) -> Iterator[Desk]:
    with open_desk(running_pg.settings()) as desk:
        yield desk


def test_every_missing_field_is_named_once(desk: Desk) -> None:
    response = desk.post("/api/payments", {"amount": "10.00"}, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    body = response.json()
    assert body["error"]["code"] == "REQUEST_INVALID"
    assert sorted((p["field"], p["code"]) for p in body["problems"]) == [
        ("payee_wallet_id", "FIELD_REQUIRED"), ("payer_wallet_id", "FIELD_REQUIRED"), ("purpose", "FIELD_REQUIRED")]
    assert {p["message"] for p in body["problems"]} == {
        "Field 'payer_wallet_id' is required", "Field 'payee_wallet_id' is required", "Field 'purpose' is required"}


@pytest.mark.parametrize(("language", "expected"), [
    ("kk", "«purpose» өрісі толтырылмаған"),
    ("ru-RU,ru;q=0.9", "Не заполнено поле «purpose»"),
    ("en-GB;q=0.8, de;q=0.9", "Field 'purpose' is required"),
    (None, "Не заполнено поле «purpose»"),
])
def test_messages_follow_accept_language(desk: Desk, language: str | None, expected: str) -> None:
    world = make_world(desk, funds=None)
    body = {"payer_wallet_id": world.client_wallet, "payee_wallet_id": world.partner_wallet, "amount": "1.00"}
    headers = {"Accept-Language": language} if language else {}
    response = desk.post("/api/payments", body, headers=headers)
    assert [p["message"] for p in response.json()["problems"]] == [expected]


def test_registration_names_the_missing_fields_of_its_kind(desk: Desk) -> None:
    response = desk.post("/api/participants", {"kind": "partner", "name": "Shop"}, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    fields = {p["field"] for p in response.json()["problems"] if p["code"] == "FIELD_REQUIRED"}
    assert fields == {"legal_form", "iin_bin", "phone", "legal_address", "tariff", "bank_account",
                      "agreement_number", "kyc_questionnaire"}
    no_kind = desk.post("/api/participants", {"name": "Who"})
    assert [(p["field"], p["code"]) for p in no_kind.json()["problems"]] == [("kind", "FIELD_REQUIRED")]


@pytest.mark.parametrize(("body", "field", "code"), [
    ({"amount": "-5.00"}, "amount", "FIELD_INVALID"),
    ({"amount": "0"}, "amount", "FIELD_INVALID"),
    ({"amount": "1.001"}, "amount", "FIELD_INVALID"),
    ({"amount": "1e400"}, "amount", "FIELD_INVALID"),
    ({"amount": "99999999999999999999999"}, "amount", "FIELD_INVALID"),
    ({"amount": "NaN"}, "amount", "FIELD_INVALID"),
    ({"amount": True}, "amount", "FIELD_INVALID"),
    ({"amount": ["1"]}, "amount", "FIELD_INVALID"),
    ({"payer_wallet_id": 12}, "payer_wallet_id", "FIELD_INVALID"),
    ({"payer_wallet_id": "not-a-uuid"}, "payer_wallet_id", "FIELD_INVALID"),
    ({"purpose": "x" * 301}, "purpose", "FIELD_INVALID"),
    ({"surprise": 1}, "surprise", "FIELD_UNKNOWN"),
])
def test_bad_values_get_a_field_message(desk: Desk, body: dict[str, object], field: str, code: str) -> None:
    valid = {"payer_wallet_id": "00000000-0000-4000-8000-000000000001",
             "payee_wallet_id": "00000000-0000-4000-8000-000000000002", "amount": "1.00", "purpose": "goods"}
    response = desk.post("/api/payments", {**valid, **body})
    assert response.status_code == 422, response.text
    assert [(p["field"], p["code"]) for p in response.json()["problems"]] == [(field, code)]


@pytest.mark.parametrize("raw", [b"{", b"not json", b"\xff\xfe", b"[1, 2", b'{"amount": 1,}'])
def test_malformed_json_is_400(desk: Desk, raw: bytes) -> None:
    headers = {**desk.headers, "Idempotency-Key": "k-malformed", "Content-Type": "application/json"}
    response = desk.client.post("/api/payments", content=raw, headers=headers)
    assert response.status_code in (400, 422), response.text
    assert response.json()["error"]["code"] in ("MALFORMED_JSON", "REQUEST_INVALID")


def test_wrong_body_type_and_unknown_routes(desk: Desk) -> None:
    response = desk.post("/api/payments", [1, 2, 3])  # type: ignore[arg-type]
    assert response.status_code == 422
    assert desk.client.get("/api/nowhere", headers=desk.headers).status_code == 404
    assert desk.client.get("/api/wallets/not-a-uuid", headers=desk.headers).json()["error"]["code"] == \
        "WALLET_NOT_FOUND"
    assert desk.client.delete("/api/payments", headers=desk.headers).status_code == 405


def test_openapi_is_published(desk: Desk) -> None:
    document = desk.client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.")
    for path in ("/api/payments", "/api/transfers", "/api/returns", "/api/redemptions", "/api/issuances",
                 "/api/quotes", "/api/participants", "/api/wallets", "/api/operations/{operation_id}/receipt"):
        assert path in document["paths"], path
    parameters = document["paths"]["/api/payments"]["post"]["parameters"]
    assert any(p["name"] == "Idempotency-Key" for p in parameters)


def test_every_code_speaks_three_languages() -> None:
    for code, texts in catalog().items():
        assert set(texts) == set(LANGUAGES), code
        assert all(texts[lang].strip() for lang in LANGUAGES), code


def test_language_negotiation() -> None:
    assert pick_language("kk-KZ") == "kk"
    assert pick_language("fr, en;q=0.5, ru;q=0.7") == "ru"
    assert pick_language("*") == "ru"
    assert pick_language("en;q=0") == "ru"
