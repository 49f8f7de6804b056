"""API clients of partners (seed 003): secret shown once, regeneration, blocking, 90-day dormancy."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from access_support import (
    access_client,
    api_client_headers,
    engine_for,
    events_about,
    make_api_client,
    staff_headers,
    unique_login,
)
from conftest import PostgresServer
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import text

from oson_operator.domain.access import Role
from oson_operator.domain.clock import ManualClock

T0 = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


def code(response: Response) -> str:
    return str(response.json()["error"]["code"])


def me(client: TestClient, client_id: str, secret: str) -> Response:
    return client.get("/api/auth/me", headers=api_client_headers(client_id, secret))


def test_create_shows_the_secret_once_and_stores_only_its_hash(running_pg: PostgresServer) -> None:
    settings = running_pg.settings()
    name = unique_login("partner app")
    with access_client(settings) as client:
        admin = staff_headers(client, settings, Role.ADMIN)
        created = client.post("/api/api-clients", headers=admin, json={"name": name, "participant_id": "p-42"})
        assert created.status_code == 201, created.text
        body = created.json()
        client_id, secret = body["client_id"], body["client_secret"]
        assert (body["status"], body["participant_id"], len(secret)) == ("active", "p-42", 43)
        listed = client.get("/api/api-clients", headers=admin).json()
        assert next(row for row in listed if row["client_id"] == client_id).get("client_secret") is None
        assert "client_secret" not in client.get(f"/api/api-clients/{client_id}", headers=admin).json()

        who = me(client, client_id, secret)
        assert who.status_code == 200, who.text
        assert who.json() == {**who.json(), "kind": "api_client", "name": client_id, "role": "integration",
                              "participant_id": "p-42"}
        assert code(me(client, client_id, secret[:-1] + "x")) == "API_CLIENT_INVALID"
        assert code(me(client, "oc_unknown", secret)) == "API_CLIENT_INVALID"
        garbage = client.get("/api/auth/me", headers={"Authorization": "Basic !!!"})
        assert (garbage.status_code, code(garbage)) == (401, "NOT_AUTHENTICATED")
        no_colon = base64.b64encode(client_id.encode()).decode()
        assert code(client.get("/api/auth/me", headers={"Authorization": f"Basic {no_colon}"})) == (
            "NOT_AUTHENTICATED")

        duplicate = client.post("/api/api-clients", headers=admin, json={"name": name.upper()})
        assert (duplicate.status_code, code(duplicate)) == (409, "API_CLIENT_NAME_TAKEN")
        operator = staff_headers(client, settings, Role.OPERATOR)
        assert client.post("/api/api-clients", headers=operator, json={"name": unique_login()}).status_code == 403
        assert client.get("/api/api-clients", headers=operator).status_code == 403
        auditor = staff_headers(client, settings, Role.AUDITOR)
        assert client.get("/api/api-clients", headers=auditor).status_code == 200
        assert client.post(f"/api/api-clients/{client_id}/block", headers=auditor).status_code == 403
        # An API client cannot manage API clients or staff.
        assert client.get("/api/api-clients", headers=api_client_headers(client_id, secret)).status_code == 403
    with engine_for(settings).connect() as connection:
        stored = connection.execute(text("SELECT secret_hash FROM oson.api_client WHERE client_id = :id"),
                                    {"id": client_id}).scalar_one()
    assert secret not in stored and len(stored) == 64
    assert [(a, r) for a, r, _ in events_about(settings, client_id)][:1] == [("api_client.create", "ok")]


def test_regenerate_replaces_the_secret_at_once(running_pg: PostgresServer) -> None:
    settings = running_pg.settings()
    client_id, old = make_api_client(settings, unique_login("partner"))
    with access_client(settings) as client:
        admin = staff_headers(client, settings, Role.ADMIN)
        assert me(client, client_id, old).status_code == 200
        regenerated = client.post(f"/api/api-clients/{client_id}/regenerate", headers=admin)
        assert regenerated.status_code == 200, regenerated.text
        new = regenerated.json()["client_secret"]
        assert new != old
        assert code(me(client, client_id, old)) == "API_CLIENT_INVALID"
        assert me(client, client_id, new).status_code == 200
        missing = client.post("/api/api-clients/oc_nothing/regenerate", headers=admin)
        assert (missing.status_code, code(missing)) == (404, "API_CLIENT_NOT_FOUND")


def test_block_and_restore_by_regeneration(running_pg: PostgresServer) -> None:
    settings = running_pg.settings()
    client_id, secret = make_api_client(settings, unique_login("partner"))
    with access_client(settings) as client:
        admin = staff_headers(client, settings, Role.ADMIN)
        blocked = client.post(f"/api/api-clients/{client_id}/block", headers=admin, json={"reason": "contract ended"})
        assert blocked.status_code == 200, blocked.text
        assert (blocked.json()["status"], blocked.json()["blocked_reason"]) == ("blocked", "contract ended")
        refused = me(client, client_id, secret)
        assert (refused.status_code, code(refused)) == (403, "API_CLIENT_BLOCKED")
        new = client.post(f"/api/api-clients/{client_id}/regenerate", headers=admin).json()
        assert (new["status"], new["blocked_reason"]) == ("active", None)
        assert me(client, client_id, new["client_secret"]).status_code == 200
        assert client.post(f"/api/api-clients/{client_id}/block", headers=admin).json()["blocked_reason"] == (
            "administrator")
    actions = [(a, r) for a, r, _ in events_about(settings, client_id)]
    assert ("api_client.block", "ok") in actions and ("api_client.regenerate", "ok") in actions
    assert ("auth.api_client_refused", "refused:API_CLIENT_BLOCKED") in actions


def test_a_client_unused_for_90_days_is_blocked_until_regenerated(running_pg: PostgresServer) -> None:
    settings = running_pg.settings()
    clock = ManualClock(T0)
    used_id, used_secret = make_api_client(settings, unique_login("partner"), now=T0)
    idle_id, idle_secret = make_api_client(settings, unique_login("partner"), now=T0)
    with access_client(settings, clock) as client:
        clock.advance(timedelta(days=89, hours=23))
        assert me(client, used_id, used_secret).status_code == 200  # use moves the 90 days on
        clock.advance(timedelta(hours=1))
        dormant = me(client, idle_id, idle_secret)
        assert (dormant.status_code, code(dormant)) == (403, "API_CLIENT_DORMANT")
        assert "90" in dormant.json()["error"]["message"]
        assert code(me(client, idle_id, idle_secret)) == "API_CLIENT_BLOCKED"
        assert me(client, used_id, used_secret).status_code == 200

        clock.advance(timedelta(days=90))
        assert code(me(client, used_id, used_secret)) == "API_CLIENT_DORMANT"
        admin = staff_headers(client, settings, Role.ADMIN)
        view = client.get(f"/api/api-clients/{used_id}", headers=admin).json()
        assert (view["status"], view["blocked_reason"]) == ("blocked", "dormant")
        restored = client.post(f"/api/api-clients/{used_id}/regenerate", headers=admin).json()
        assert me(client, used_id, restored["client_secret"]).status_code == 200
    assert ("api_client.block", "refused:API_CLIENT_DORMANT") in [
        (a, r) for a, r, _ in events_about(settings, idle_id)]


def test_last_use_is_written_at_most_once_an_hour(running_pg: PostgresServer) -> None:
    settings = running_pg.settings()
    clock = ManualClock(T0)
    client_id, secret = make_api_client(settings, unique_login("partner"), now=T0)

    def last_used() -> datetime | None:
        with engine_for(settings).connect() as connection:
            return connection.execute(text("SELECT last_used_at FROM oson.api_client WHERE client_id = :id"),
                                      {"id": client_id}).scalar_one()

    with access_client(settings, clock) as client:
        assert last_used() is None
        clock.advance(timedelta(minutes=1))
        me(client, client_id, secret)
        assert last_used() == T0 + timedelta(minutes=1)
        clock.advance(timedelta(minutes=59, seconds=59))
        me(client, client_id, secret)
        assert last_used() == T0 + timedelta(minutes=1)
        clock.advance(timedelta(seconds=1))
        me(client, client_id, secret)
        assert last_used() == T0 + timedelta(hours=1, minutes=1)
