"""Money operations through the HTTP API against the real database: each operation and each refusal."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from business_support import Desk, World, make_world, open_desk
from conftest import PostgresServer

from oson_operator.domain.clock import ManualClock

# 2026-06-10 12:00 Almaty, a Wednesday.
NOON = datetime(2026, 6, 10, 7, 0, tzinfo=UTC)
MCI_2026 = 4325


@pytest.fixture()
def clock() -> ManualClock:
    return ManualClock(NOON)


@pytest.fixture()
def desk(running_pg: PostgresServer, clock: ManualClock) -> Iterator[Desk]:
    with open_desk(running_pg.settings(), clock) as desk:
        yield desk


def test_payment_posts_balanced_entries_and_a_receipt(desk: Desk) -> None:
    world = make_world(desk, funds="10000.00")
    response = desk.pay(world.client_wallet, world.partner_wallet, "1000.00", expect=201)
    body = response.json()
    operation = body["operation"]
    # oson_merchants: 2% + 200 KZT, paid by the client (§8.2, §8.4).
    assert operation["commission"] == "220.00"
    assert desk.balance(world.client_wallet) == "8780.00"
    assert desk.balance(world.partner_wallet) == "1000.00"
    entries = desk.get(f"/api/operations/{operation['id']}")["entries"]
    assert sum(Decimal(e["amount"]) for e in entries) == 0
    receipt = desk.get(f"/api/operations/{operation['id']}/receipt")["receipt"]
    assert receipt == body["receipt"]
    for field in ("amount", "date_time", "receipt_number", "payee", "operation_id", "payer_wallet_id", "operator"):
        assert receipt[field], field
    assert receipt["payee"]["iin_bin"] and receipt["payee"]["name"]
    assert receipt["operator"]["phones"]
    assert receipt["date_time"].endswith("+05:00")
    assert desk.get("/api/ledger/check")["ok"] is True


def test_quote_matches_the_operation(desk: Desk) -> None:
    world = make_world(desk)
    quote = desk.get("/api/quotes", kind="payment", amount="1234.56", payee_wallet_id=world.partner_wallet)["quote"]
    operation = desk.pay(world.client_wallet, world.partner_wallet, "1234.56", expect=201).json()["operation"]
    assert quote["commission"] == operation["commission"] == "224.69"
    assert quote["total_debited"] == "1459.25"


def refusal(desk: Desk, response: object, code: str) -> dict[str, object]:
    assert response.status_code == 422, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["error"]["code"] == code
    assert body["error"]["message"] and body["error"]["message"] != code
    assert body["operation"]["status"] == "refused" and body["operation"]["reason_code"] == code
    return body


def test_insufficient_funds_is_refused_and_recorded(desk: Desk) -> None:
    world = make_world(desk, funds="100.00")
    body = refusal(desk, desk.pay(world.client_wallet, world.partner_wallet, "100.00"), "INSUFFICIENT_FUNDS")
    recorded = desk.get(f"/api/operations/{body['operation']['id']}")["operation"]
    assert recorded["status"] == "refused" and recorded["reason_code"] == "INSUFFICIENT_FUNDS"
    assert desk.balance(world.client_wallet) == "100.00"


def test_transfer_goes_to_legal_entities_only(desk: Desk) -> None:
    world = make_world(desk)
    company = desk.register("legal_entity")["id"]
    company_wallet = desk.wallet(company, world.issuer)
    body = {"payer_wallet_id": world.client_wallet, "payee_wallet_id": company_wallet, "amount": "500.00",
            "purpose": "services"}
    assert desk.post("/api/transfers", body, expect=201).json()["operation"]["kind"] == "transfer"
    person = desk.register("individual")["id"]
    person_wallet = desk.wallet(person, world.issuer)
    body["payee_wallet_id"] = person_wallet
    refusal(desk, desk.post("/api/transfers", body), "TRANSFER_RECIPIENT_KIND")
    body["payee_wallet_id"] = company_wallet
    assert desk.post("/api/payments", body).json()["error"]["code"] == "PAYEE_NOT_PARTNER"


def test_payment_refusals(desk: Desk) -> None:
    world = make_world(desk)
    refusal(desk, desk.pay(world.client_wallet, world.client_wallet, "1.00"), "SAME_WALLET")
    other_issuer = desk.register("issuer")["id"]
    foreign = desk.wallet(world.partner, other_issuer)
    refusal(desk, desk.pay(world.client_wallet, foreign, "1.00"), "ISSUER_MISMATCH")
    refusal(desk, desk.pay(world.client_wallet, "00000000-0000-4000-8000-000000000999", "1.00"), "WALLET_NOT_FOUND")


def test_redemption_refused_for_unidentified_individuals(desk: Desk) -> None:
    world = make_world(desk, identification="unidentified", funds="1000.00")
    body = {"wallet_id": world.client_wallet, "amount": "100.00",
            "bank_account": {"iban": "KZ123456789012345678", "bik": "HSBKKZKX"}}
    refusal(desk, desk.post("/api/redemptions", body), "REDEMPTION_UNIDENTIFIED")
    desk.identify(world.client, "simplified")
    done = desk.post("/api/redemptions", body, expect=201).json()
    assert done["operation"]["kind"] == "redemption"
    assert desk.balance(world.client_wallet) == "900.00"


def test_blocking_and_the_aml_block(desk: Desk, clock: ManualClock) -> None:
    world = make_world(desk)
    desk.post(f"/api/wallets/{world.client_wallet}/block", {"reason": "loss_or_theft"}, expect=200)
    refusal(desk, desk.pay(world.client_wallet, world.partner_wallet, "1.00"), "WALLET_BLOCKED")
    # Credits into a fully blocked wallet are refused too.
    refusal(desk, desk.post("/api/issuances", {"wallet_id": world.client_wallet, "amount": "5.00",
                                               "money_reference": "x"}), "RECIPIENT_WALLET_BLOCKED")
    desk.post(f"/api/wallets/{world.client_wallet}/unblock", {"reason": "client identified"}, expect=200)
    desk.pay(world.client_wallet, world.partner_wallet, "1.00", expect=201)
    # A debit-only block (AML freeze) lets incoming credits in.
    desk.post(f"/api/wallets/{world.client_wallet}/block", {"reason": "rules_violation", "mode": "debit"}, expect=200)
    desk.issue(world.client_wallet, "5.00")
    refusal(desk, desk.pay(world.client_wallet, world.partner_wallet, "1.00"), "WALLET_BLOCKED")
    desk.post(f"/api/wallets/{world.client_wallet}/unblock", {"reason": "cleared"}, expect=200)
    # §16.8: up to 5 working days; Wednesday + 5 working days ends at the start of next Thursday's next day.
    wallet = desk.post(f"/api/wallets/{world.client_wallet}/aml-block", {"working_days": 5}, expect=200).json()
    assert wallet["wallet"]["blocked_until"].startswith("2026-06-17T19:00:00")
    assert desk.post(f"/api/wallets/{world.client_wallet}/aml-block", {"working_days": 6}).status_code == 422
    refusal(desk, desk.pay(world.client_wallet, world.partner_wallet, "1.00"), "WALLET_BLOCKED")
    clock.advance(timedelta(days=8))
    desk.relogin()
    desk.pay(world.client_wallet, world.partner_wallet, "1.00", expect=201)
    history = desk.get(f"/api/wallets/{world.client_wallet}")["history"]
    assert [h["action"] for h in history] == ["open", "block", "unblock", "block", "unblock", "aml_block"]


def _world_for_returns(desk: Desk) -> tuple[World, dict[str, str]]:
    world = make_world(desk, funds="10000.00")
    payment = desk.pay(world.client_wallet, world.partner_wallet, "1000.00", expect=201).json()["operation"]
    return world, payment


def _return(desk: Desk, original: str, case: str, **extra: object) -> object:
    body: dict[str, object] = {"original_operation_id": original, "case": case,
                               "authorization": {"authorized_by": "operator", "reference": "A-1"},
                               "grounds": "client claim"}
    body.update(extra)
    return desk.post("/api/returns", body)


def test_returns_by_case(desk: Desk) -> None:
    world, payment = _world_for_returns(desk)
    # Technical failure: the full amount, commission included (§5.5.2 case 2).
    refusal(desk, _return(desk, payment["id"], "technical_failure", amount="10.00"), "RETURN_MUST_BE_FULL")
    done = _return(desk, payment["id"], "technical_failure")
    assert done.status_code == 201, done.text  # type: ignore[attr-defined]
    assert desk.balance(world.client_wallet) == "10000.00"
    assert desk.balance(world.partner_wallet) == "0.00"
    refusal(desk, _return(desk, payment["id"], "consumer_protection"), "RETURN_EXCEEDS_ORIGINAL")

    world, payment = _world_for_returns(desk)
    refusal(desk, _return(desk, payment["id"], "cancelled_sale"), "RETURN_ISSUER_PERMISSION_REQUIRED")
    issuer_ok = {"authorization": {"authorized_by": "issuer", "reference": "I-1"}}
    refusal(desk, _return(desk, payment["id"], "cancelled_sale", **issuer_ok), "RETURN_APPLICATIONS_REQUIRED")
    refusal(desk, _return(desk, payment["id"], "wrong_recipient"), "RETURN_RECIPIENT_ORDER_REQUIRED")
    # Partial consumer-protection return; the commission is not refunded.
    part = _return(desk, payment["id"], "consumer_protection", amount="400.00")
    assert part.status_code == 201  # type: ignore[attr-defined]
    assert desk.balance(world.client_wallet) == "9180.00"  # 10000 - 1220 + 400
    # The partner moved the rest away: a cancelled sale can no longer be returned.
    desk.post("/api/redemptions", {"wallet_id": world.partner_wallet, "amount": "600.00",
                                   "bank_account": {"iban": "KZ123456789012345678", "bik": "HSBKKZKX"}}, expect=201)
    refusal(desk, _return(desk, payment["id"], "cancelled_sale", applications={"client": "c", "partner": "p"},
                          **issuer_ok), "RETURN_FUNDS_MOVED")
    issuance = desk.issue(world.client_wallet, "1.00")["operation"]["id"]
    refusal(desk, _return(desk, issuance, "consumer_protection"), "RETURN_NOT_ALLOWED_FOR_KIND")
    assert desk.get("/api/ledger/check")["ok"] is True


def test_issuance_commission_and_balance(desk: Desk) -> None:
    world = make_world(desk, funds=None)
    done = desk.issue(world.client_wallet, "2500.50")
    assert done["operation"]["amount"] == "2500.50" and done["operation"]["commission"] == "0.00"
    assert desk.balance(world.client_wallet) == "2500.50"


def test_participant_status_and_identification_history(desk: Desk) -> None:
    world = make_world(desk)
    desk.post(f"/api/participants/{world.client}/status", {"status": "suspended", "reason": "court order"},
              expect=200)
    refusal(desk, desk.pay(world.client_wallet, world.partner_wallet, "1.00"), "PARTICIPANT_NOT_ACTIVE")
    desk.post(f"/api/participants/{world.client}/status", {"status": "active", "reason": "lifted"}, expect=200)
    detail = desk.get(f"/api/participants/{world.client}")
    assert [(h["field"], h["new_value"]) for h in detail["history"]] == [
        ("identification", "identified"), ("status", "suspended"), ("status", "active")]
    assert detail["wallets"][0]["id"] == world.client_wallet
    again = desk.post(f"/api/participants/{world.client}/identification",
                      {"level": "simplified", "method": "in_person", "evidence": "x"})
    assert again.json()["error"]["code"] == "IDENTIFICATION_NOT_HIGHER"


def test_registration_rules(desk: Desk) -> None:
    issuer = desk.register("issuer")
    duplicate = desk.post("/api/participants", {"kind": "issuer", "name": "Again", "iin_bin": issuer["iin_bin"],
                                                "issuer_type": "bank", "license_number": "L",
                                                "agreement_number": "A"})
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "PARTICIPANT_EXISTS"
    young = desk.post("/api/participants", {
        "kind": "individual", "name": "Kid", "iin_bin": "120101000001", "phone": "+77010000000",
        "birth_date": "2013-01-01", "resident": True, "public_offer_accepted": True, "personal_data_consent": True})
    assert young.json()["error"]["code"] == "CLIENT_TOO_YOUNG"
    teen = {"kind": "individual", "name": "Teen", "iin_bin": "100101000001", "phone": "+77010000000",
            "birth_date": "2010-01-01", "resident": True, "public_offer_accepted": True,
            "personal_data_consent": True}
    assert desk.post("/api/participants", teen).json()["error"]["code"] == "REPRESENTATIVE_CONSENT_REQUIRED"
    created = desk.post("/api/participants", {**teen, "representative_consent": True}, expect=201).json()
    assert created["participant"]["identification"] == "unidentified"


def test_recipient_and_original_must_exist_and_be_active(desk: Desk) -> None:
    world = make_world(desk)
    desk.post(f"/api/participants/{world.partner}/status", {"status": "suspended", "reason": "audit"}, expect=200)
    refusal(desk, desk.pay(world.client_wallet, world.partner_wallet, "1.00"), "RECIPIENT_NOT_ACTIVE")
    refusal(desk, _return(desk, "00000000-0000-4000-8000-000000000777", "consumer_protection"),
            "OPERATION_NOT_FOUND")


def test_issuance_commission_comes_from_the_business_configuration(
    running_pg: PostgresServer, clock: ManualClock, tmp_path: Path,
) -> None:
    config = tmp_path / "business.yaml"
    config.write_text("tariffs:\n  issuance: {title: Issuance, percent: '1', fixed: '100'}\n"
                      "  oson_merchants: {title: Merchants, percent: '2', fixed: '200'}\n")
    with open_desk(running_pg.settings(business_config_file=config), clock) as desk:
        world = make_world(desk, funds=None)
        done = desk.issue(world.client_wallet, "1000.00")["operation"]
        assert done["commission"] == "110.00"
        assert desk.balance(world.client_wallet) == "890.00"
        too_small = desk.post("/api/issuances", {"wallet_id": world.client_wallet, "amount": "100.00",
                                                 "money_reference": "r"})
        refusal(desk, too_small, "AMOUNT_BELOW_COMMISSION")
        quote = desk.get("/api/quotes", kind="issuance", amount="1000.00")["quote"]
        assert quote["commission"] == "110.00" and quote["credited"] == "890.00"
