"""Authentication of staff sessions and API clients, and the per-route role declaration.

Every route other than the public ones (live, health, openapi, login) depends on
``require_roles(...)``; the access-matrix test walks the routes and checks the declaration.

Two kinds of caller:

- staff: ``Authorization: Bearer <token>`` from ``POST /api/auth/login``. The token is 32 random bytes;
  the database keeps only its SHA-256. A session ends on logout and after ``session_idle_minutes``
  without a request (a request moves ``last_seen_at``, written at most once a minute).
- API clients (role ``integration``): ``Authorization: Basic base64(client_id:client_secret)``. The
  secret is checked against its SHA-256; ``last_used_at`` is written at most once an hour; a client
  unused for ``api_client_max_idle_days`` is blocked on its next request.

A staff session can be *restricted*: its password must be changed (first login, administrator reset,
expiry), or it belongs to an administrator with no second factor yet. Restricted sessions reach only
the routes declared with ``require_roles_while_restricted`` (password change, TOTP enrolment,
logout, me); everything else answers 403 with the restriction's code.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from enum import StrEnum

from fastapi import Request
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from oson_operator.api.context import request_context
from oson_operator.domain import passwords
from oson_operator.domain.access import Principal, Role
from oson_operator.domain.errors import DomainError, Forbidden, NotAuthenticated
from oson_operator.settings import Settings
from oson_operator.storage import access as store
from oson_operator.storage.events import append_event


class Restriction(StrEnum):
    """What a staff session must do before it may do anything else (value = the 403 code)."""

    PASSWORD_CHANGE = "PASSWORD_CHANGE_REQUIRED"
    TOTP_ENROLLMENT = "TOTP_ENROLLMENT_REQUIRED"


ALL_RESTRICTIONS = frozenset(Restriction)
# A session's last_seen_at is written when it is at least this old: reading pages then costs no write
# (and no wait for the synchronous standby), and an idle deadline is at most this much early.
TOUCH_INTERVAL = timedelta(seconds=60)


def session_restrictions(user: store.StaffUser, now: datetime, settings: Settings) -> frozenset[Restriction]:
    status = passwords.password_status(
        user.password_changed_at, now, forced=user.must_change_password,
        max_age_days=settings.password_max_age_days, warn_days=settings.password_warn_days,
    )
    found: set[Restriction] = set()
    if status.must_change:
        found.add(Restriction.PASSWORD_CHANGE)
    if user.role is Role.ADMIN and not user.totp_enrolled:
        found.add(Restriction.TOTP_ENROLLMENT)
    return frozenset(found)


def audit_for(request: Request, actor: str) -> store.Audit:
    context = request_context(request)
    return store.Audit(actor=actor, started_at=context.started_at, source_address=context.source_address,
                       request_id=context.request_id)


def mark_recorded(request: Request) -> None:
    """The route recorded its own event (in its transaction): the recording middleware adds none."""
    request.state.event_recorded = True


def _staff_principal(request: Request, token: str) -> Principal:
    state = request.app.state
    settings: Settings = state.settings
    now = state.clock.now()
    idle = timedelta(minutes=settings.session_idle_minutes)
    outcome: DomainError | None = None
    with state.engine.begin() as connection:
        found = store.find_session(connection, passwords.token_digest(token))
        if found is None:
            raise NotAuthenticated("NOT_AUTHENTICATED")
        session, user = found
        if session.ended_at is not None:
            outcome = NotAuthenticated("SESSION_EXPIRED", params={"minutes": settings.session_idle_minutes})
        elif now - session.last_seen_at >= idle or user.disabled_at is not None:
            reason = "idle" if user.disabled_at is None else "disabled"
            store.end_session(connection, session.id, now, reason)
            append_event(connection, audit_for(request, f"staff:{user.login}").event(
                "auth.session_end", record_type="staff_session", record_id=session.id,
                details={"reason": reason, "last_seen_at": session.last_seen_at.isoformat()}))
            outcome = NotAuthenticated("SESSION_EXPIRED", params={"minutes": settings.session_idle_minutes})
        elif now - session.last_seen_at >= TOUCH_INTERVAL:
            store.touch_session(connection, session.id, now)
    if outcome is not None:
        raise outcome
    request.state.staff_user = user
    request.state.restrictions = session_restrictions(user, now, settings)
    return Principal(kind="staff", name=user.login, role=user.role, session_id=session.id)


def _refuse_client(request: Request, connection: Connection, client_id: str, code: str) -> None:
    append_event(connection, audit_for(request, "anonymous").event(
        "auth.api_client_refused", f"refused:{code}", record_type="api_client", record_id=client_id))


def _client_credentials(credentials: str) -> tuple[str, str]:
    """(client id, secret) from the Basic credentials; ``NotAuthenticated`` when they are malformed."""
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise NotAuthenticated("NOT_AUTHENTICATED") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep or not client_id or not secret:
        raise NotAuthenticated("NOT_AUTHENTICATED")
    return client_id, secret


def _usable_without_a_write(client: store.ApiClient, digest: str, now: datetime, settings: Settings) -> bool:
    """The client may call, and nothing about it needs writing (dormancy, the hourly mark of use)."""
    return (hmac.compare_digest(client.secret_hash, digest) and client.status == "active"
            and now - client.idle_since() < timedelta(days=settings.api_client_max_idle_days)
            and client.last_used_at is not None and now - client.last_used_at < timedelta(hours=1))


def _cached_client_principal(request: Request, client_id: str, digest: str) -> Principal | None:
    state = request.app.state
    client = state.api_client_cache.get(client_id, digest)
    if client is None or not _usable_without_a_write(client, digest, state.clock.now(), state.settings):
        return None
    request.state.api_client = client
    request.state.restrictions = frozenset()
    return Principal(kind="api_client", name=client_id, role=Role.INTEGRATION)


def _client_principal(request: Request, credentials: str) -> Principal:
    client_id, secret = _client_credentials(credentials)
    state = request.app.state
    settings: Settings = state.settings
    digest = passwords.token_digest(secret)
    cached = _cached_client_principal(request, client_id, digest)
    if cached is not None:
        return cached
    now = state.clock.now()
    generation = state.api_client_cache.generation()
    # The common case reads one row and writes nothing: no transaction (saves BEGIN and COMMIT).
    with state.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as reader:
        client = store.get_api_client(reader, client_id)
    if client is not None and _usable_without_a_write(client, digest, now, settings):
        return _admit_client(request, client, digest, generation)
    outcome: DomainError | None = None
    with state.engine.begin() as connection:
        client = store.get_api_client(connection, client_id)
        if client is None or not hmac.compare_digest(client.secret_hash, passwords.token_digest(secret)):
            _refuse_client(request, connection, client_id, "API_CLIENT_INVALID")
            outcome = NotAuthenticated("API_CLIENT_INVALID")
        elif client.status != "active":
            _refuse_client(request, connection, client_id, "API_CLIENT_BLOCKED")
            outcome = Forbidden("API_CLIENT_BLOCKED")
        elif now - client.idle_since() >= timedelta(days=settings.api_client_max_idle_days):
            store.update_api_client(connection, client_id, now, status="blocked", blocked_reason="dormant",
                                    blocked_at=now)
            append_event(connection, audit_for(request, f"client:{client_id}").event(
                "api_client.block", "refused:API_CLIENT_DORMANT", record_type="api_client", record_id=client_id,
                details={"reason": "dormant", "idle_since": client.idle_since().isoformat()}))
            outcome = Forbidden("API_CLIENT_DORMANT", params={"days": settings.api_client_max_idle_days})
        elif client.last_used_at is None or now - client.last_used_at >= timedelta(hours=1):
            store.mark_api_client_used(connection, client_id, now)
    if not isinstance(outcome, NotAuthenticated):
        # Blocked, marked dormant or used: whatever was cached of it is older than this. (Not on a wrong
        # secret: anyone could send one, and it says nothing about the client.)
        state.api_client_cache.forget(client_id)
    if outcome is not None:
        raise outcome
    assert client is not None
    return _admit_client(request, client, digest, generation)


def _admit_client(request: Request, client: store.ApiClient, digest: str, generation: int) -> Principal:
    request.app.state.api_client_cache.put(client, digest, generation)
    request.state.api_client = client
    request.state.restrictions = frozenset()
    return Principal(kind="api_client", name=client.client_id, role=Role.INTEGRATION)


def _authorization(request: Request) -> tuple[str, str]:
    """(scheme in lower case, credentials) of the Authorization header; empty strings when absent."""
    scheme, _, credentials = request.headers.get("Authorization", "").strip().partition(" ")
    return scheme.lower(), credentials.strip()


def authenticate(request: Request) -> Principal:
    """The caller named by the Authorization header; ``NotAuthenticated`` (401) when there is none."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    scheme, credentials = _authorization(request)
    if scheme == "bearer" and credentials:
        principal = _staff_principal(request, credentials)
    elif scheme == "basic" and credentials:
        principal = _client_principal(request, credentials)
    else:
        raise NotAuthenticated("NOT_AUTHENTICATED")
    request.state.principal = principal
    return principal


def known_principal(request: Request) -> Principal | None:
    """The caller, when it is known without a database read: already authenticated in this request, or
    an API client in the cache (``api/client_cache.py``). Runs on the event loop (no I/O)."""
    principal = getattr(request.state, "principal", None)
    if principal is not None or not request.app.state.api_client_cache.trusted:
        return principal
    scheme, credentials = _authorization(request)
    if scheme != "basic" or not credentials:
        return None
    try:
        client_id, secret = _client_credentials(credentials)
    except NotAuthenticated:
        return None  # authenticate() gives the answer and records the refusal
    principal = _cached_client_principal(request, client_id, passwords.token_digest(secret))
    if principal is not None:
        request.state.principal = principal
    return principal


def admit(request: Request, principal: Principal, allowed: frozenset[Role],
          tolerated: frozenset[Restriction]) -> Principal:
    """``principal`` if its role is ``allowed`` and its session has no restriction but the ``tolerated``
    ones; ``Forbidden`` otherwise."""
    if principal.role not in allowed:
        raise Forbidden("ROLE_FORBIDDEN", params={"role": principal.role.value})
    pending: frozenset[Restriction] = getattr(request.state, "restrictions", frozenset())
    for restriction in Restriction:  # password change first, then TOTP enrolment
        if restriction in pending and restriction not in tolerated:
            raise Forbidden(restriction.value)
    return principal


def _roles_dependency(
    roles: tuple[Role, ...], tolerated: frozenset[Restriction]
) -> Callable[[Request], Awaitable[Principal]]:
    allowed = frozenset(roles)

    # Async, so that a caller known without a database read costs no hand-off to a worker thread.
    async def dependency(request: Request) -> Principal:
        principal = known_principal(request) or await run_in_threadpool(authenticate, request)
        return admit(request, principal, allowed, tolerated)

    dependency.allowed_roles = allowed  # type: ignore[attr-defined]
    dependency.tolerated_restrictions = tolerated  # type: ignore[attr-defined]
    return dependency


def require_roles(*roles: Role) -> Callable[[Request], Awaitable[Principal]]:
    """A FastAPI dependency admitting only callers with one of ``roles``.

    The returned callable carries ``allowed_roles`` so tests can read the declaration.
    """
    return _roles_dependency(roles, frozenset())


def require_roles_while_restricted(
    *roles: Role, tolerate: frozenset[Restriction] = ALL_RESTRICTIONS
) -> Callable[[Request], Awaitable[Principal]]:
    """Like ``require_roles``, but also admits sessions with the ``tolerate``d restrictions pending.

    For the few routes that lift a restriction (password change, TOTP enrolment) or are harmless
    (logout, me).
    """
    return _roles_dependency(roles, tolerate)
