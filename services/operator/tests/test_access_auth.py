"""Staff login, sessions, password policy, lockout and source blocks, against the real database.

Each test that fails logins on purpose uses a source address of its own (``access_client``), so that
the source-block rule never spills over into other tests sharing the database.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from access_support import (
    access_client,
    bearer,
    engine_for,
    events_about,
    events_from,
    login_token,
    make_staff,
    new_password,
    random_source,
    staff_headers,
    unique_login,
)
from conftest import PostgresServer
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import text

from oson_operator.domain.access import Role
from oson_operator.domain.clock import ManualClock

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


def code(response: Response) -> str:
    return str(response.json()["error"]["code"])


def login(client: TestClient, user: str, password: str, **extra: str) -> Response:
    return client.post("/api/auth/login", json={"login": user, "password": password, **extra})


def change(client: TestClient, token: str, current: str, new: str) -> Response:
    return client.post("/api/auth/password", headers=bearer(token),
                       json={"current_password": current, "new_password": new})


def test_login_answers_the_session_facts(running_pg: PostgresServer) -> None:
    settings = running_pg.settings()
    user = unique_login("aud")
    password = make_staff(settings, user, Role.AUDITOR)
    with access_client(settings) as client:
        response = login(client, user, password)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body == {
            "token": body["token"], "expires_after_idle_minutes": 30, "must_change_password": False,
            "password_expires_in_days": 59, "password_expiry_warning": False, "totp_enrollment_required": False,
        }
        assert len(body["token"]) == 43
        me = client.get("/api/auth/me", headers=bearer(body["token"])).json()
        assert (me["kind"], me["name"], me["role"]) == ("staff", user, "auditor")
        # The login is found regardless of letter case.
        assert login(client, user.upper(), password).status_code == 200
    actions = [(action, result) for action, result, _ in events_about(settings, me["session_id"])]
    assert actions == [("auth.login", "ok")]


def test_first_login_forces_a_password_change_that_follows_the_policy(running_pg: PostgresServer) -> None:
    settings = running_pg.settings()
    user = unique_login("aud")
    with access_client(settings) as client:
        admin = staff_headers(client, settings, Role.ADMIN)
        created = client.post("/api/staff", headers=admin,
                              json={"login": user, "full_name": "A. B.", "role": "auditor"})
        assert created.status_code == 201, created.text
        temporary = created.json()["temporary_password"]
        assert "temporary_password" not in client.get(f"/api/staff/{user}", headers=admin).json()

        first = login(client, user, temporary)
        assert first.status_code == 200, first.text
        assert first.json()["must_change_password"] is True
        token = first.json()["token"]
        refused = client.get("/api/staff", headers=bearer(token))
        assert (refused.status_code, code(refused)) == (403, "PASSWORD_CHANGE_REQUIRED")
        assert client.get("/api/auth/me", headers=bearer(token)).json()["must_change_password"] is True

        weak = change(client, token, temporary, user)
        assert (weak.status_code, code(weak)) == (422, "PASSWORD_REJECTED")
        assert [p["code"] for p in weak.json()["problems"]] == ["PASSWORD_CONTAINS_LOGIN"]
        short = change(client, token, temporary, "abc")
        assert [p["code"] for p in short.json()["problems"]] == ["PASSWORD_TOO_SHORT", "PASSWORD_CLASSES"]
        assert all(p["field"] == "new_password" and p["message"] for p in short.json()["problems"])
        wrong = change(client, token, "not-the-password", new_password())
        assert (wrong.status_code, code(wrong)) == (403, "CURRENT_PASSWORD_WRONG")

        chosen = new_password()
        done = change(client, token, temporary, chosen)
        assert done.status_code == 200, done.text
        assert client.get("/api/staff", headers=bearer(token)).status_code == 200
        again = login(client, user, chosen)
        assert again.json()["must_change_password"] is False
        assert login(client, user, temporary).status_code == 401
    results = [(a, r) for a, r, _ in events_about(settings, user) if a == "auth.password_change"]
    assert results == [("auth.password_change", "refused:PASSWORD_REJECTED"),
                       ("auth.password_change", "refused:PASSWORD_REJECTED"),
                       ("auth.password_change", "refused:CURRENT_PASSWORD_WRONG"),
                       ("auth.password_change", "ok")]


def test_an_administrator_reset_forces_a_change_and_ends_sessions(running_pg: PostgresServer) -> None:
    settings = running_pg.settings()
    user = unique_login("aud")
    password = make_staff(settings, user, Role.AUDITOR)
    with access_client(settings) as client:
        admin = staff_headers(client, settings, Role.ADMIN)
        token = login_token(client, settings, user, password)
        reset = client.post(f"/api/staff/{user}/reset-password", headers=admin)
        assert reset.status_code == 200, reset.text
        assert reset.json()["must_change_password"] is True
        ended = client.get("/api/auth/me", headers=bearer(token))
        assert (ended.status_code, code(ended)) == (401, "SESSION_EXPIRED")
        assert code(login(client, user, password)) == "INVALID_CREDENTIALS"
        forced = login(client, user, reset.json()["temporary_password"])
        assert forced.json()["must_change_password"] is True
        token = forced.json()["token"]
        assert code(client.get("/api/staff", headers=bearer(token))) == "PASSWORD_CHANGE_REQUIRED"
        assert change(client, token, reset.json()["temporary_password"], new_password()).status_code == 200
        assert client.get("/api/staff", headers=bearer(token)).status_code == 200
    assert ("staff.reset_password", "ok") in [(a, r) for a, r, _ in events_about(settings, user)]


def test_the_last_seven_passwords_cannot_be_reused(running_pg: PostgresServer) -> None:
    settings = running_pg.settings()
    user = unique_login("aud")
    first = make_staff(settings, user, Role.AUDITOR)
    with access_client(settings) as client:
        token = login_token(client, settings, user, first)
        chosen = [first]
        for _ in range(6):  # first + 6 more: the seven remembered
            chosen.append(new_password())
            assert change(client, token, chosen[-2], chosen[-1]).status_code == 200
        for old in chosen:
            reused = change(client, token, chosen[-1], old)
            assert [p["code"] for p in reused.json()["problems"]] == ["PASSWORD_REUSED"], old
        chosen.append(new_password())
        assert change(client, token, chosen[-2], chosen[-1]).status_code == 200
        # The first password dropped out of the last seven; the second did not.
        assert [p["code"] for p in change(client, token, chosen[-1], chosen[1]).json()["problems"]] == [
            "PASSWORD_REUSED"]
        assert change(client, token, chosen[-1], first).status_code == 200


def test_expiry_warning_at_53_days_and_forced_change_at_61(running_pg: PostgresServer) -> None:
    settings = running_pg.settings()
    clock = ManualClock(T0)
    user = unique_login("aud")
    password = make_staff(settings, user, Role.AUDITOR, now=T0)
    with access_client(settings, clock) as client:
        clock.advance(timedelta(days=52))
        body = login(client, user, password).json()
        assert (body["password_expires_in_days"], body["password_expiry_warning"]) == (8, False)
        clock.advance(timedelta(days=1))
        body = login(client, user, password).json()
        assert (body["password_expires_in_days"], body["password_expiry_warning"]) == (7, True)
        assert body["must_change_password"] is False
        token = body["token"]
        me = client.get("/api/auth/me", headers=bearer(token)).json()
        assert (me["password_expires_in_days"], me["password_expiry_warning"]) == (7, True)

        clock.advance(timedelta(days=8))  # day 61: expired
        body = login(client, user, password).json()
        assert (body["must_change_password"], body["password_expires_in_days"]) == (True, 0)
        token = body["token"]
        assert code(client.get("/api/staff", headers=bearer(token))) == "PASSWORD_CHANGE_REQUIRED"
        assert change(client, token, password, new_password()).status_code == 200
        assert client.get("/api/staff", headers=bearer(token)).status_code == 200
        assert client.get("/api/auth/me", headers=bearer(token)).json()["password_expires_in_days"] == 60


def test_five_failures_lock_the_account_for_an_hour(running_pg: PostgresServer) -> None:
    settings = running_pg.settings()
    clock = ManualClock(T0)
    user = unique_login("op")
    password = make_staff(settings, user, Role.OPERATOR, now=T0)
    with access_client(settings, clock) as client:
        for _ in range(4):
            assert code(login(client, user, "Wrong-pass-1")) == "INVALID_CREDENTIALS"
        fifth = login(client, user, "Wrong-pass-1")
        assert (fifth.status_code, code(fifth)) == (403, "ACCOUNT_LOCKED")
        locked = login(client, user, password)
        assert (locked.status_code, code(locked)) == (403, "ACCOUNT_LOCKED")
        assert "2026-05-04T09:00:00" in locked.json()["error"]["message"]
        clock.advance(timedelta(minutes=59))
        assert code(login(client, user, password)) == "ACCOUNT_LOCKED"
        clock.advance(timedelta(minutes=1))
        assert login(client, user, password).status_code == 200
        # The count starts afresh after the lockout and after a success.
        for _ in range(4):
            assert code(login(client, user, "Wrong-pass-1")) == "INVALID_CREDENTIALS"
        assert login(client, user, password).status_code == 200
        for _ in range(4):
            assert code(login(client, user, "Wrong-pass-1")) == "INVALID_CREDENTIALS"
        assert login(client, user, password).status_code == 200
    recorded = [(a, r) for a, r, _ in events_about(settings, user)]
    assert recorded.count(("auth.login_failed", "refused:INVALID_CREDENTIALS")) == 12
    assert recorded.count(("auth.login_failed", "refused:ACCOUNT_LOCKED")) == 3
    assert recorded.count(("auth.lockout", "ok")) == 1


def test_an_administrator_unlocks_an_account(running_pg: PostgresServer) -> None:
    settings = running_pg.settings()
    user = unique_login("op")
    password = make_staff(settings, user, Role.OPERATOR)
    with access_client(settings) as client:
        admin = staff_headers(client, settings, Role.ADMIN)
        for _ in range(5):
            login(client, user, "Wrong-pass-1")
        assert code(login(client, user, password)) == "ACCOUNT_LOCKED"
        assert client.get(f"/api/staff/{user}", headers=admin).json()["locked_until"] is not None
        operator = staff_headers(client, settings, Role.OPERATOR)
        assert client.post(f"/api/staff/{user}/unlock", headers=operator).status_code == 403
        unlocked = client.post(f"/api/staff/{user}/unlock", headers=admin)
        assert unlocked.status_code == 200, unlocked.text
        assert unlocked.json()["locked_until"] is None
        assert login(client, user, password).status_code == 200


def test_a_source_failing_five_logins_is_blocked_for_a_day(running_pg: PostgresServer) -> None:
    settings = running_pg.settings()
    clock = ManualClock(T0)
    user = unique_login("op")
    password = make_staff(settings, user, Role.OPERATOR, now=T0)
    source = "10.250.1.7"
    with access_client(settings, clock, source=source) as client, \
            access_client(settings, clock) as elsewhere:
        # Four distinct logins an hour apart from the fifth: not blocked.
        for n in range(4):
            assert code(login(client, f"ghost-{n}-{user}", "Guess-pass-1")) == "INVALID_CREDENTIALS"
        clock.advance(timedelta(minutes=61))
        assert code(login(client, f"ghost-4-{user}", "Guess-pass-1")) == "INVALID_CREDENTIALS"
        assert login(client, user, password).status_code == 200
        # Four more distinct logins within the hour: five in all, blocked.
        for n in range(5, 9):
            assert code(login(client, f"ghost-{n}-{user}", "Guess-pass-1")) == "INVALID_CREDENTIALS"
        blocked = login(client, user, password)
        assert (blocked.status_code, code(blocked)) == (429, "SOURCE_BLOCKED")
        assert login(elsewhere, user, password).status_code == 200
        clock.advance(timedelta(hours=23, minutes=59))
        assert code(login(client, user, password)) == "SOURCE_BLOCKED"
        clock.advance(timedelta(minutes=1))
        assert login(client, user, password).status_code == 200
    results = [(a, r) for a, r, _ in events_about(settings, source)]
    assert results == [("auth.source_block", "ok")]
    refusals = [r for a, r, _ in events_about(settings, user) if a == "auth.login_failed"]
    assert refusals == ["refused:SOURCE_BLOCKED", "refused:SOURCE_BLOCKED"]


def test_a_session_ends_after_30_idle_minutes(running_pg: PostgresServer) -> None:
    settings = running_pg.settings()
    clock = ManualClock(T0)
    user = unique_login("aud")
    password = make_staff(settings, user, Role.AUDITOR, now=T0)
    with access_client(settings, clock) as client:
        token = login_token(client, settings, user, password)
        session_id = client.get("/api/auth/me", headers=bearer(token)).json()["session_id"]
        for _ in range(3):  # each request moves the idle deadline
            clock.advance(timedelta(minutes=29))
            assert client.get("/api/staff", headers=bearer(token)).status_code == 200
        clock.advance(timedelta(minutes=30))
        expired = client.get("/api/staff", headers=bearer(token))
        assert (expired.status_code, code(expired)) == (401, "SESSION_EXPIRED")
        assert client.get("/api/auth/me", headers=bearer(token)).status_code == 401
        token = login_token(client, settings, user, password)
        assert client.get("/api/auth/me", headers=bearer(token)).status_code == 200
    assert [(a, r) for a, r, _ in events_about(settings, session_id)] == [
        ("auth.login", "ok"), ("auth.session_end", "ok")]


def test_logout_ends_the_session(running_pg: PostgresServer) -> None:
    settings = running_pg.settings()
    source = random_source()
    with access_client(settings, source=source) as client:
        headers = staff_headers(client, settings, Role.OPERATOR)
        session_id = client.get("/api/auth/me", headers=headers).json()["session_id"]
        assert client.post("/api/auth/logout", headers=headers).status_code == 204
        after = client.get("/api/auth/me", headers=headers)
        assert (after.status_code, code(after)) == (401, "SESSION_EXPIRED")
        assert code(client.get("/api/auth/me", headers=bearer("made-up"))) == "NOT_AUTHENTICATED"
        assert code(client.get("/api/auth/me", headers={"Authorization": "Token x"})) == "NOT_AUTHENTICATED"
    assert [a for a, _, _ in events_about(settings, session_id)] == ["auth.login", "auth.logout"]
    # One event per request: the routes record their own, the recording middleware adds nothing.
    assert [(a, r) for a, r, _ in events_from(settings, source)] == [("auth.login", "ok"), ("auth.logout", "ok")]


def test_staff_management_rules(running_pg: PostgresServer) -> None:
    settings = running_pg.settings()
    user = unique_login("op")
    with access_client(settings) as client:
        admin_login = unique_login("admin")
        admin = staff_headers(client, settings, Role.ADMIN, login=admin_login)
        body = {"login": user, "full_name": "Op", "role": "operator"}
        assert client.post("/api/staff", headers=admin, json=body).status_code == 201
        taken = client.post("/api/staff", headers=admin, json={**body, "login": user.upper()})
        assert (taken.status_code, code(taken)) == (409, "LOGIN_TAKEN")
        integration = client.post("/api/staff", headers=admin,
                                  json={**body, "login": unique_login(), "role": "integration"})
        assert (integration.status_code, code(integration)) == (422, "ROLE_INVALID")
        bad = client.post("/api/staff", headers=admin, json={**body, "login": "no spaces"})
        assert bad.status_code == 422

        self_disable = client.post(f"/api/staff/{admin_login}/disable", headers=admin)
        assert (self_disable.status_code, code(self_disable)) == (403, "SELF_DISABLE")
        self_role = client.patch(f"/api/staff/{admin_login}", headers=admin, json={"role": "operator"})
        assert (self_role.status_code, code(self_role)) == (403, "SELF_ROLE_CHANGE")
        promoted = client.patch(f"/api/staff/{user}", headers=admin, json={"role": "auditor"})
        assert promoted.json()["role"] == "auditor"
        missing = client.post("/api/staff/nobody-here/disable", headers=admin)
        assert (missing.status_code, code(missing)) == (404, "STAFF_NOT_FOUND")

        victim = unique_login("op")
        password = make_staff(settings, victim, Role.OPERATOR)
        token = login_token(client, settings, victim, password)
        assert client.post(f"/api/staff/{victim}/disable", headers=admin).json()["disabled"] is True
        assert client.get("/api/auth/me", headers=bearer(token)).status_code == 401
        disabled = login(client, victim, password)
        assert (disabled.status_code, code(disabled)) == (403, "ACCOUNT_DISABLED")
        assert client.post(f"/api/staff/{victim}/enable", headers=admin).json()["disabled"] is False
        assert login(client, victim, password).status_code == 200

        auditor = staff_headers(client, settings, Role.AUDITOR)
        listed = client.get("/api/staff", headers=auditor)
        assert listed.status_code == 200
        assert {user, victim, admin_login} <= {row["login"] for row in listed.json()}
        assert client.post(f"/api/staff/{victim}/disable", headers=auditor).status_code == 403
    assert [a for a, _, _ in events_about(settings, victim) if a.startswith("staff.")] == [
        "staff.disable", "staff.enable"]


def test_session_use_is_written_at_most_once_a_minute(running_pg: PostgresServer) -> None:
    settings = running_pg.settings()
    clock = ManualClock(T0)
    user = unique_login("aud")
    password = make_staff(settings, user, Role.AUDITOR, now=T0)

    def last_seen(session_id: str) -> datetime:
        with engine_for(settings).connect() as connection:
            return connection.execute(text("SELECT last_seen_at FROM oson.staff_session WHERE id = :id"),
                                      {"id": session_id}).scalar_one()

    with access_client(settings, clock) as client:
        token = login_token(client, settings, user, password)
        session_id = client.get("/api/auth/me", headers=bearer(token)).json()["session_id"]
        clock.advance(timedelta(seconds=59))
        assert client.get("/api/staff", headers=bearer(token)).status_code == 200
        assert last_seen(session_id) == T0
        clock.advance(timedelta(seconds=1))
        assert client.get("/api/staff", headers=bearer(token)).status_code == 200
        assert last_seen(session_id) == T0 + timedelta(minutes=1)
