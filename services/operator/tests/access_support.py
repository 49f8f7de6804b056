"""Helpers for tests that need authenticated callers: staff users, their sessions, API clients.

Importing this module swaps in a cheap argon2 hasher (1 MiB, one pass) so that tests creating many
users and logins stay fast; hashes still verify with the production hasher and vice versa.

    password = make_staff(settings, "op-1", Role.OPERATOR)
    headers = staff_headers(client, settings, Role.ADMIN)          # a fresh admin, logged in
    client_id, secret = make_api_client(settings, "partner app")
    headers = api_client_headers(client_id, secret)

A test that fails logins on purpose should use ``access_client(settings)``: its requests come from a
source address of their own, so the source-block rule (5 distinct failing logins from one address
within an hour) never blocks the shared ``testclient`` address of other tests.
"""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime
from functools import lru_cache

from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from oson_operator.api import create_app
from oson_operator.domain import passwords, totp
from oson_operator.domain.access import Role
from oson_operator.domain.clock import Clock
from oson_operator.domain.errors import DomainError
from oson_operator.settings import Settings
from oson_operator.storage import access as store
from oson_operator.storage.engine import create_database_engine

passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def make_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    """The application, with the coded-error handlers even if the factory does not install them yet."""
    app = create_app(settings, clock=clock)
    if DomainError not in app.exception_handlers:
        from oson_operator.api.errors import install_error_handlers

        install_error_handlers(app)
    return app


def random_source() -> str:
    """A source address of its own, so that failed logins of one test never block another's."""
    return f"10.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}"


def access_client(settings: Settings, clock: Clock | None = None, source: str | None = None) -> TestClient:
    """A test client whose requests come from ``source`` (default: a random 10.x address)."""
    return TestClient(make_app(settings, clock), client=(source or random_source(), 50000))


@lru_cache(maxsize=8)
def _engine(host: str, port: int, name: str, user: str, password: str) -> Engine:
    settings = Settings(database_host=host, database_port=port, database_name=name, database_user=user,
                        database_password=password, database_sslmode="disable")  # type: ignore[arg-type]
    return create_database_engine(settings, application_name="oson-operator-tests", pooled=False)


def engine_for(settings: Settings) -> Engine:
    return _engine(settings.database_host, settings.database_port, settings.database_name,
                   settings.database_user, settings.database_password.get_secret_value())


def unique_login(prefix: str = "user") -> str:
    return f"{prefix}-{secrets.token_hex(5)}"


def new_password() -> str:
    """A password that satisfies the policy for any test login (upper, lower, digit, symbol)."""
    return f"Pw7-{secrets.token_hex(8)}"


def make_staff(
    settings: Settings, login: str, role: Role | str, password: str | None = None, *, now: datetime | None = None
) -> str:
    """An active staff user with a password of its own (no forced change), TOTP enrolled for admins.

    ``now`` is when the password was set (default: the real time; pass the app clock's time when the
    test moves a ManualClock). Returns the password.
    """
    password = password or new_password()
    moment = now or datetime.now(UTC)
    role = Role(role)
    password_hash = passwords.hash_password(password)
    with engine_for(settings).begin() as connection:
        store.insert_staff(
            connection, login=login, full_name=f"Test {role.value}", role=role, password_hash=password_hash,
            must_change_password=False, now=moment, created_by="test",
            totp_secret=totp.new_secret() if role is Role.ADMIN else None,
        )
        store.add_password_history(connection, login, password_hash, moment, settings.password_history)
    return password


def totp_secret(settings: Settings, login: str) -> str | None:
    with engine_for(settings).connect() as connection:
        user = store.get_staff(connection, login)
    return user.totp_secret if user is not None else None


def current_totp(settings: Settings, login: str, now: datetime) -> str:
    secret = totp_secret(settings, login)
    assert secret is not None, f"{login} has no TOTP secret"
    return totp.code_at(secret, totp.time_step(now))


def login_token(client: TestClient, settings: Settings, login: str, password: str) -> str:
    """Log in (with the current TOTP code when the user has one) and return the bearer token."""
    body: dict[str, str] = {"login": login, "password": password}
    if totp_secret(settings, login) is not None:
        body["totp_code"] = current_totp(settings, login, client.app.state.clock.now())  # type: ignore[attr-defined]
    response = client.post("/api/auth/login", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def staff_headers(client: TestClient, settings: Settings, role: Role | str, login: str | None = None) -> dict[str, str]:
    """Create a staff user of ``role`` (a unique login unless given), log in, return the auth header."""
    role = Role(role)
    login = login or unique_login(role.value)
    now = client.app.state.clock.now()  # type: ignore[attr-defined]
    password = make_staff(settings, login, role, now=now)
    return bearer(login_token(client, settings, login, password))


def make_api_client(
    settings: Settings, name: str, participant_id: str | None = None, *, now: datetime | None = None
) -> tuple[str, str]:
    """A new active API client; returns (client id, client secret)."""
    secret = passwords.new_token()
    with engine_for(settings).begin() as connection:
        client = store.insert_api_client(
            connection, name=name, participant_id=participant_id, secret_hash=passwords.token_digest(secret),
            now=now or datetime.now(UTC), created_by="test",
        )
    return client.client_id, secret


def events_about(settings: Settings, record_id: str) -> list[tuple[str, str, str]]:
    """(action, result, actor) of the events recorded about ``record_id``, oldest first."""
    with engine_for(settings).connect() as connection:
        rows = connection.execute(
            text("SELECT action, result, actor FROM oson.event WHERE record_id = :id ORDER BY id"), {"id": record_id}
        )
        return [(row[0], row[1], row[2]) for row in rows]


def events_from(settings: Settings, source_address: str) -> list[tuple[str, str, str]]:
    """(action, result, actor) of the events recorded for requests from ``source_address``, oldest first."""
    with engine_for(settings).connect() as connection:
        rows = connection.execute(
            text("SELECT action, result, actor FROM oson.event WHERE source_address = :source ORDER BY id"),
            {"source": source_address},
        )
        return [(row[0], row[1], row[2]) for row in rows]


def api_client_headers(client_id: str, secret: str) -> dict[str, str]:
    token = base64.b64encode(f"{client_id}:{secret}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}
