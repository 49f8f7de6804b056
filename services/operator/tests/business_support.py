"""Builders for business tests: an operator session and participants/wallets made through the API."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from access_support import make_app, staff_headers
from fastapi.testclient import TestClient

from oson_operator.api import money_lane
from oson_operator.domain.access import Role
from oson_operator.domain.clock import Clock
from oson_operator.settings import Settings


def iin() -> str:
    # secrets, not random: Hypothesis reseeds ``random`` for every example, which would repeat IINs.
    return "".join(secrets.choice("0123456789") for _ in range(12))


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


@dataclass
class Desk:
    """A test client logged in as an operator, with helpers that build the world through the API."""

    client: TestClient
    settings: Settings
    headers: dict[str, str]

    def post(self, path: str, body: dict[str, Any], *, idempotency_key: str | None = None,
             headers: dict[str, str] | None = None, expect: int | None = None) -> Any:
        all_headers = {**self.headers, "Idempotency-Key": idempotency_key or str(uuid.uuid4()), **(headers or {})}
        response = self.client.post(path, json=body, headers=all_headers)
        if expect is not None:
            assert response.status_code == expect, response.text
        return response

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get(path, params=params, headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()

    def register(self, kind: str, **fields: Any) -> dict[str, Any]:
        base: dict[str, Any] = {"kind": kind, "name": f"{kind} {uuid.uuid4().hex[:6]}", "iin_bin": iin()}
        if kind == "individual":
            base.update(phone="+77010000000", birth_date="1990-01-01", resident=True, public_offer_accepted=True,
                        personal_data_consent=True)
        elif kind in ("legal_entity", "individual_entrepreneur"):
            base.update(phone="+77010000001", legal_address="Almaty", head_name="Head", kyc_questionnaire="KYC-1",
                        documents=["charter"])
        elif kind == "partner":
            base.update(legal_form="legal_entity", phone="+77010000002", legal_address="Almaty",
                        tariff="oson_merchants", bank_account={"iban": "KZ123456789012345678", "bik": "HSBKKZKX"},
                        agreement_number="AG-1", kyc_questionnaire="KYC-2")
        elif kind == "issuer":
            base.update(issuer_type="bank", license_number="L-1", agreement_number="AG-2")
        elif kind == "partner_bank":
            base.update(bik="HSBKKZKX", license_number="L-2", agreement_number="AG-3")
        base.update(fields)
        return self.post("/api/participants", base, expect=201).json()["participant"]

    def wallet(self, participant_id: str, issuer_id: str) -> str:
        body = {"participant_id": participant_id, "issuer_id": issuer_id}
        return str(self.post("/api/wallets", body, expect=201).json()["wallet"]["id"])

    def identify(self, participant_id: str, level: str) -> None:
        self.post(f"/api/participants/{participant_id}/identification",
                  {"level": level, "method": "video_session", "evidence": "session-1"}, expect=200)

    def issue(self, wallet_id: str, amount: str) -> dict[str, Any]:
        body = {"wallet_id": wallet_id, "amount": amount, "money_reference": "bank-ref"}
        return self.post("/api/issuances", body, expect=201).json()

    def pay(self, payer: str, payee: str, amount: str, **kw: Any) -> Any:
        body = {"payer_wallet_id": payer, "payee_wallet_id": payee, "amount": amount, "purpose": "goods"}
        return self.post("/api/payments", body, **kw)

    def relogin(self) -> None:
        """A fresh operator session (after a test moved the clock past the idle timeout)."""
        self.headers = staff_headers(self.client, self.settings, Role.OPERATOR)

    def balance(self, wallet_id: str) -> str:
        return str(self.get(f"/api/wallets/{wallet_id}")["wallet"]["balance"])


@dataclass
class World:
    issuer: str
    client: str  # an individual
    client_wallet: str
    partner: str
    partner_wallet: str


def make_world(desk: Desk, identification: str = "identified", funds: str | None = "10000.00") -> World:
    issuer = desk.register("issuer")["id"]
    client = desk.register("individual")["id"]
    if identification != "unidentified":
        desk.identify(client, identification)
    partner = desk.register("partner")["id"]
    world = World(issuer, client, desk.wallet(client, issuer), partner, desk.wallet(partner, issuer))
    if funds:
        desk.issue(world.client_wallet, funds)
    return world


@contextmanager
def open_desk(settings: Settings, clock: Clock | None = None) -> Iterator[Desk]:
    """The application (started and stopped with its lifespan) and an operator logged in to it."""
    with TestClient(make_app(settings, clock)) as client:
        yield Desk(client, settings, staff_headers(client, settings, Role.OPERATOR))


def count_thread_serves(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the money-lane requests the worker threads serve from now on (those the lane answers
    on the event loop are not counted)."""
    served: list[str] = []
    serve = money_lane._serve

    def counted(request: Any, lane: money_lane.LaneRoute, body: Any, key: str | None) -> Any:
        served.append(lane.route.path)
        return serve(request, lane, body, key)

    monkeypatch.setattr(money_lane, "_serve", counted)
    return served
