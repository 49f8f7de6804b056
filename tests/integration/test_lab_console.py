"""The operator console end to end in the lab: Debian's headless Chromium opens the public VIP
(HAProxy -> Apache serving the console and proxying /api/ -> the app pair -> the Patroni primary), an
operator logs in with the second factor, finds a payment by search, opens the general journal for a
date range, downloads a report as PDF and CSV and records an incident. Screenshots are kept in
artifacts/console/lab-*.png.

Uses the session's lab (`running_lab` of lab_support):

    OSON_REUSE_LAB=1 .venv/bin/pytest -m lab tests/integration/test_lab_console.py
"""

from __future__ import annotations

import csv
import io
import re
import socket
import ssl
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from browser_support import CHROMIUM, chromium_missing, search_operations
from browser_support import chromium as launch_chromium
from lab_support import ARTIFACTS, Lab
from oson_operator.domain import totp

from appliance.drills.api import StaffSession, post_command, staff_session
from appliance.drills.lab_drills import make_drill_people
from appliance.drills.load import prepare_world

pytestmark = [pytest.mark.lab, pytest.mark.timeout(900)]

SHOTS = ARTIFACTS / "console"


def _enrol_second_factor(http: httpx.Client, session: StaffSession) -> str:
    """Enrol TOTP through the API as the console's own enrolment page does; returns the secret."""
    secret = str(post_command(http, "/api/auth/totp/enroll", {}, session.headers)["secret"])
    confirmed = http.post("/api/auth/totp/confirm", headers=session.headers,
                          json={"code": totp.code_at(secret, totp.time_step(datetime.now(UTC)))})
    assert confirmed.status_code == 200, confirmed.text
    return secret


def _shot(page: Any, name: str, *, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"lab-{name}.png"), full_page=full_page)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if chromium_missing():
        pytest.fail(f"{CHROMIUM} is missing: `make setup` installs Debian's chromium")
    with launch_chromium() as browser:
        yield browser


def test_console_through_the_public_vip_works_end_to_end(running_lab: Lab, chromium: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    vip = str(running_lab.topology.vips["public"].address)
    base = f"https://{vip}"
    # The certificate the browser is shown is the appliance CA's (Chromium here has no way to be handed
    # that CA, so it is checked with it here and the browser is told to accept it).
    appliance_ca = ssl.create_default_context(cafile=str(running_lab.ca_file))
    appliance_ca.wrap_socket(socket.create_connection((vip, 443), timeout=10), server_hostname=vip).close()

    with httpx.Client(base_url=base, verify=appliance_ca, timeout=30) as http:
        people = make_drill_people(running_lab.appliance)
        operator = staff_session(http, people.operator)
        secret = _enrol_second_factor(http, operator)
        world = prepare_world(http, operator, payers=1, funding="5000.00", tariff="oson_merchants")
        paid = post_command(http, "/api/payments", {
            "payer_wallet_id": world.payer_wallet_ids[0], "payee_wallet_id": world.payee_wallet_id,
            "amount": "1234.56", "purpose": "console lab"}, people.client.headers())
        payment_id = str(paid["operation"]["id"])
        # The app VMs sign outgoing documents with the key the deploy installed from the vault.
        signing_key = http.get("/api/documents/signing-key", headers=operator.headers)
        assert signing_key.status_code == 200 and "BEGIN PUBLIC KEY" in signing_key.text, signing_key.text
        # The session made for the enrolment ends here; the browser logs in on its own.
        http.post("/api/auth/logout", headers=operator.headers)

    context = chromium.new_context(base_url=base, locale="en-GB", accept_downloads=True, ignore_https_errors=True,
                                   viewport={"width": 1280, "height": 900})
    context.set_default_timeout(60_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}")
            if message.type == "error" and "401" not in message.text else None)
    try:
        # Served by Apache with its security headers.
        first = page.goto("/")
        assert first is not None and first.status == 200
        assert "default-src" in (first.headers.get("content-security-policy") or "")
        assert first.headers.get("strict-transport-security", "").startswith("max-age=")

        # Login: password, then the code of the next TOTP step (the current one went to the enrolment).
        page.locator("input[name=login]").fill(operator.credentials.login)
        page.locator("input[name=password]").fill(operator.credentials.password)
        page.locator("form button[type=submit]").click()
        code = page.locator("input[name=totp_code]")
        code.wait_for(state="visible")
        code.fill(totp.code_at(secret, totp.time_step(datetime.now(UTC)) + 1))
        page.locator("form button[type=submit]").click()
        page.wait_for_url("**/#/dashboard")
        page.locator("#dash-ledger .card-body:not([aria-busy])").wait_for()
        _shot(page, "dashboard")

        # Search: the payment made through the API, by amount.
        search_operations(page, "amount", "eq", "1234.56")
        results = page.locator(".results table.data tbody")
        expect(results).to_contain_text("1234.56")
        expect(results).to_contain_text(payment_id[:8])
        _shot(page, "search")

        # The general journal for yesterday..today holds the payment.
        page.get_by_role("navigation").get_by_role("link", name="Journals").click()
        page.get_by_label("Journal", exact=True).select_option("general")
        page.get_by_label("Period").select_option("range")
        today = page.evaluate("import('/js/i18n.js').then((m) => m.almatyToday())")
        yesterday = page.evaluate("import('/js/i18n.js').then((m) => m.almatyToday(-1))")
        page.get_by_label("From", exact=True).fill(yesterday)
        page.get_by_label("To", exact=True).fill(today)
        page.get_by_role("button", name="Show the journal").click()
        # After the other lab tests' drills the two days hold tens of thousands of entries: give it time.
        expect(page.locator("#report-view article.document tbody")).to_contain_text("1234.56", timeout=180_000)
        _shot(page, "journal", full_page=False)  # the whole journal is far taller than a screenshot can be

        # A report of today, downloaded as PDF and CSV.
        page.get_by_role("navigation").get_by_role("link", name="Reports").click()
        page.get_by_label("Report", exact=True).select_option("payment-services")
        page.get_by_label("Period").select_option("day")
        page.get_by_label("Operational day", exact=True).fill(today)
        page.get_by_role("button", name="Show the report").click()
        document = page.locator("#report-view article.document")
        expect(document.locator("section").first).to_be_visible(timeout=60_000)
        title = document.locator("h2.document-title").inner_text()
        with page.expect_download() as pdf_download:
            page.get_by_role("button", name="Download PDF").click()
        assert Path(pdf_download.value.path()).read_bytes().startswith(b"%PDF-")
        with page.expect_download() as csv_download:
            page.get_by_role("button", name="Download CSV").click()
        rows = list(csv.reader(io.StringIO(Path(csv_download.value.path()).read_bytes().decode("utf-8-sig"))))
        assert rows[0] == [title]
        _shot(page, "report")

        # An information-security incident, recorded through the console.
        incident = f"Lab console incident {uuid.uuid4().hex[:6]}"
        page.get_by_role("navigation").get_by_role("link", name="Incidents").click()
        page.get_by_role("link", name="Record an incident").click()
        page.get_by_label("Incident", exact=True).fill(incident)
        page.get_by_label("Category (§13.9)").select_option("unauthorized_access")
        page.get_by_label("Description").fill("Recorded by the lab's end-to-end console test.")
        detected = (datetime.now(UTC) - timedelta(hours=1)).astimezone(ZoneInfo("Asia/Almaty"))
        page.get_by_label("Detected").fill(detected.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_label("Systems affected").fill("osonweb1")
        page.get_by_role("button", name="Record an incident").click()
        expect(page.locator("h1")).to_contain_text(incident)
        _shot(page, "incident")
        assert not re.search(r"Content Security Policy|Refused to", " ".join(problems)), problems
        assert not problems, problems
    finally:
        context.close()
