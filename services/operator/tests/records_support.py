"""Builders for the back-office tests: a desk on a clock of its own, staff of every role, a small world.

Each test works on operational days of its own (a random day in a far year), so journals and reports
over "its" days see only its own operations even though the database is shared by the session.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from access_support import staff_headers
from business_support import Desk, World, make_world, open_desk
from sqlalchemy import text

from oson_operator.domain.access import Role
from oson_operator.domain.calendar import ALMATY
from oson_operator.domain.clock import ManualClock
from oson_operator.settings import Settings
from oson_operator.storage.engine import create_database_engine


def fresh_day() -> date:
    """A day no other test uses (practically): somewhere in 2040-2139."""
    return date(2040, 1, 1) + timedelta(days=secrets.randbelow(36000))


def almaty(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ALMATY).astimezone(UTC)


@dataclass
class Office:
    """An operator desk plus admin and auditor headers, all on one manual clock."""

    desk: Desk
    clock: ManualClock
    admin: dict[str, str]
    auditor: dict[str, str]

    settings: Settings
    logged_in_at: datetime

    def at(self, moment: datetime) -> None:
        """Move the clock; sessions idle for 30 minutes end, so log in again after a long move."""
        self.clock.set(moment)
        if abs(moment - self.logged_in_at) > timedelta(minutes=20):
            client = self.desk.client
            self.desk.headers = staff_headers(client, self.settings, Role.OPERATOR)
            self.admin = staff_headers(client, self.settings, Role.ADMIN)
            self.auditor = staff_headers(client, self.settings, Role.AUDITOR)
            self.logged_in_at = moment

    def search(self, list_name: str, body: dict[str, Any], headers: dict[str, str] | None = None,
               expect: int = 200) -> Any:
        response = self.desk.client.post(f"/api/search/{list_name}", json=body,
                                         headers=headers or self.desk.headers)
        assert response.status_code == expect, response.text
        return response.json()

    def all_pages(self, list_name: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = self.search(list_name, {**body, **({"cursor": cursor} if cursor else {})})
            rows.extend(page["rows"])
            cursor = page["next_cursor"]
            if cursor is None:
                return rows


@contextmanager
def open_office(settings: Settings, start: datetime) -> Iterator[Office]:
    """The office on a manual clock; the business configuration knows an MCI for the far years of fresh_day."""
    clock = ManualClock(start)
    with tempfile.TemporaryDirectory(prefix="records-") as folder:
        config = Path(folder) / "business.yaml"
        mci = {year: 4325 for year in range(2024, 2141)}
        config.write_text(yaml.safe_dump({"mci_by_year": mci}), encoding="utf-8")
        with _desk(settings.model_copy(update={"business_config_file": config}), clock) as office:
            yield office


@contextmanager
def _desk(settings: Settings, clock: ManualClock) -> Iterator[Office]:
    start = clock.now()
    with open_desk(settings, clock) as desk:
        yield Office(desk, clock, staff_headers(desk.client, settings, Role.ADMIN),
                     staff_headers(desk.client, settings, Role.AUDITOR), settings, start)


def busy_day(office: Office, day: date) -> World:
    """A world whose operations all happen on ``day`` (Almaty): issuance, payments, a return."""
    office.at(almaty(day, 9))
    world = make_world(office.desk, funds="5000.00")
    for hour, amount in ((10, "100.00"), (11, "250.50"), (12, "42.00")):
        office.at(almaty(day, hour))
        office.desk.pay(world.client_wallet, world.partner_wallet, amount, expect=201)
    return world


def sql_scalar(settings: Settings, query: str, **params: Any) -> Any:
    engine = create_database_engine(settings, application_name="records-tests", pooled=False)
    try:
        with engine.connect() as connection:
            return connection.execute(text(query), params).scalar_one()
    finally:
        engine.dispose()
