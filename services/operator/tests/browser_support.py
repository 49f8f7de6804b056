"""Debian's headless Chromium under Playwright, and console steps that more than one test drives.

Needs no database and no service, so the lab's console test (tests/integration) imports it too.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_missing() -> bool:
    return not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium (never Playwright's own downloaded browsers), closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def search_operations(page: Any, field: str, condition: str, value: str) -> None:
    """Search: the operations list with one condition typed in, submitted."""
    page.get_by_role("navigation").get_by_role("link", name="Search").click()
    page.get_by_label("List", exact=True).select_option("operations")
    form = page.get_by_role("search")
    form.get_by_role("button", name="Add a condition").click()
    row = form.locator("fieldset.filter-row").first
    row.get_by_label("Field").select_option(field)
    row.get_by_label("Condition").select_option(condition)
    row.get_by_label("Value").fill(value)
    form.get_by_role("button", name="Search").click()
