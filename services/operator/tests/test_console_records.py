"""The console's back-office pages in a real headless Chromium: search with saved queries, journals for
a date range, reports with print preview, printing (paged A4) and downloads as PDF and CSV."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from browser_support import search_operations
from console_support import (  # noqa: F401  (fixtures: console, page)
    ConsoleWorld,
    console_fixture,
    log_in,
    page_fixture,
    screenshot,
    staff_with_second_factor,
)
from playwright.sync_api import expect

from oson_operator.domain.access import Role


def _pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", data))


def test_search_builds_its_form_from_the_list_specs_saves_the_query_and_runs_it_again(
        console: ConsoleWorld, page: Any) -> None:
    login, password = staff_with_second_factor(console.settings, Role.OPERATOR)
    log_in(page, console.settings, login, password)
    page.get_by_role("navigation").get_by_role("link", name="Search").click()
    expect(page.locator("h1")).to_have_text("Search")
    expect(page.get_by_role("region", name="Saved queries")).to_contain_text("You have no saved queries yet.")
    page.get_by_label("List", exact=True).select_option("operations")
    form = page.get_by_role("search")
    form.get_by_role("button", name="Add a condition").click()
    condition = form.locator("fieldset.filter-row").first
    condition.get_by_label("Field").select_option("kind")
    condition.get_by_label("Condition").select_option("eq")
    condition.get_by_label("Value").select_option("payment")  # an enum: its choices come from the spec
    form.get_by_label("Sort by").select_option("amount")
    form.get_by_role("button", name="Search").click()

    table = page.locator(".results table.data")
    kinds = table.locator("tbody tr td:nth-child(2)")
    expect(kinds.first).to_have_text("Payment")  # the code "payment", in words
    assert set(kinds.all_inner_texts()) == {"Payment"}
    expect(table.locator("th[aria-sort]")).to_have_attribute("aria-sort", "descending")
    screenshot(page, "search")

    # Sorting by a column header runs the query again, in the other direction.
    table.get_by_role("button", name="Amount").click()
    expect(page.locator(".results th[aria-sort]")).to_have_attribute("aria-sort", "ascending")
    rows_before = page.locator(".results tbody tr").count()

    page.get_by_label("Name of the query").fill("Payments by amount")
    page.get_by_role("button", name="Save the query").click()
    expect(page.locator("h1")).to_have_text("Search: Payments by amount")
    saved = page.get_by_role("region", name="Saved queries")
    expect(saved.get_by_role("link", name="Payments by amount")).to_be_visible()

    # Elsewhere and back: the saved query runs again with the same conditions and sort.
    page.get_by_role("navigation").get_by_role("link", name="Dashboard").click()
    page.get_by_role("navigation").get_by_role("link", name="Search").click()
    page.get_by_role("region", name="Saved queries").get_by_role("link", name="Payments by amount").click()
    expect(page.locator("h1")).to_have_text("Search: Payments by amount")
    expect(page.locator(".results th[aria-sort]")).to_have_attribute("aria-sort", "ascending")
    expect(page.locator(".results tbody tr")).to_have_count(rows_before)
    expect(page.locator("fieldset.filter-row select[name=value]")).to_have_value("payment")
    expect(page.locator(".results")).not_to_contain_text("null")
    screenshot(page, "search-saved")

    # A condition the API refuses comes back coded, with the field named.
    search_operations(page, "amount", "gt", "lots")
    alert = page.get_by_role("alert")
    expect(alert).to_have_attribute("data-code", "LIST_QUERY_INVALID")
    expect(alert).to_contain_text("filters.0.value")


def test_journal_for_a_date_range_is_read_only_for_an_auditor(console: ConsoleWorld, page: Any) -> None:
    login, password = staff_with_second_factor(console.settings, Role.AUDITOR)
    log_in(page, console.settings, login, password)
    page.get_by_role("navigation").get_by_role("link", name="Journals").click()
    page.get_by_label("Journal", exact=True).select_option("general")
    page.get_by_label("Period").select_option("range")
    expect(page.get_by_label("Operational day", exact=True)).to_be_hidden()
    today = page.evaluate("import('/js/i18n.js').then((m) => m.almatyToday())")
    yesterday = page.evaluate("import('/js/i18n.js').then((m) => m.almatyToday(-1))")
    page.get_by_label("From", exact=True).fill(yesterday)
    page.get_by_label("To", exact=True).fill(today)
    with page.expect_response(re.compile(r"/api/journals/general\?")) as answer:
        page.get_by_role("button", name="Show the journal").click()
    assert f"from={yesterday}" in answer.value.url and f"to={today}" in answer.value.url
    document = page.locator("#report-view article.document")
    expect(document).to_be_visible()
    expect(document.locator("tbody")).to_contain_text("1500.00")  # the world's payment
    expect(document.locator("tbody")).to_contain_text("10000.00")  # and its issuance
    expect(page.locator("main")).not_to_contain_text("Record an incident")
    screenshot(page, "journal")


def test_report_print_preview_prints_paged_and_downloads_as_pdf_and_csv(
        console: ConsoleWorld, page: Any, tmp_path: Path) -> None:
    login, password = staff_with_second_factor(console.settings, Role.OPERATOR)
    log_in(page, console.settings, login, password)
    page.get_by_role("navigation").get_by_role("link", name="Reports").click()
    page.get_by_label("Report", exact=True).select_option("payment-services")
    page.get_by_label("Period").select_option("day")
    page.get_by_label("Operational day", exact=True).fill(page.evaluate(
        "import('/js/i18n.js').then((m) => m.almatyToday())"))
    page.get_by_role("button", name="Show the report").click()
    document = page.locator("#report-view article.document")
    expect(document.locator("section")).to_have_count(2)
    title = document.locator("h2.document-title").inner_text()
    headers = document.locator("section").first.locator("thead th").all_inner_texts()

    page.get_by_role("button", name="Print preview").click()
    expect(page.locator("body")).to_have_class(re.compile(r"\bprint-preview\b"))
    expect(page.get_by_role("navigation")).to_be_hidden()
    screenshot(page, "report-print-preview")
    page.get_by_role("button", name="Close the preview").click()

    # The print stylesheet: only the document, table headers repeated, rows whole, each section on a new page.
    page.emulate_media(media="print")
    style = page.evaluate("""() => {
        const css = (el, prop) => getComputedStyle(el).getPropertyValue(prop);
        const doc = document.querySelector('#report-view article.document');
        return {
            nav: css(document.getElementById('nav'), 'display'),
            topbar: css(document.querySelector('.topbar'), 'display'),
            tools: css(document.querySelector('.report-tools'), 'display'),
            thead: css(doc.querySelector('thead'), 'display'),
            row: css(doc.querySelector('tbody tr'), 'break-inside'),
            second: css(doc.querySelectorAll('section')[1], 'break-before'),
        };
    }""")
    assert style == {"nav": "none", "topbar": "none", "tools": "none", "thead": "table-header-group",
                     "row": "avoid", "second": "page"}, style
    printed = page.pdf(format="A4", prefer_css_page_size=True)
    assert printed.startswith(b"%PDF") and _pdf_pages(printed) >= 2  # the second section starts a page
    page.emulate_media(media="screen")

    with page.expect_download() as pdf_download:
        page.get_by_role("button", name="Download PDF").click()
    pdf = Path(pdf_download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert pdf_download.value.suggested_filename.endswith(".pdf")

    with page.expect_download() as csv_download:
        page.get_by_role("button", name="Download CSV").click()
    assert csv_download.value.suggested_filename.endswith(".csv")
    text = Path(csv_download.value.path()).read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [title]
    assert headers in rows  # the header row of the first section, as shown on screen
    screenshot(page, "report")
