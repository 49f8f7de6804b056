"""The money lane answers every money-operation request exactly as FastAPI alone does, and records the
same events: the same 24 kinds of request go to an application with the lane and to one without it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from access_support import api_client_headers, bearer, make_api_client, staff_headers, unique_login
from business_support import Desk, World, count_thread_serves, make_world, open_desk
from conftest import PostgresServer, wait_until
from fastapi.testclient import TestClient
from sqlalchemy import text

from oson_operator.api import create_app, money_lane
from oson_operator.api.routers import operations
from oson_operator.domain.access import Role


@pytest.fixture()
def desk(running_pg: PostgresServer) -> Iterator[Desk]:
    with open_desk(running_pg.settings()) as desk:
        yield desk


@pytest.fixture()
def plain(desk: Desk) -> Iterator[TestClient]:
    """The same service without the lane, on the same database."""
    with TestClient(create_app(desk.settings, money_lane=False)) as client:
        yield client


def _payment(world: World, **changes: Any) -> dict[str, Any]:
    body = {"payer_wallet_id": world.client_wallet, "payee_wallet_id": world.partner_wallet, "amount": "10.00",
            "purpose": "goods"}
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


def _shape(value: Any) -> Any:
    """What must be equal between the two answers: everything but ids, times and receipt numbers."""
    if isinstance(value, dict):
        return {k: "*" if k in {"id", "request_id", "created_at", "date_time", "receipt_number", "operation_id"}
                else _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(item) for item in value]
    return value


def _events(desk: Desk, request_id: str) -> list[tuple[Any, ...]]:
    with desk.client.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(text("SELECT action, result, actor, details->>'status' FROM oson.event "
                                 "WHERE request_id = :r ORDER BY id"), {"r": request_id}).all()
    return [tuple(row) for row in rows]


Send = Callable[[TestClient, str], Any]
# What each case is answered (status, error code), with and without the lane.
EXPECTED: dict[str, tuple[int, str | None]] = {
    "payment by an operator": (201, None),
    "payment by an API client": (201, None),
    "first with a key": (201, None),
    "replay of that key": (201, None),
    "that key, another body": (422, "IDEMPOTENCY_KEY_REUSED"),
    "no idempotency key": (400, "IDEMPOTENCY_KEY_REQUIRED"),
    "no credentials": (401, "NOT_AUTHENTICATED"),
    "wrong client secret": (401, "API_CLIENT_INVALID"),
    "auditor may not pay": (403, "ROLE_FORBIDDEN"),
    "password change pending": (403, "PASSWORD_CHANGE_REQUIRED"),
    "garbled bearer token": (401, "NOT_AUTHENTICATED"),
    "API client may not issue": (403, "ROLE_FORBIDDEN"),
    "missing field": (422, "REQUEST_INVALID"),
    "unknown field": (422, "REQUEST_INVALID"),
    "wrong type": (422, "REQUEST_INVALID"),
    "missing field, no credentials": (401, "NOT_AUTHENTICATED"),
    "malformed JSON": (400, "MALFORMED_JSON"),
    "not JSON": (422, "REQUEST_INVALID"),
    "a JSON list": (422, "REQUEST_INVALID"),
    "insufficient funds": (422, "INSUFFICIENT_FUNDS"),
    "transfer to a partner": (422, "TRANSFER_RECIPIENT_KIND"),
    "unknown wallet": (422, "WALLET_NOT_FOUND"),
    "issuance": (201, None),
    "redemption of an unknown wallet": (422, "WALLET_NOT_FOUND"),
    # By now the lane's application knows the API client without a database read: it pays on the event loop.
    "payment by a known API client": (201, None),
    "first by a known API client with a key": (201, None),
    "replay by a known API client": (201, None),
    "transfer by a known API client": (422, "TRANSFER_RECIPIENT_KIND"),
}
# Served on the event loop when the lane's application is warm (the others by its worker threads).
ON_THE_LOOP = {"payment by a known API client", "first by a known API client with a key"}
REPLAYS = {"replay of that key", "replay by a known API client"}


def _restricted_operator(desk: Desk) -> dict[str, str]:
    """An operator logged in with the temporary password an administrator gave: must change it first."""
    admin = staff_headers(desk.client, desk.settings, Role.ADMIN)
    login = unique_login("lane")
    created = desk.client.post("/api/staff", headers=admin, json={"login": login, "full_name": "L. Ane",
                                                                  "role": "operator"})
    assert created.status_code == 201, created.text
    first = desk.client.post("/api/auth/login", json={"login": login, "password": created.json()["temporary_password"]})
    assert first.status_code == 200 and first.json()["must_change_password"] is True, first.text
    return bearer(first.json()["token"])


def _cases(desk: Desk, world: World) -> dict[str, Send]:
    operator = desk.headers
    auditor = staff_headers(desk.client, desk.settings, Role.AUDITOR)
    restricted = _restricted_operator(desk)
    client_id, secret = make_api_client(desk.settings, "lane partner")
    partner = api_client_headers(client_id, secret)
    wrong_secret = api_client_headers(client_id, secret + "x")

    def post(path: str, body: Any, headers: dict[str, str], *, key: str | None = "new",
             raw: str | None = None, content_type: str = "application/json") -> Send:
        def send(client: TestClient, request_id: str) -> Any:
            all_headers = {**headers, "X-Request-ID": request_id, "Content-Type": content_type,
                           "Accept-Language": "ru"}
            if key is not None:
                all_headers["Idempotency-Key"] = str(uuid.uuid4()) if key == "new" else f"{key}-{id(client)}"
            return client.post(path, content=raw if raw is not None else json.dumps(body), headers=all_headers)
        return send

    replay_key, known_key = f"replay-{uuid.uuid4()}", f"known-{uuid.uuid4()}"
    return {
        "payment by an operator": post("/api/payments", _payment(world), operator),
        "payment by an API client": post("/api/payments", _payment(world), partner),
        "first with a key": post("/api/payments", _payment(world, amount="11.00"), operator, key=replay_key),
        "replay of that key": post("/api/payments", _payment(world, amount="11.00"), operator, key=replay_key),
        "that key, another body": post("/api/payments", _payment(world, amount="12.00"), operator, key=replay_key),
        "no idempotency key": post("/api/payments", _payment(world), operator, key=None),
        "no credentials": post("/api/payments", _payment(world), {}),
        "wrong client secret": post("/api/payments", _payment(world), wrong_secret),
        "auditor may not pay": post("/api/payments", _payment(world), auditor),
        "password change pending": post("/api/payments", _payment(world), restricted),
        "garbled bearer token": post("/api/payments", _payment(world), bearer("not-a-session")),
        "API client may not issue": post("/api/issuances", {"wallet_id": world.client_wallet, "amount": "5.00",
                                                            "money_reference": "ref"}, partner),
        "missing field": post("/api/payments", _payment(world, purpose=None), operator),
        "unknown field": post("/api/payments", _payment(world, tip="1"), operator),
        "wrong type": post("/api/payments", _payment(world, amount=[1]), operator),
        "missing field, no credentials": post("/api/payments", _payment(world, purpose=None), {}),
        "malformed JSON": post("/api/payments", None, operator, raw='{"amount": '),
        "not JSON": post("/api/payments", _payment(world), operator, content_type="text/plain"),
        "a JSON list": post("/api/payments", [1], operator),
        "insufficient funds": post("/api/payments", _payment(world, amount="9000000.00"), operator),
        "transfer to a partner": post("/api/transfers", _payment(world), operator),
        "unknown wallet": post("/api/payments", _payment(world, payee_wallet_id=str(uuid.uuid4())), operator),
        "issuance": post("/api/issuances", {"wallet_id": world.client_wallet, "amount": "5.00",
                                            "money_reference": "ref"}, operator),
        "redemption of an unknown wallet": post("/api/redemptions", {
            "wallet_id": str(uuid.uuid4()), "amount": "5.00",
            "bank_account": {"iban": "KZ123456789012345678", "bik": "HSBKKZKX"}}, operator),
        "payment by a known API client": post("/api/payments", _payment(world), partner),
        "first by a known API client with a key": post("/api/payments", _payment(world, amount="13.00"), partner,
                                                       key=known_key),
        "replay by a known API client": post("/api/payments", _payment(world, amount="13.00"), partner,
                                             key=known_key),
        "transfer by a known API client": post("/api/transfers", _payment(world), partner),
    }


def test_the_lane_answers_and_records_exactly_as_fastapi_alone(desk: Desk, plain: TestClient,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    world = make_world(desk, funds="10000.00")
    cases = _cases(desk, world)
    assert set(cases) == set(EXPECTED)
    by_threads: set[str] = set()
    serve = money_lane._serve
    monkeypatch.setattr(money_lane, "_serve", lambda *args: by_threads.add(name) or serve(*args))
    assert wait_until(lambda: desk.client.app.state.api_client_cache.trusted, timeout=10)  # type: ignore[attr-defined]
    for name, send in cases.items():
        answers = []
        for client in (desk.client, plain):
            request_id = f"lane-{uuid.uuid4()}"
            response = send(client, request_id)
            headers = {h: response.headers.get(h) for h in ("content-type", "www-authenticate", "idempotent-replayed")}
            assert response.headers.get("x-request-id") == request_id, name
            answers.append((response.status_code, headers, _shape(response.json()), _events(desk, request_id)))
        assert answers[0] == answers[1], name
        assert (answers[0][0], (answers[0][2].get("error") or {}).get("code")) == EXPECTED[name], name
        assert (answers[0][1]["idempotent-replayed"] == "true") == (name in REPLAYS), name
    assert ON_THE_LOOP.isdisjoint(by_threads) and "replay by a known API client" in by_threads
    assert desk.get("/api/ledger/check")["ok"] is True


def test_payments_take_the_lane_and_other_requests_do_not(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    world = make_world(desk, funds="10000.00")
    served = count_thread_serves(monkeypatch)
    desk.pay(world.client_wallet, world.partner_wallet, "1.00", expect=201)
    desk.post("/api/payments", _payment(world, purpose=None), expect=422)  # invalid: FastAPI answers
    desk.register("issuer")  # another route
    assert served == ["/api/payments"]


def test_a_route_without_the_lane_shape_is_refused_when_the_application_is_built() -> None:
    def lookup(request: Any, body: Any, principal: Any) -> None: ...

    with pytest.raises(LookupError, match="lookup"):
        money_lane.lane_routes(operations.router, [lookup])
    route = next(r for r in operations.router.routes if getattr(r, "path", None) == "/api/quotes")
    with pytest.raises(TypeError, match="/api/quotes"):
        money_lane.lane_route(route)  # type: ignore[arg-type]
