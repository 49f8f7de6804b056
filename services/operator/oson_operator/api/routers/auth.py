"""Routes: staff login, logout, the current caller, password change and TOTP enrolment.

Login is the only public route here. A refused login is recorded (event, failure counters, source
block) in a transaction that commits before the refusal is returned, so that the refusal itself
leaves a trace even though nothing else happens.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from oson_operator.api.context import request_context
from oson_operator.api.security import (
    Restriction,
    audit_for,
    mark_recorded,
    require_roles_while_restricted,
    session_restrictions,
)
from oson_operator.domain import passwords, totp
from oson_operator.domain.access import STAFF_ROLES, Principal, Role
from oson_operator.domain.errors import Conflict, DomainError, FieldProblem, Forbidden, NotAuthenticated
from oson_operator.domain.events import EventDraft
from oson_operator.settings import Settings
from oson_operator.storage import access as store
from oson_operator.storage.events import append_event

router = APIRouter(prefix="/api/auth", tags=["auth"])

STAFF = tuple(sorted(STAFF_ROLES))
_any_staff = require_roles_while_restricted(*STAFF)
_any_caller = require_roles_while_restricted(*STAFF, Role.INTEGRATION)
_enrolling_staff = require_roles_while_restricted(*STAFF, tolerate=frozenset({Restriction.TOTP_ENROLLMENT}))


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    login: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    totp_code: str | None = Field(None, max_length=16, description="required once a second factor is enrolled")


class LoginResponse(BaseModel):
    token: str = Field(description="send as 'Authorization: Bearer <token>'")
    expires_after_idle_minutes: int
    must_change_password: bool = Field(description="only POST /api/auth/password is allowed until changed")
    password_expires_in_days: int
    password_expiry_warning: bool
    totp_enrollment_required: bool = Field(description="administrators must enrol a second factor first")


class PasswordChangeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class PasswordChangeResponse(BaseModel):
    password_expires_in_days: int


class TotpEnrollResponse(BaseModel):
    secret: str = Field(description="base32 secret, for manual entry in the authenticator app")
    otpauth_uri: str = Field(description="the same secret as an otpauth:// URI (QR code)")


class TotpConfirmRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=16)


class TotpConfirmResponse(BaseModel):
    totp_enrolled: Literal[True] = True


class MeResponse(BaseModel):
    kind: Literal["staff", "api_client"]
    name: str
    role: Role
    session_id: str | None = None
    full_name: str | None = None
    must_change_password: bool = False
    password_expires_in_days: int | None = None
    password_expiry_warning: bool = False
    totp_enrolled: bool = False
    totp_enrollment_required: bool = False
    participant_id: str | None = None


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _status(user: store.StaffUser, now: datetime, settings: Settings) -> passwords.PasswordStatus:
    return passwords.password_status(
        user.password_changed_at, now, forced=user.must_change_password,
        max_age_days=settings.password_max_age_days, warn_days=settings.password_warn_days,
    )


# Events are appended last in a transaction, after every row and advisory lock it takes (appending
# holds a chain head until commit; taking locks after it could deadlock with another writer).
# Hence the helpers below collect their events in ``events`` for the caller to append.


def _count_failure(
    connection: Connection, audit: store.Audit, user: store.StaffUser, now: datetime, settings: Settings,
    events: list[EventDraft],
) -> datetime | None:
    """One more consecutive failure; locks the account at the limit and returns the lock's end."""
    failures = user.failed_logins + 1
    if failures < settings.login_max_failures:
        store.update_staff(connection, user.login, now, failed_logins=failures)
        return None
    until = now + timedelta(minutes=settings.login_lockout_minutes)
    store.update_staff(connection, user.login, now, failed_logins=0, locked_until=until)
    ended = store.end_sessions_of(connection, user.login, now, "locked")
    events.append(audit.event(
        "auth.lockout", "ok", actor="system", record_type="staff_user", record_id=user.login,
        details={"failures": failures, "locked_until": _iso(until), "sessions_ended": ended}))
    return until


def _count_source_failure(
    connection: Connection, audit: store.Audit, source: str, login: str, now: datetime, settings: Settings,
    events: list[EventDraft],
) -> None:
    logins = store.record_login_failure(connection, source, login, now)
    if logins >= settings.source_block_logins:
        until = now + timedelta(hours=settings.source_block_hours)
        store.block_source(connection, source, now, until, logins)
        events.append(audit.event(
            "auth.source_block", "ok", actor="system", record_type="source_address", record_id=source,
            details={"distinct_logins": logins, "blocked_until": _iso(until)}))


@router.post("/login", response_model=LoginResponse, summary="Staff login (password, plus TOTP when enrolled)")
def login(body: LoginRequest, request: Request) -> LoginResponse:
    state = request.app.state
    settings: Settings = state.settings
    now: datetime = state.clock.now()
    source = request_context(request).source_address or "unknown"
    audit = audit_for(request, "anonymous")

    def refused(code: str, **details: object) -> EventDraft:
        return audit.event("auth.login_failed", f"refused:{code}", record_type="staff_user", record_id=body.login,
                           details={"login": body.login, **details})

    with state.engine.begin() as connection:
        blocked_until = store.source_blocked_until(connection, source, now)
        if blocked_until is not None:
            append_event(connection, refused("SOURCE_BLOCKED"))
    if blocked_until is not None:
        mark_recorded(request)
        raise DomainError("SOURCE_BLOCKED", status=429, params={"until": _iso(blocked_until)})

    failure: DomainError | None = None
    events: list[EventDraft] = []
    with state.engine.begin() as connection:
        user = store.get_staff(connection, body.login, for_update=True)
        counts_for_source = True
        if user is None:
            passwords.verify_password(None, body.password)  # as slow as for a real login
            failure = NotAuthenticated("INVALID_CREDENTIALS")
        elif user.locked_at(now):
            assert user.locked_until is not None
            failure = Forbidden("ACCOUNT_LOCKED", params={"until": _iso(user.locked_until)})
        elif not passwords.verify_password(user.password_hash, body.password):
            failure = NotAuthenticated("INVALID_CREDENTIALS")
        elif user.disabled_at is not None:
            failure, counts_for_source = Forbidden("ACCOUNT_DISABLED"), False
        elif user.totp_secret is not None:
            step = totp.matching_step(user.totp_secret, body.totp_code or "", now)
            if not body.totp_code:
                failure, counts_for_source = NotAuthenticated("TOTP_REQUIRED"), False
            elif step is None:
                failure = NotAuthenticated("TOTP_INVALID")
            elif totp.is_replay(step, user.totp_last_step):
                failure = NotAuthenticated("TOTP_REUSED")
            else:
                user = store.update_staff(connection, user.login, now, totp_last_step=step)

        if failure is not None:
            if user is not None and failure.code in ("INVALID_CREDENTIALS", "TOTP_INVALID", "TOTP_REUSED"):
                locked_until = _count_failure(connection, audit, user, now, settings, events)
                if locked_until is not None:
                    failure = Forbidden("ACCOUNT_LOCKED", params={"until": _iso(locked_until)})
            if counts_for_source:
                _count_source_failure(connection, audit, source, body.login, now, settings, events)
            for draft in (refused(failure.code, known=user is not None), *events):
                append_event(connection, draft)
        else:
            assert user is not None
            token = passwords.new_token()
            session_id = store.create_session(connection, user.login, passwords.token_digest(token), now, source)
            user = store.update_staff(connection, user.login, now, failed_logins=0, last_login_at=now)
            status = _status(user, now, settings)
            restrictions = session_restrictions(user, now, settings)
            append_event(connection, audit.event(
                "auth.login", "ok", actor=f"staff:{user.login}", record_type="staff_session",
                record_id=session_id,
                details={"login": user.login, "role": user.role.value,
                         "restrictions": sorted(r.value for r in restrictions)}))
    mark_recorded(request)
    if failure is not None:
        raise failure
    return LoginResponse(
        token=token,
        expires_after_idle_minutes=settings.session_idle_minutes,
        must_change_password=status.must_change,
        password_expires_in_days=status.expires_in_days,
        password_expiry_warning=status.warning,
        totp_enrollment_required=Restriction.TOTP_ENROLLMENT in restrictions,
    )


@router.post("/logout", status_code=204, response_class=Response, summary="End the current staff session")
def logout(request: Request, principal: Principal = Depends(_any_staff)) -> Response:
    state = request.app.state
    now = state.clock.now()
    assert principal.session_id is not None
    with state.engine.begin() as connection:
        store.end_session(connection, principal.session_id, now, "logout")
        append_event(connection, audit_for(request, principal.actor).event(
            "auth.logout", record_type="staff_session", record_id=principal.session_id))
    mark_recorded(request)
    return Response(status_code=204)


@router.get("/me", response_model=MeResponse, summary="Who is calling, and what the session must do first")
def me(request: Request, principal: Principal = Depends(_any_caller)) -> MeResponse:
    if principal.kind == "api_client":
        client: store.ApiClient = request.state.api_client
        return MeResponse(kind="api_client", name=principal.name, role=principal.role,
                          participant_id=client.participant_id)
    state = request.app.state
    user: store.StaffUser = request.state.staff_user
    status = _status(user, state.clock.now(), state.settings)
    restrictions = request.state.restrictions
    return MeResponse(
        kind="staff", name=user.login, role=user.role, session_id=principal.session_id,
        full_name=user.full_name, must_change_password=status.must_change,
        password_expires_in_days=status.expires_in_days, password_expiry_warning=status.warning,
        totp_enrolled=user.totp_enrolled, totp_enrollment_required=Restriction.TOTP_ENROLLMENT in restrictions,
    )


@router.post("/password", response_model=PasswordChangeResponse, summary="Change one's own password")
def change_password(
    body: PasswordChangeRequest, request: Request, principal: Principal = Depends(_any_staff)
) -> PasswordChangeResponse:
    state = request.app.state
    settings: Settings = state.settings
    now: datetime = state.clock.now()
    audit = audit_for(request, principal.actor)
    failure: DomainError | None = None
    events: list[EventDraft] = []
    with state.engine.begin() as connection:
        user = store.get_staff(connection, principal.name, for_update=True)
        assert user is not None
        if not passwords.verify_password(user.password_hash, body.current_password):
            failure = Forbidden("CURRENT_PASSWORD_WRONG")
            locked_until = _count_failure(connection, audit, user, now, settings, events)
            if locked_until is not None:
                failure = Forbidden("ACCOUNT_LOCKED", params={"until": _iso(locked_until)})
        else:
            previous = dict.fromkeys(
                [user.password_hash, *store.recent_password_hashes(connection, user.login, settings.password_history)]
            )
            codes = passwords.policy_violations(body.new_password, user.login, previous)
            if codes:
                params = {"min_length": passwords.MIN_LENGTH, "min_classes": passwords.MIN_CLASSES,
                          "history": settings.password_history}
                failure = DomainError("PASSWORD_REJECTED", status=422, problems=tuple(
                    FieldProblem("new_password", code, params) for code in codes))
        if failure is not None:
            append_event(connection, audit.event(
                "auth.password_change", f"refused:{failure.code}", record_type="staff_user", record_id=user.login,
                details={"problems": [p.code for p in failure.problems]}))
            for draft in events:
                append_event(connection, draft)
        else:
            new_hash = passwords.hash_password(body.new_password)
            user = store.update_staff(connection, user.login, now, password_hash=new_hash, password_changed_at=now,
                                      must_change_password=False, failed_logins=0)
            store.add_password_history(connection, user.login, new_hash, now, settings.password_history)
            ended = store.end_sessions_of(connection, user.login, now, "password_changed", keep=principal.session_id)
            append_event(connection, audit.event(
                "auth.password_change", record_type="staff_user", record_id=user.login,
                details={"other_sessions_ended": ended}))
    mark_recorded(request)
    if failure is not None:
        raise failure
    return PasswordChangeResponse(password_expires_in_days=settings.password_max_age_days)


@router.post("/totp/enroll", response_model=TotpEnrollResponse, summary="Start enrolling a TOTP second factor")
def totp_enroll(request: Request, principal: Principal = Depends(_enrolling_staff)) -> TotpEnrollResponse:
    state = request.app.state
    now = state.clock.now()
    with state.engine.begin() as connection:
        user = store.get_staff(connection, principal.name, for_update=True)
        assert user is not None
        if user.totp_enrolled:
            raise Conflict("TOTP_ALREADY_ENROLLED")
        secret = totp.new_secret()
        store.update_staff(connection, user.login, now, totp_pending_secret=secret)
        append_event(connection, audit_for(request, principal.actor).event(
            "auth.totp_enroll", record_type="staff_user", record_id=user.login))
    mark_recorded(request)
    return TotpEnrollResponse(secret=secret,
                              otpauth_uri=totp.provisioning_uri(secret, user.login, state.settings.totp_issuer))


@router.post("/totp/confirm", response_model=TotpConfirmResponse, summary="Finish TOTP enrolment with a code")
def totp_confirm(
    body: TotpConfirmRequest, request: Request, principal: Principal = Depends(_enrolling_staff)
) -> TotpConfirmResponse:
    state = request.app.state
    now = state.clock.now()
    audit = audit_for(request, principal.actor)
    failure: DomainError | None = None
    with state.engine.begin() as connection:
        user = store.get_staff(connection, principal.name, for_update=True)
        assert user is not None
        if user.totp_enrolled:
            raise Conflict("TOTP_ALREADY_ENROLLED")
        if user.totp_pending_secret is None:
            raise Conflict("TOTP_NOT_STARTED")
        step = totp.matching_step(user.totp_pending_secret, body.code, now)
        if step is None:
            failure = DomainError("TOTP_INVALID", status=422,
                                  problems=(FieldProblem("code", "TOTP_INVALID"),))
            append_event(connection, audit.event("auth.totp_confirm", "refused:TOTP_INVALID",
                                                 record_type="staff_user", record_id=user.login))
        else:
            store.update_staff(connection, user.login, now, totp_secret=user.totp_pending_secret,
                               totp_pending_secret=None, totp_last_step=step)
            append_event(connection, audit.event("auth.totp_confirm", record_type="staff_user",
                                                 record_id=user.login))
    mark_recorded(request)
    if failure is not None:
        raise failure
    return TotpConfirmResponse()
