"""The TOTP second factor: mandatory for administrators, optional for others, codes never replayed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from access_support import (
    access_client,
    bearer,
    events_about,
    login_token,
    make_staff,
    new_password,
    staff_headers,
    totp_secret,
    unique_login,
)
from conftest import PostgresServer
from httpx import Response

from oson_operator.domain import totp
from oson_operator.domain.access import Role
from oson_operator.domain.clock import ManualClock

T0 = datetime(2026, 6, 1, 10, 0, 5, tzinfo=UTC)


def code(response: Response) -> str:
    return str(response.json()["error"]["code"])


def test_a_new_administrator_must_enrol_a_second_factor(running_pg: PostgresServer) -> None:
    settings = running_pg.settings()
    clock = ManualClock(T0)
    user = unique_login("admin")
    with access_client(settings, clock) as client:
        admin = staff_headers(client, settings, Role.ADMIN)
        temporary = client.post("/api/staff", headers=admin,
                                json={"login": user, "role": "admin"}).json()["temporary_password"]

        first = client.post("/api/auth/login", json={"login": user, "password": temporary})
        assert first.status_code == 200, first.text
        assert (first.json()["must_change_password"], first.json()["totp_enrollment_required"]) == (True, True)
        token = bearer(first.json()["token"])
        # The password comes first: enrolment waits for it.
        assert code(client.post("/api/auth/totp/enroll", headers=token)) == "PASSWORD_CHANGE_REQUIRED"
        password = new_password()
        changed = client.post("/api/auth/password", headers=token,
                              json={"current_password": temporary, "new_password": password})
        assert changed.status_code == 200, changed.text
        refused = client.get("/api/staff", headers=token)
        assert (refused.status_code, code(refused)) == (403, "TOTP_ENROLLMENT_REQUIRED")
        assert client.get("/api/auth/me", headers=token).json()["totp_enrollment_required"] is True

        assert code(client.post("/api/auth/totp/confirm", headers=token, json={"code": "123456"})) == (
            "TOTP_NOT_STARTED")
        enrolled = client.post("/api/auth/totp/enroll", headers=token)
        assert enrolled.status_code == 200, enrolled.text
        secret = enrolled.json()["secret"]
        assert enrolled.json()["otpauth_uri"].startswith("otpauth://totp/OSON%20operator:")
        step = totp.time_step(clock.now())
        wrong = totp.code_at(secret, step + 5)
        bad = client.post("/api/auth/totp/confirm", headers=token, json={"code": wrong})
        assert (bad.status_code, code(bad)) == (422, "TOTP_INVALID")
        assert code(client.get("/api/staff", headers=token)) == "TOTP_ENROLLMENT_REQUIRED"
        good = client.post("/api/auth/totp/confirm", headers=token, json={"code": totp.code_at(secret, step)})
        assert good.status_code == 200, good.text
        assert client.get("/api/staff", headers=token).status_code == 200
        again = client.post("/api/auth/totp/enroll", headers=token)
        assert (again.status_code, code(again)) == (409, "TOTP_ALREADY_ENROLLED")

        # From now on the code is required at login.
        missing = client.post("/api/auth/login", json={"login": user, "password": password})
        assert (missing.status_code, code(missing)) == (401, "TOTP_REQUIRED")
        clock.advance(timedelta(seconds=30))
        step = totp.time_step(clock.now())
        ok = client.post("/api/auth/login", json={"login": user, "password": password,
                                                  "totp_code": totp.code_at(secret, step)})
        assert ok.status_code == 200, ok.text
        assert ok.json()["totp_enrollment_required"] is False
    assert [a for a, r, _ in events_about(settings, user) if r == "ok" and a.startswith("auth.totp")] == [
        "auth.totp_enroll", "auth.totp_confirm"]


def test_administrator_login_needs_a_valid_unused_code(running_pg: PostgresServer) -> None:
    settings = running_pg.settings()
    clock = ManualClock(T0)
    user = unique_login("admin")
    password = make_staff(settings, user, Role.ADMIN, now=T0)
    secret = totp_secret(settings, user)
    assert secret is not None
    with access_client(settings, clock) as client:
        def attempt(totp_code: str | None) -> Response:
            body = {"login": user, "password": password}
            if totp_code is not None:
                body["totp_code"] = totp_code
            return client.post("/api/auth/login", json=body)

        step = totp.time_step(clock.now())
        assert code(attempt(None)) == "TOTP_REQUIRED"
        assert code(attempt("")) == "TOTP_REQUIRED"
        assert code(attempt(totp.code_at(secret, step + 3))) == "TOTP_INVALID"
        current = totp.code_at(secret, step)
        assert attempt(current).status_code == 200
        replay = attempt(current)
        assert (replay.status_code, code(replay)) == (401, "TOTP_REUSED")
        # The previous step's code is older than the one used: refused as well.
        assert code(attempt(totp.code_at(secret, step - 1))) == "TOTP_REUSED"
        # A code one step ahead (clock drift) is accepted once.
        assert attempt(totp.code_at(secret, step + 1)).status_code == 200
        clock.advance(timedelta(seconds=60))
        latest = totp.code_at(secret, totp.time_step(clock.now()))
        assert attempt(latest).status_code == 200
        # Wrong and replayed codes count as failed logins: five in a row lock the account.
        assert code(attempt(latest)) == "TOTP_REUSED"
        assert code(attempt(latest)) == "TOTP_REUSED"
        for _ in range(2):
            assert code(attempt(totp.code_at(secret, step - 5))) == "TOTP_INVALID"
        locked = attempt(totp.code_at(secret, step - 5))
        assert (locked.status_code, code(locked)) == (403, "ACCOUNT_LOCKED")
    failures = [r for a, r, _ in events_about(settings, user) if a == "auth.login_failed"]
    assert failures[:4] == ["refused:TOTP_REQUIRED", "refused:TOTP_REQUIRED", "refused:TOTP_INVALID",
                            "refused:TOTP_REUSED"]


def test_operators_may_enrol_and_then_need_the_code(running_pg: PostgresServer) -> None:
    settings = running_pg.settings()
    clock = ManualClock(T0)
    user = unique_login("op")
    password = make_staff(settings, user, Role.OPERATOR, now=T0)
    with access_client(settings, clock) as client:
        token = bearer(login_token(client, settings, user, password))
        assert client.get("/api/auth/me", headers=token).json()["totp_enrollment_required"] is False
        secret = client.post("/api/auth/totp/enroll", headers=token).json()["secret"]
        # Not confirmed yet: login still needs only the password.
        assert client.post("/api/auth/login", json={"login": user, "password": password}).status_code == 200
        confirmed = client.post("/api/auth/totp/confirm", headers=token,
                                json={"code": totp.code_at(secret, totp.time_step(clock.now()))})
        assert confirmed.status_code == 200
        assert code(client.post("/api/auth/login", json={"login": user, "password": password})) == "TOTP_REQUIRED"
        clock.advance(timedelta(seconds=30))
        assert login_token(client, settings, user, password)


def test_an_administrator_resets_a_lost_second_factor(running_pg: PostgresServer) -> None:
    settings = running_pg.settings()
    clock = ManualClock(T0)
    other = unique_login("admin")
    password = make_staff(settings, other, Role.ADMIN, now=T0)
    with access_client(settings, clock) as client:
        admin = staff_headers(client, settings, Role.ADMIN)
        session = bearer(login_token(client, settings, other, password))
        reset = client.post(f"/api/staff/{other}/reset-totp", headers=admin)
        assert reset.status_code == 200, reset.text
        assert reset.json()["totp_enrolled"] is False
        assert client.get("/api/auth/me", headers=session).status_code == 401
        again = client.post("/api/auth/login", json={"login": other, "password": password})
        assert again.status_code == 200, again.text
        assert again.json()["totp_enrollment_required"] is True
        assert code(client.get("/api/staff", headers=bearer(again.json()["token"]))) == "TOTP_ENROLLMENT_REQUIRED"
