"""Builders for the back-office case tests: an office (operator, admin, auditor) on a movable clock.

    with open_office(settings, start) as office:
        office.post("/api/incidents", {...}, role=Role.OPERATOR, expect=201)
        office.clock.advance(timedelta(hours=25)); office.relogin()

Moving the clock past the session idle time ends the sessions: ``relogin`` makes fresh staff users
(their passwords are new at the moved time, so no password expiry gets in the way).
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from access_support import engine_for, make_app, staff_headers
from business_support import Desk
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import text

from oson_operator.domain.access import Role
from oson_operator.domain.clock import ManualClock
from oson_operator.domain.event_chain import private_key_pem, public_key_pem
from oson_operator.settings import Settings

STAFF = (Role.OPERATOR, Role.ADMIN, Role.AUDITOR)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def new_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_pem(key: Ed25519PrivateKey) -> str:
    return public_key_pem(key.public_key())


def write_key(directory: Path, name: str = "document-signing.pem") -> tuple[Path, Ed25519PrivateKey]:
    key = new_key()
    path = directory / name
    path.write_bytes(private_key_pem(key))
    path.chmod(0o600)
    return path, key


@dataclass
class Office:
    client: TestClient
    settings: Settings
    clock: ManualClock
    headers: dict[Role, dict[str, str]] = field(default_factory=dict)

    def relogin(self) -> None:
        for role in STAFF:
            self.headers[role] = staff_headers(self.client, self.settings, role)

    def post(self, path: str, body: dict[str, Any], *, role: Role = Role.OPERATOR, expect: int | None = None,
             idempotency_key: str | None = None) -> Any:
        headers = {**self.headers[role], "Idempotency-Key": idempotency_key or str(uuid.uuid4())}
        response = self.client.post(path, json=body, headers=headers)
        if expect is not None:
            assert response.status_code == expect, response.text
        return response

    def get(self, path: str, *, role: Role = Role.AUDITOR, expect: int | None = 200, **params: Any) -> Any:
        response = self.client.get(path, params=params, headers=self.headers[role])
        if expect is not None:
            assert response.status_code == expect, response.text
        return response

    def desk(self) -> Desk:
        """The business test helpers (participants, wallets, payments) with this office's operator."""
        return Desk(self.client, self.settings, self.headers[Role.OPERATOR])


@contextmanager
def open_office(settings: Settings, start: datetime) -> Iterator[Office]:
    clock = ManualClock(start)
    with TestClient(make_app(settings, clock)) as client:
        office = Office(client, settings, clock)
        office.relogin()
        yield office


def events_of(settings: Settings, record_id: str) -> list[tuple[str, str]]:
    """(action, result) of the events about ``record_id``, oldest first."""
    with engine_for(settings).connect() as conn:
        rows = conn.execute(text("SELECT action, result FROM oson.event WHERE record_id = :id ORDER BY id"),
                            {"id": record_id}).all()
    return [(row[0], row[1]) for row in rows]


def runtime_sql(settings: Settings, statement: str, **params: Any) -> None:
    """Run ``statement`` as the service's own database login (to show what the database itself refuses)."""
    with engine_for(settings).begin() as conn:
        conn.execute(text(statement), params)
