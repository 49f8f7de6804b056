"""The operator console in a real headless Chromium: login with the second factor, the forced password
change and TOTP enrolment, the dashboard, the participant, wallet and operation pages, the event log,
roles, and the language menu. Screenshots land in artifacts/console/."""

from __future__ import annotations

import re
import secrets
from typing import Any

from console_support import (  # noqa: F401  (fixtures: console, page)
    ConsoleWorld,
    apache_headers,
    code_now,
    console_fixture,
    current_code,
    log_in,
    page_fixture,
    screenshot,
    staff_with_second_factor,
)
from playwright.sync_api import expect

from oson_operator.domain.access import Role
from oson_operator.domain.messages import catalog


def test_login_asks_for_the_second_factor_and_shows_the_coded_error_for_a_wrong_code(
        console: ConsoleWorld, page: Any) -> None:
    login, password = staff_with_second_factor(console.settings, Role.ADMIN)
    page.goto("/")
    expect(page.locator("h1")).to_have_text("Staff login")
    expect(page.locator("input[name=totp_code]")).to_be_hidden()
    page.get_by_label("Login", exact=True).fill(login)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    code = page.get_by_label("Code from the authenticator app")
    expect(code).to_be_visible()
    expect(code).to_be_focused()
    wrong = f"{(int(current_code(console.settings, login)) + 500_000) % 1_000_000:06d}"
    code.fill(wrong)
    page.get_by_role("button", name="Log in").click()
    alert = page.get_by_role("alert")
    expect(alert).to_have_attribute("data-code", "TOTP_INVALID")
    screenshot(page, "login-wrong-code")
    code.fill(current_code(console.settings, login))
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"#/dashboard$"))
    expect(page.locator("#dash-ledger [data-ok]")).to_have_attribute("data-ok", "true")
    expect(page.locator("#dash-operations tbody tr")).not_to_have_count(0)
    expect(page.locator("#dash-events tbody tr").first).to_be_visible()
    expect(page.locator("#whoami")).to_contain_text("administrator")
    screenshot(page, "dashboard")

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status").filter(has_text="You have logged out.")).to_be_visible()
    # The session really ended on the server: the old token is gone from the tab.
    assert page.evaluate("sessionStorage.getItem('oson.token')") is None


def test_admin_creates_a_user_whose_first_login_forces_a_new_password_then_the_second_factor(
        console: ConsoleWorld, page: Any) -> None:
    admin, admin_password = staff_with_second_factor(console.settings, Role.ADMIN)
    log_in(page, console.settings, admin, admin_password)
    page.get_by_role("navigation").get_by_role("link", name="Staff").click()
    create = page.locator("#act-create")
    create.locator("summary").click()
    login = f"new-admin-{secrets.token_hex(3)}"
    create.get_by_label("Login", exact=True).fill(login)
    create.get_by_label("Full name").fill("Dana Seitkali")
    create.get_by_label("Role").select_option("admin")
    create.get_by_role("button", name="Create a user").click()
    temporary = page.locator("[data-password]").get_attribute("data-password")
    assert temporary
    screenshot(page, "staff-created")
    page.get_by_role("link", name=f"Open {login}").click()
    expect(page.locator("#staff-state")).to_have_text("Must change the password")
    page.get_by_role("button", name="Log out").click()

    page.get_by_label("Login", exact=True).fill(login)
    page.get_by_label("Password", exact=True).fill(temporary)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"#/password$"))
    expect(page.locator("#nav")).to_be_hidden()
    page.get_by_label("Current password").fill(temporary)
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("New password again").fill("short")
    page.get_by_role("button", name="Change password").click()
    # The API's coded refusal, with every broken rule listed and the field marked.
    expect(page.get_by_role("alert")).to_have_attribute("data-code", "PASSWORD_REJECTED")
    expect(page.get_by_role("alert").locator("li")).not_to_have_count(0)
    expect(page.locator("input[name=new_password]")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "password-change-refused")
    chosen = "Fresh-Pass-2026"
    page.get_by_label("New password", exact=True).fill(chosen)
    page.get_by_label("New password again").fill(chosen)
    page.get_by_role("button", name="Change password").click()

    # Administrators must enrol a second factor before anything else.
    expect(page).to_have_url(re.compile(r"#/totp$"))
    page.get_by_role("button", name="Set up the authenticator").click()
    secret = page.locator("code.secret").get_attribute("data-secret")
    assert secret and re.fullmatch(r"[A-Z2-7]+=*", secret)
    screenshot(page, "totp-enrolment")
    page.get_by_label("Code", exact=True).fill(code_now(secret))
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"#/dashboard$"))
    expect(page.locator("#nav")).to_be_visible()
    expect(page.locator("#whoami")).to_contain_text("Dana Seitkali")


def test_operator_browses_participants_wallets_and_operations(console: ConsoleWorld, page: Any) -> None:
    login, password = staff_with_second_factor(console.settings, Role.OPERATOR)
    log_in(page, console.settings, login, password)
    nav = page.get_by_role("navigation")
    expect(nav.get_by_role("link", name="Event log")).to_have_count(0)  # operators do not read the event log
    expect(nav.get_by_role("link", name="Staff")).to_have_count(0)  # nor manage users
    page.goto("/#/staff")
    expect(page.locator("h1")).to_have_text("Your role cannot open this page")

    nav.get_by_role("link", name="Participants").click()
    expect(page.locator("h1")).to_have_text("Participants")
    page.get_by_label("Kind").select_option("issuer")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"kind=issuer"))
    kinds = page.locator("table.data tbody tr td:nth-child(2)")
    expect(kinds.first).to_have_text("Issuer")
    assert set(kinds.all_inner_texts()) == {"Issuer"}
    screenshot(page, "participants")

    page.goto(f"/#/participants/{console.world.client}")
    expect(page.locator("h2").first).to_have_text("Wallets")
    page.get_by_role("link", name=console.world.client_wallet).click()
    expect(page.locator("h1")).to_contain_text(console.world.client_wallet)
    expect(page.locator("dl.pairs")).to_contain_text(f"{console.world.client_balance} KZT")
    screenshot(page, "wallet")

    nav.get_by_role("link", name="Operations").click()
    page.get_by_label("Kind").select_option("payment")
    page.get_by_role("button", name="Search").click()
    first = page.locator("table.data tbody tr").first
    expect(first.locator("td").nth(1)).to_have_text("Payment")
    screenshot(page, "operations")
    first.get_by_role("link", name="Payment").click()
    page.get_by_role("button", name="Show the receipt").click()
    receipt = page.get_by_role("region", name=re.compile(r"Receipt No\. \d+"))
    expect(receipt).to_contain_text("1500.00")
    screenshot(page, "operation-receipt")


def test_auditor_reads_the_event_log_with_filters(console: ConsoleWorld, page: Any) -> None:
    login, password = staff_with_second_factor(console.settings, Role.AUDITOR)
    log_in(page, console.settings, login, password)
    page.get_by_role("navigation").get_by_role("link", name="Event log").click()
    expect(page.locator("h1")).to_have_text("Event log")
    page.get_by_label("Action").fill("auth.login")
    page.get_by_label("User", exact=True).fill(f"staff:{login}")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("table.data tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("auth.login")
    expect(rows.first).to_contain_text(f"staff:{login}")
    page.get_by_role("button", name="Verify the event log").click()
    verdict = page.get_by_role("region", name="The event log is intact.")
    expect(verdict).to_have_attribute("data-ok", "true")
    screenshot(page, "events")
    # A range the API refuses comes back as its coded message, next to the form.
    page.get_by_label("From").fill("2026-01-02T00:00")
    page.get_by_label("To").fill("2026-01-01T00:00")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("alert")).to_have_attribute("data-code", "EVENT_RANGE_INVALID")

    # Auditors read the staff list and a user, and get no button that changes them.
    page.get_by_role("navigation").get_by_role("link", name="Staff").click()
    expect(page.locator("h1")).to_have_text("Staff users")
    page.get_by_role("link", name=login, exact=True).click()
    expect(page.locator("h1")).to_contain_text(login)
    expect(page.locator("details.action")).to_have_count(0)
    screenshot(page, "staff-auditor")


def test_language_menu_switches_texts_and_api_messages_and_is_remembered(console: ConsoleWorld, page: Any) -> None:
    answer = page.goto("/")
    # Served under the Apache role's policy: any inline script or style, or outside fetch, fails the tests.
    assert answer.headers["content-security-policy"] == apache_headers()["Content-Security-Policy"]
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    # Every text key exists in all three languages.
    missing = page.evaluate("""async () => {
        const langs = {};
        for (const code of ["kk", "ru", "en"]) langs[code] = (await import(`/js/lang/${code}.js`)).default;
        const all = new Set(Object.values(langs).flatMap((d) => Object.keys(d)));
        return Object.fromEntries(Object.entries(langs).map(([c, d]) => [c, [...all].filter((k) => !(k in d))]));
    }""")
    assert missing == {"kk": [], "ru": [], "en": []}

    kk = page.evaluate("import('/js/lang/kk.js').then((m) => m.default)")
    ru = page.evaluate("import('/js/lang/ru.js').then((m) => m.default)")
    page.get_by_label("Language").select_option("kk")
    expect(page.locator("html")).to_have_attribute("lang", "kk")
    expect(page.locator("h1")).to_have_text(kk["login.title"])
    page.get_by_label(kk["login.login"], exact=True).fill("nobody-here")
    page.get_by_label(kk["login.password"], exact=True).fill("Wrong-password-1")
    with page.expect_request(re.compile(r"/api/auth/login$")) as sent:
        page.get_by_role("button", name=kk["login.submit"]).click()
    assert sent.value.headers["accept-language"] == "kk"
    alert = page.get_by_role("alert")
    expect(alert).to_have_attribute("data-code", "INVALID_CREDENTIALS")
    # The API answered in Kazakh, and the console shows its message as it came.
    expect(alert.locator("strong")).to_have_text(catalog()["INVALID_CREDENTIALS"]["kk"])
    screenshot(page, "login-kazakh")

    page.reload()
    expect(page.get_by_label(kk["app.language"])).to_have_value("kk")  # remembered
    page.get_by_label(kk["app.language"]).select_option("ru")
    expect(page.locator("h1")).to_have_text(ru["login.title"])
    expect(page.get_by_role("button", name=ru["login.submit"])).to_be_visible()

    # Logged in, in Kazakh: the pages and the navigation follow, dates in Almaty time.
    page.get_by_label(ru["app.language"]).select_option("kk")
    login, password = staff_with_second_factor(console.settings, Role.AUDITOR)
    log_in(page, console.settings, login, password)
    expect(page.locator("h1")).to_have_text(kk["dashboard.title"])
    expect(page.get_by_role("navigation").get_by_role("link", name=kk["nav.events"])).to_be_visible()
    expect(page.locator("#whoami")).to_contain_text(kk["role.auditor"])
    screenshot(page, "dashboard-kazakh")


def test_a_session_ended_on_the_server_returns_to_the_login_page_with_the_reason(
        console: ConsoleWorld, page: Any) -> None:
    login, password = staff_with_second_factor(console.settings, Role.AUDITOR)
    log_in(page, console.settings, login, password)
    # End the session behind the console's back, as an idle timeout or an administrator's reset would.
    status = page.evaluate("""() => fetch('/api/auth/logout', {method: 'POST',
        headers: {Authorization: `Bearer ${sessionStorage.getItem('oson.token')}`}}).then((r) => r.status)""")
    assert status == 204
    page.get_by_role("navigation").get_by_role("link", name="Participants").click()
    expect(page).to_have_url(re.compile(r"#/login$"))
    expect(page.locator("main [role=status]")).not_to_be_empty()  # the API's reason, in the user's language
    assert page.evaluate("sessionStorage.getItem('oson.token')") is None
    expect(page.get_by_role("navigation")).to_be_hidden()
