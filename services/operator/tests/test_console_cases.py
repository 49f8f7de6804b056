"""The console's case pages in a real headless Chromium: recording an information-security incident and
working its 24-hour plan and 48-hour National Bank card, AML list import that freezes a wallet, the
suspicious-transaction report and the release; auditors see all of it read-only."""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from access_support import engine_for
from console_support import (  # noqa: F401  (fixtures: console, page)
    ConsoleWorld,
    api_session,
    console_fixture,
    log_in,
    page_fixture,
    screenshot,
    staff_with_second_factor,
)
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from playwright.sync_api import expect
from sqlalchemy import text

from oson_operator.domain.access import Role

ALMATY = ZoneInfo("Asia/Almaty")


def _almaty_local(moment: datetime) -> str:
    return moment.astimezone(ALMATY).strftime("%Y-%m-%dT%H:%M")


def test_operator_records_an_incident_and_works_its_deadlines(console: ConsoleWorld, page: Any) -> None:
    login, password = staff_with_second_factor(console.settings, Role.OPERATOR)
    log_in(page, console.settings, login, password)
    title = f"Unknown logins on the admin VPN {secrets.token_hex(3)}"
    page.get_by_role("navigation").get_by_role("link", name="Incidents").click()
    page.get_by_role("link", name="Record an incident").click()
    expect(page.locator("h1")).to_have_text("Record an incident")
    page.get_by_role("button", name="Record an incident").click()  # empty: the API names every missing field
    alert = page.get_by_role("alert")
    expect(alert).to_have_attribute("data-code", "REQUEST_INVALID")
    expect(page.locator("textarea[name=description]")).to_have_attribute("aria-invalid", "true")

    page.get_by_label("Incident", exact=True).fill(title)
    page.get_by_label("Category (§13.9)").select_option("unauthorized_access")
    page.get_by_label("Description").fill("Twelve refused logins from one address, then a success.")
    # Detected 47 hours ago: the 24-hour plan is late, the 48-hour card is due within the hour.
    page.get_by_label("Detected").fill(_almaty_local(datetime.now(ALMATY) - timedelta(hours=47)))
    page.get_by_label("Systems affected").fill("vpn-gw-1")
    screenshot(page, "incident-new")
    page.get_by_role("button", name="Record an incident").click()

    expect(page.locator("h1")).to_contain_text(title)
    expect(page.locator("#deadline-plan [data-state]")).to_have_attribute("data-state", "overdue")
    expect(page.locator("#deadline-nbk [data-state]")).to_have_attribute("data-state", "due_soon")
    url = page.url

    page.get_by_role("navigation").get_by_role("link", name="Dashboard").click()
    dashboard = page.locator("#dash-incidents")
    expect(dashboard.locator("tbody tr").filter(has_text=title)).to_have_count(2)  # the plan and the card
    expect(page.locator("#dash-counts [data-count=open_incidents]")).to_have_text(re.compile(r"^[1-9]\d*\+?$"))
    screenshot(page, "dashboard-deadlines")

    page.goto(url)
    plan = page.locator("#act-plan")
    plan.get_by_label("Urgent response plan (§13.7)").fill("Block the address, reset the account, review the logs.")
    plan.get_by_role("button", name="Save").click()
    expect(page.locator("#deadline-plan [data-state]")).to_have_attribute("data-state", "done_late")
    nbk = page.locator("#act-nbk")
    nbk.locator("summary").click()
    nbk.get_by_label("National Bank platform reference").fill("NBK-2026-0042")
    nbk.get_by_role("button", name="Save").click()
    expect(page.locator("#deadline-nbk [data-state]")).to_have_attribute("data-state", "done")
    expect(page.locator("table.data").last).to_contain_text("nbk_report")  # the history
    screenshot(page, "incident")

    page.get_by_role("button", name="Show the card").click()
    card = page.locator(".incident-card")
    expect(card).to_contain_text(title)
    expect(card).to_contain_text("NBK-2026-0042")
    page.emulate_media(media="print")
    assert page.evaluate("getComputedStyle(document.querySelector('details.action')).display") == "none"
    page.emulate_media(media="screen")
    screenshot(page, "incident-card")
    with page.expect_download() as card_csv:
        page.get_by_role("button", name="Download CSV").click()
    assert title in Path(card_csv.value.path()).read_bytes().decode("utf-8-sig")
    with page.expect_download() as card_pdf:
        page.get_by_role("button", name="Download PDF").click()
    assert Path(card_pdf.value.path()).read_bytes().startswith(b"%PDF-")
    assert card_pdf.value.suggested_filename.endswith(".pdf")


def test_aml_list_import_freezes_the_match_and_the_case_is_released(console: ConsoleWorld, page: Any) -> None:
    with engine_for(console.settings).connect() as connection:
        iin = connection.execute(text("SELECT iin_bin FROM oson.participant WHERE id = CAST(:id AS uuid)"),
                                 {"id": console.world.client}).scalar_one()
    login, password = staff_with_second_factor(console.settings, Role.OPERATOR)
    log_in(page, console.settings, login, password)
    page.get_by_role("navigation").get_by_role("link", name="AML/CFT").click()
    expect(page.locator("h1")).to_have_text("AML/CFT")
    page.locator("#act-import summary").click()
    page.get_by_label("List file (CSV or XML)").set_input_files(files=[{
        "name": "list.csv", "mimeType": "text/csv",
        "buffer": f"name,birth_date,iin_bin,reference\nListed Person {secrets.token_hex(4)},,{iin},KZ-TL-1\n".encode(),
    }])
    page.get_by_label("Published by").fill("Financial Monitoring Agency")
    page.get_by_role("button", name="Import and screen").click()
    opened = page.locator("#act-import table.data tbody tr")
    expect(opened).to_have_count(1)
    expect(opened.first).to_contain_text("Frozen")
    screenshot(page, "aml-import")

    opened.first.get_by_role("link").first.click()
    expect(page.locator("h1")).to_contain_text("AML case No.")
    expect(page.locator("#case-status")).to_have_attribute("data-status", "frozen")
    reports = page.locator("table.data").first
    expect(reports.locator("[data-state]")).to_have_attribute("data-state", re.compile("pending|due_soon"))
    reports.locator("details.action summary").click()
    reports.get_by_label("Receipt reference of the authorized body").fill("AFM-77")
    reports.get_by_role("button", name="Save").click()
    expect(page.locator("table.data").first).to_contain_text("AFM-77")

    release = page.locator("#act-release")
    release.locator("summary").click()
    release.get_by_label("Reason").fill("Not the listed person: different birth date on the ID card.")
    release.get_by_label("How the person was identified").fill("ID card 045678123")
    release.get_by_label("Confirmation code sent by").select_option("sms")
    release.get_by_label("Reference of the code sent").fill("SMS-991")
    release.get_by_role("button", name="Release (§16.4)").click()
    expect(page.locator("#case-status")).to_have_attribute("data-status", "released")
    expect(page.locator("#act-release")).to_have_count(0)
    screenshot(page, "aml-case")


def test_operator_registers_a_written_claim_past_its_month_and_answers_it(console: ConsoleWorld, page: Any) -> None:
    login, password = staff_with_second_factor(console.settings, Role.OPERATOR)
    log_in(page, console.settings, login, password)
    subject = f"Double charge {secrets.token_hex(3)}"
    page.get_by_role("navigation").get_by_role("link", name="Claims").click()
    page.get_by_role("link", name="Register a claim").click()
    page.get_by_label("Claimant").fill("Aigerim Nurlanovna")
    page.get_by_label("Address for the answer").fill("aigerim@example.kz")
    page.get_by_label("Received by").select_option("email")
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("Claim", exact=True).fill("I was charged twice for one purchase.")
    page.get_by_label("Received", exact=True).fill(_almaty_local(datetime.now(ALMATY) - timedelta(days=32)))
    page.get_by_label("Operation").fill(console.world.payment)
    page.get_by_role("button", name="Register a claim").click()
    expect(page.locator("h1")).to_contain_text(subject)
    expect(page.locator("#dispute-deadline [data-state]")).to_have_attribute("data-state", "overdue")

    page.get_by_role("navigation").get_by_role("link", name="Dashboard").click()
    expect(page.locator("#dash-disputes tbody tr").filter(has_text=subject)).to_have_count(1)
    page.locator("#dash-disputes").get_by_role("link", name=subject).click()
    work = page.locator("#act-dispute")
    work.get_by_label("Status").select_option("answered")
    work.get_by_label("Note").fill("Checked the ledger: one operation only.")
    work.get_by_label("Written answer").fill("The second line on your statement is the commission.")
    work.get_by_role("button", name="Save").click()
    expect(page.locator("#dispute-status")).to_have_attribute("data-status", "answered")
    expect(page.locator("#dispute-deadline [data-state]")).to_have_attribute("data-state", "done_late")
    expect(page.locator("#act-dispute")).to_have_count(0)
    screenshot(page, "dispute")


def test_documents_received_with_a_registered_key_are_accepted_tampered_ones_refused_and_sent_ones_signed(
        console: ConsoleWorld, page: Any) -> None:
    partner_key = Ed25519PrivateKey.generate()
    pem = partner_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    counterparty = f"halyk-{secrets.token_hex(3)}"
    register = f"register;2026-11-21;{secrets.token_hex(4)}\n".encode()
    login, password = staff_with_second_factor(console.settings, Role.ADMIN)
    log_in(page, console.settings, login, password)
    page.get_by_role("navigation").get_by_role("link", name="Documents").click()
    add_key = page.locator("#act-key")
    add_key.locator("summary").click()
    add_key.get_by_label("Counterparty").fill(counterparty)
    add_key.get_by_label("Public key or certificate (PEM)").fill(pem)
    add_key.get_by_role("button", name="Register a key").click()
    expect(page.locator("table.data").last.locator("tbody tr").filter(has_text=counterparty)).to_have_count(1)

    def receive(content: bytes, signature: bytes) -> None:
        form = page.locator("#act-receive")
        if form.get_attribute("open") is None:
            form.locator("summary").click()
        form.get_by_label("Counterparty").fill(counterparty)
        form.get_by_label("Document type").select_option("register")
        form.get_by_label("File", exact=True).set_input_files(
            files=[{"name": "register.csv", "mimeType": "text/csv", "buffer": content}])
        form.get_by_label("Detached signature file").set_input_files(
            files=[{"name": "register.csv.sig", "mimeType": "application/octet-stream", "buffer": signature}])
        form.get_by_role("button", name="Verify and archive").click()

    receive(register, partner_key.sign(register))
    expect(page.locator("#document-status")).to_have_attribute("data-status", "accepted")
    with page.expect_download() as received:
        page.get_by_role("button", name="Download the file").click()
    assert Path(received.value.path()).read_bytes() == register
    screenshot(page, "document-received")

    # The same signature on changed bytes: refused, and the refused file is archived as evidence.
    page.get_by_role("navigation").get_by_role("link", name="Documents").click()
    receive(register.replace(b"register", b"REGISTER"), partner_key.sign(register))
    alert = page.locator("#act-receive [role=alert]")
    expect(alert).to_have_attribute("data-code", "DOCUMENT_SIGNATURE_INVALID")
    alert.get_by_role("link").click()
    expect(page.locator("#document-status")).to_have_attribute("data-status", "refused")

    # Sending: the file is signed with the appliance's key, whose public half counterparties get here.
    page.get_by_role("navigation").get_by_role("link", name="Documents").click()
    page.get_by_role("button", name="Show the public key to give to counterparties").click()
    appliance_key = serialization.load_pem_public_key(page.locator("main pre").last.inner_text().encode())
    send = page.locator("#act-send")
    send.locator("summary").click()
    send.get_by_label("Counterparty").fill(counterparty)
    send.get_by_label("Document type").select_option("notice")
    notice = b"Notice of a changed tariff"
    send.get_by_label("File", exact=True).set_input_files(
        files=[{"name": "notice.txt", "mimeType": "text/plain", "buffer": notice}])
    send.get_by_role("button", name="Sign and archive").click()
    expect(page.locator("#document-status")).to_have_attribute("data-status", "sent")
    with page.expect_download() as signature:
        page.get_by_role("button", name="Download the signature").click()
    assert isinstance(appliance_key, Ed25519PublicKey)
    appliance_key.verify(Path(signature.value.path()).read_bytes(), notice)  # raises if it does not verify
    screenshot(page, "document-sent")


def test_auditor_sees_incidents_and_aml_without_action_buttons(console: ConsoleWorld, page: Any) -> None:
    with api_session(console, Role.OPERATOR) as api:
        incident = api.post("/api/incidents", headers={"Idempotency-Key": str(uuid.uuid4())}, json={
            "title": "Phishing mail to the accountants", "description": "Three mails, no click.",
            "category": "other"}).raise_for_status().json()["incident"]
        case = api.post("/api/aml/cases", headers={"Idempotency-Key": str(uuid.uuid4())}, json={
            "participant_id": console.world.partner, "reason": "Round sums every hour",
        }).raise_for_status().json()["case"]
    login, password = staff_with_second_factor(console.settings, Role.AUDITOR)
    log_in(page, console.settings, login, password)
    page.get_by_role("navigation").get_by_role("link", name="Incidents").click()
    expect(page.locator("h1")).to_have_text("Information-security incidents")
    expect(page.get_by_role("link", name="Record an incident")).to_have_count(0)
    page.get_by_role("link", name="Phishing mail to the accountants").first.click()
    expect(page.locator("h1")).to_contain_text(f"Incident No. {incident['number']}")
    expect(page.locator("#deadline-nbk")).to_contain_text("not required")  # "other" is only registered
    expect(page.locator("details.action")).to_have_count(0)
    page.get_by_role("button", name="Show the card").click()  # reading is allowed
    expect(page.locator(".incident-card")).to_contain_text("Phishing mail to the accountants")
    page.goto("/#/incidents/new")
    expect(page.locator("h1")).to_have_text("Your role cannot open this page")

    page.get_by_role("navigation").get_by_role("link", name="AML/CFT").click()
    expect(page.locator("h1")).to_have_text("AML/CFT")
    expect(page.locator("details.action")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("Import|Screen|Open the case"))).to_have_count(0)
    screenshot(page, "aml-auditor")
    page.goto(f"/#/aml/{case['id']}")
    expect(page.locator("#case-status")).to_have_attribute("data-status", "open")
    expect(page.locator("details.action")).to_have_count(0)  # no control, close or "sent" for an auditor
