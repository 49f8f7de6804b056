"""Routes: staff users (administrators manage them; auditors may list them).

Privileged accounts are restricted (§13.2(7)): only administrators create users, reset passwords,
lock and unlock; an administrator cannot disable themself or change their own role, so there is
always a second person behind such a change. Temporary passwords are shown once and must be changed
at first login.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from oson_operator.api.security import audit_for, mark_recorded, require_roles
from oson_operator.domain.access import Principal, Role
from oson_operator.domain.errors import DomainError, FieldProblem, Forbidden, NotFound
from oson_operator.storage import access as store
from oson_operator.storage.events import append_event

router = APIRouter(prefix="/api/staff", tags=["staff"])

_admin = require_roles(Role.ADMIN)
_readers = require_roles(Role.ADMIN, Role.AUDITOR)


class StaffCreateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    login: str = Field(min_length=2, max_length=64, pattern=store.LOGIN_PATTERN)
    full_name: str = Field("", max_length=200)
    role: Role


class StaffUpdateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full_name: str | None = Field(None, max_length=200)
    role: Role | None = None


class StaffView(BaseModel):
    login: str
    full_name: str
    role: Role
    disabled: bool
    locked_until: datetime | None
    must_change_password: bool
    password_changed_at: datetime
    totp_enrolled: bool
    created_at: datetime
    created_by: str
    last_login_at: datetime | None


class StaffWithPassword(StaffView):
    temporary_password: str = Field(description="shown once; the user must change it at first login")


def _view(user: store.StaffUser, now: datetime) -> StaffView:
    return StaffView(
        login=user.login, full_name=user.full_name, role=user.role, disabled=user.disabled_at is not None,
        locked_until=user.locked_until if user.locked_at(now) else None,
        must_change_password=user.must_change_password, password_changed_at=user.password_changed_at,
        totp_enrolled=user.totp_enrolled, created_at=user.created_at, created_by=user.created_by,
        last_login_at=user.last_login_at,
    )


def _staff_role(role: Role) -> Role:
    if role is Role.INTEGRATION:
        raise DomainError("ROLE_INVALID", status=422, problems=(FieldProblem("role", "ROLE_INVALID"),))
    return role


def _target(connection: Connection, login: str) -> store.StaffUser:
    user = store.get_staff(connection, login, for_update=True)
    if user is None:
        raise NotFound("STAFF_NOT_FOUND", params={"login": login})
    return user


@router.post("", status_code=201, response_model=StaffWithPassword, summary="Create a staff user")
def create_staff(
    body: StaffCreateRequest, request: Request, principal: Principal = Depends(_admin)
) -> StaffWithPassword:
    state = request.app.state
    now = state.clock.now()
    with state.engine.begin() as connection:
        user, temporary = store.issue_staff_user(
            connection, audit_for(request, principal.actor), login=body.login, full_name=body.full_name,
            role=_staff_role(body.role), now=now,
        )
    mark_recorded(request)
    return StaffWithPassword(**_view(user, now).model_dump(), temporary_password=temporary)


@router.get("", response_model=list[StaffView], summary="List staff users")
def list_staff(request: Request, principal: Principal = Depends(_readers)) -> list[StaffView]:
    state = request.app.state
    now = state.clock.now()
    with state.engine.connect() as connection:
        return [_view(user, now) for user in store.list_staff(connection)]


@router.get("/{login}", response_model=StaffView, summary="One staff user")
def get_staff(login: str, request: Request, principal: Principal = Depends(_readers)) -> StaffView:
    state = request.app.state
    with state.engine.connect() as connection:
        user = store.get_staff(connection, login)
    if user is None:
        raise NotFound("STAFF_NOT_FOUND", params={"login": login})
    return _view(user, state.clock.now())


@router.patch("/{login}", response_model=StaffView, summary="Change a staff user's name or role")
def update_staff(
    login: str, body: StaffUpdateRequest, request: Request, principal: Principal = Depends(_admin)
) -> StaffView:
    state = request.app.state
    now = state.clock.now()
    with state.engine.begin() as connection:
        user = _target(connection, login)
        changes: dict[str, object] = {}
        if body.full_name is not None and body.full_name != user.full_name:
            changes["full_name"] = body.full_name
        if body.role is not None and body.role is not user.role:
            if user.login == principal.name:
                raise Forbidden("SELF_ROLE_CHANGE")
            changes["role"] = _staff_role(body.role).value
        if changes:
            user = store.update_staff(connection, user.login, now, **changes)
            append_event(connection, audit_for(request, principal.actor).event(
                "staff.update", record_type="staff_user", record_id=user.login, details=changes))
    if changes:
        mark_recorded(request)
    return _view(user, now)


@router.post("/{login}/reset-password", response_model=StaffWithPassword,
             summary="Issue a new temporary password (changed at next login; sessions end)")
def reset_password(login: str, request: Request, principal: Principal = Depends(_admin)) -> StaffWithPassword:
    state = request.app.state
    now = state.clock.now()
    with state.engine.begin() as connection:
        user, temporary = store.reset_staff_password(
            connection, audit_for(request, principal.actor), _target(connection, login), now=now)
    mark_recorded(request)
    return StaffWithPassword(**_view(user, now).model_dump(), temporary_password=temporary)


def _simple_change(request: Request, principal: Principal, login: str, action: str) -> StaffView:
    state = request.app.state
    now = state.clock.now()
    with state.engine.begin() as connection:
        user = _target(connection, login)
        details: dict[str, object] = {}
        if action == "staff.disable":
            if user.login == principal.name:
                raise Forbidden("SELF_DISABLE")
            user = store.update_staff(connection, user.login, now, disabled_at=user.disabled_at or now)
            details["sessions_ended"] = store.end_sessions_of(connection, user.login, now, "disabled")
        elif action == "staff.enable":
            user = store.update_staff(connection, user.login, now, disabled_at=None)
        elif action == "staff.unlock":
            details["was_locked_until"] = user.locked_until.isoformat() if user.locked_at(now) else None
            user = store.update_staff(connection, user.login, now, failed_logins=0, locked_until=None)
        elif action == "staff.reset_totp":
            details["was_enrolled"] = user.totp_enrolled
            user = store.update_staff(connection, user.login, now, totp_secret=None, totp_pending_secret=None,
                                      totp_last_step=None)
            details["sessions_ended"] = store.end_sessions_of(connection, user.login, now, "totp_reset")
        append_event(connection, audit_for(request, principal.actor).event(
            action, record_type="staff_user", record_id=user.login, details=details))
    mark_recorded(request)
    return _view(user, now)


@router.post("/{login}/disable", response_model=StaffView, summary="Disable a staff user (sessions end)")
def disable(login: str, request: Request, principal: Principal = Depends(_admin)) -> StaffView:
    return _simple_change(request, principal, login, "staff.disable")


@router.post("/{login}/enable", response_model=StaffView, summary="Enable a disabled staff user")
def enable(login: str, request: Request, principal: Principal = Depends(_admin)) -> StaffView:
    return _simple_change(request, principal, login, "staff.enable")


@router.post("/{login}/unlock", response_model=StaffView, summary="Lift a lockout after failed logins")
def unlock(login: str, request: Request, principal: Principal = Depends(_admin)) -> StaffView:
    return _simple_change(request, principal, login, "staff.unlock")


@router.post("/{login}/reset-totp", response_model=StaffView,
             summary="Remove a lost second factor (an administrator must enrol again at next login)")
def reset_totp(login: str, request: Request, principal: Principal = Depends(_admin)) -> StaffView:
    return _simple_change(request, principal, login, "staff.reset_totp")
