"""Quick end-to-end: staff login, bearer session, roles, API client Basic authentication."""

from __future__ import annotations

from access_support import (
    access_client,
    api_client_headers,
    make_api_client,
    make_app,
    make_staff,
    staff_headers,
    unique_login,
)
from conftest import PostgresServer
from fastapi.testclient import TestClient

from oson_operator.domain.access import Role


def test_roles_reach_me_and_staff_list(running_pg: PostgresServer) -> None:
    settings = running_pg.settings()
    with TestClient(make_app(settings)) as client:
        for role in (Role.ADMIN, Role.OPERATOR, Role.AUDITOR):
            headers = staff_headers(client, settings, role)
            me = client.get("/api/auth/me", headers=headers)
            assert me.status_code == 200, me.text
            assert me.json()["role"] == role.value
            listing = client.get("/api/staff", headers=headers)
            assert listing.status_code == (403 if role is Role.OPERATOR else 200), listing.text
        assert client.get("/api/auth/me").status_code == 401
        client_id, secret = make_api_client(settings, unique_login("partner"))
        me = client.get("/api/auth/me", headers=api_client_headers(client_id, secret))
        assert me.status_code == 200, me.text
        assert me.json()["kind"] == "api_client"
        assert client.get("/api/auth/me", headers=api_client_headers(client_id, "nope")).status_code == 401


def test_wrong_password_is_refused(running_pg: PostgresServer) -> None:
    settings = running_pg.settings()
    login = unique_login("op")
    make_staff(settings, login, Role.OPERATOR)
    with access_client(settings) as client:  # a source address of its own: failures never block others
        response = client.post("/api/auth/login", json={"login": login, "password": "Wrong-pass-1"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_CREDENTIALS"
