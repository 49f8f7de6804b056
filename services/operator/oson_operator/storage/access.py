"""Storage of staff users, sessions, login failures, source blocks and API clients (migration 0003).

Every function works inside the caller's transaction (a ``Connection`` from ``engine.begin()``) and
takes ``now`` from the caller, so that the rules follow the application clock (tests move it).
The ``issue_*`` / ``reset_*`` functions are the operations shared by the HTTP API and the CLI: they
change the rows and append the event record in the same transaction.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from oson_operator.domain import passwords
from oson_operator.domain.access import STAFF_ROLES, Role
from oson_operator.domain.errors import Conflict, DomainError, FieldProblem
from oson_operator.domain.events import EventDraft
from oson_operator.storage.driver import fetch
from oson_operator.storage.events import append_event

STAFF_COLUMNS = (
    "login, full_name, role, password_hash, password_changed_at, must_change_password, failed_logins, "
    "locked_until, disabled_at, totp_secret, totp_pending_secret, totp_last_step, created_at, created_by, "
    "updated_at, last_login_at"
)
CLIENT_COLUMNS = (
    "client_id, name, participant_id, secret_hash, status, blocked_reason, blocked_at, secret_generated_at, "
    "last_used_at, created_at, created_by, updated_at"
)
LOGIN_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$"


@dataclass(frozen=True)
class StaffUser:
    login: str
    full_name: str
    role: Role
    password_hash: str
    password_changed_at: datetime
    must_change_password: bool
    failed_logins: int
    locked_until: datetime | None
    disabled_at: datetime | None
    totp_secret: str | None
    totp_pending_secret: str | None
    totp_last_step: int | None
    created_at: datetime
    created_by: str
    updated_at: datetime
    last_login_at: datetime | None

    @property
    def totp_enrolled(self) -> bool:
        return self.totp_secret is not None

    def locked_at(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


@dataclass(frozen=True)
class StaffSession:
    id: str
    login: str
    created_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class ApiClient:
    client_id: str
    name: str
    participant_id: str | None
    secret_hash: str
    status: str  # active | blocked
    blocked_reason: str | None  # administrator, dormant
    blocked_at: datetime | None
    secret_generated_at: datetime
    last_used_at: datetime | None
    created_at: datetime
    created_by: str
    updated_at: datetime

    def idle_since(self) -> datetime:
        """Dormancy counts from the last use, or from the (re)generation of the secret if later."""
        if self.last_used_at is None:
            return self.secret_generated_at
        return max(self.last_used_at, self.secret_generated_at)


@dataclass(frozen=True)
class Audit:
    """Who does a change, from where: what the event record needs besides the change itself."""

    actor: str  # staff:<login>, client:<id>, anonymous, or cli:<os user>
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    source_address: str | None = None
    request_id: str | None = None

    def event(
        self,
        action: str,
        result: str = "ok",
        *,
        record_type: str | None = None,
        record_id: str | None = None,
        details: Mapping[str, object] | None = None,
        actor: str | None = None,
    ) -> EventDraft:
        return EventDraft(
            action=action,
            actor=actor or self.actor,
            result=result,
            started_at=self.started_at,
            ended_at=max(datetime.now(UTC), self.started_at),
            record_type=record_type,
            record_id=record_id,
            source_address=self.source_address,
            request_id=self.request_id,
            details=dict(details or {}),
        )


def _staff(row: Mapping[str, Any]) -> StaffUser:
    values = dict(row)
    values["role"] = Role(values["role"])
    return StaffUser(**values)


def _client(row: Mapping[str, Any]) -> ApiClient:
    return ApiClient(**dict(row))


def _set_clause(values: Mapping[str, object], allowed: frozenset[str]) -> str:
    unknown = set(values) - allowed
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    return ", ".join(f"{name} = :{name}" for name in values)


# --- staff users -----------------------------------------------------------------------------------

_STAFF_UPDATABLE = frozenset(
    {
        "full_name", "role", "password_hash", "password_changed_at", "must_change_password", "failed_logins",
        "locked_until", "disabled_at", "totp_secret", "totp_pending_secret", "totp_last_step",
        "last_login_at",
    }
)


def valid_login(login: str) -> bool:
    return re.fullmatch(LOGIN_PATTERN, login) is not None


def get_staff(connection: Connection, login: str, *, for_update: bool = False) -> StaffUser | None:
    """The staff user whose login matches regardless of case."""
    lock = " FOR UPDATE" if for_update else ""
    row = connection.execute(
        text(f"SELECT {STAFF_COLUMNS} FROM oson.staff_user WHERE lower(login) = lower(:login){lock}"),
        {"login": login},
    ).mappings().first()
    return _staff(row) if row is not None else None


def list_staff(connection: Connection) -> list[StaffUser]:
    rows = connection.execute(text(f"SELECT {STAFF_COLUMNS} FROM oson.staff_user ORDER BY login")).mappings()
    return [_staff(row) for row in rows]


def insert_staff(
    connection: Connection,
    *,
    login: str,
    full_name: str,
    role: Role,
    password_hash: str,
    must_change_password: bool,
    now: datetime,
    created_by: str,
    totp_secret: str | None = None,
) -> StaffUser:
    """Add a staff user; ``Conflict(LOGIN_TAKEN)`` when the login exists in any letter case."""
    if not valid_login(login):
        raise DomainError("LOGIN_INVALID", status=422, problems=(FieldProblem("login", "LOGIN_INVALID"),))
    if role not in STAFF_ROLES:
        raise DomainError("ROLE_INVALID", status=422, problems=(FieldProblem("role", "ROLE_INVALID"),))
    row = connection.execute(
        text(
            "INSERT INTO oson.staff_user (login, full_name, role, password_hash, password_changed_at, "
            "must_change_password, totp_secret, created_at, created_by, updated_at) "
            "VALUES (:login, :full_name, :role, :password_hash, :now, :must_change, :totp_secret, :now, "
            f":created_by, :now) ON CONFLICT DO NOTHING RETURNING {STAFF_COLUMNS}"
        ),
        {
            "login": login, "full_name": full_name, "role": role.value, "password_hash": password_hash,
            "now": now, "must_change": must_change_password, "totp_secret": totp_secret,
            "created_by": created_by,
        },
    ).mappings().first()
    if row is None:
        raise Conflict("LOGIN_TAKEN", params={"login": login})
    return _staff(row)


def update_staff(connection: Connection, login: str, now: datetime, **values: object) -> StaffUser:
    clause = _set_clause(values, _STAFF_UPDATABLE)
    row = connection.execute(
        text(f"UPDATE oson.staff_user SET {clause}, updated_at = :now_ WHERE login = :login_ "
             f"RETURNING {STAFF_COLUMNS}"),
        {**values, "now_": now, "login_": login},
    ).mappings().one()
    return _staff(row)


def add_password_history(connection: Connection, login: str, password_hash: str, now: datetime, keep: int) -> None:
    """Remember a password the user chose, keeping the newest ``keep`` entries."""
    connection.execute(
        text("INSERT INTO oson.staff_password_history (login, password_hash, set_at) VALUES (:l, :h, :now)"),
        {"l": login, "h": password_hash, "now": now},
    )
    connection.execute(
        text(
            "DELETE FROM oson.staff_password_history WHERE login = :l AND id NOT IN "
            "(SELECT id FROM oson.staff_password_history WHERE login = :l ORDER BY id DESC LIMIT :keep)"
        ),
        {"l": login, "keep": max(keep, 0)},
    )


def recent_password_hashes(connection: Connection, login: str, limit: int) -> list[str]:
    rows = connection.execute(
        text("SELECT password_hash FROM oson.staff_password_history WHERE login = :l ORDER BY id DESC "
             "LIMIT :limit"),
        {"l": login, "limit": max(limit, 0)},
    )
    return [row[0] for row in rows]


# --- sessions --------------------------------------------------------------------------------------


def create_session(
    connection: Connection, login: str, token_hash: str, now: datetime, source_address: str | None
) -> str:
    session_id = secrets.token_hex(12)
    connection.execute(
        text(
            "INSERT INTO oson.staff_session (id, token_hash, login, created_at, last_seen_at, source_address) "
            "VALUES (:id, :token_hash, :login, :now, :now, :source)"
        ),
        {"id": session_id, "token_hash": token_hash, "login": login, "now": now, "source": source_address},
    )
    return session_id


def find_session(connection: Connection, token_hash: str) -> tuple[StaffSession, StaffUser] | None:
    """The session with this token (open or ended) and its user."""
    row = connection.execute(
        text(
            "SELECT s.id AS s_id, s.created_at AS s_created_at, s.last_seen_at AS s_last_seen_at, "
            "s.ended_at AS s_ended_at, "
            + ", ".join(f"u.{name.strip()}" for name in STAFF_COLUMNS.split(","))
            + " FROM oson.staff_session s JOIN oson.staff_user u ON u.login = s.login "
            "WHERE s.token_hash = :token_hash"
        ),
        {"token_hash": token_hash},
    ).mappings().first()
    if row is None:
        return None
    values = dict(row)
    session = StaffSession(
        id=values.pop("s_id"),
        login=values["login"],
        created_at=values.pop("s_created_at"),
        last_seen_at=values.pop("s_last_seen_at"),
        ended_at=values.pop("s_ended_at"),
    )
    return session, _staff(values)


def touch_session(connection: Connection, session_id: str, now: datetime) -> None:
    connection.execute(
        text("UPDATE oson.staff_session SET last_seen_at = greatest(last_seen_at, :now) WHERE id = :id"),
        {"id": session_id, "now": now},
    )


def end_session(connection: Connection, session_id: str, now: datetime, reason: str) -> bool:
    result = connection.execute(
        text("UPDATE oson.staff_session SET ended_at = :now, end_reason = :reason "
             "WHERE id = :id AND ended_at IS NULL"),
        {"id": session_id, "now": now, "reason": reason},
    )
    return result.rowcount > 0


def end_sessions_of(
    connection: Connection, login: str, now: datetime, reason: str, *, keep: str | None = None
) -> int:
    """End every open session of ``login`` except ``keep``; returns how many were ended."""
    result = connection.execute(
        text("UPDATE oson.staff_session SET ended_at = :now, end_reason = :reason "
             "WHERE login = :login AND ended_at IS NULL AND id IS DISTINCT FROM :keep"),
        {"login": login, "now": now, "reason": reason, "keep": keep},
    )
    return result.rowcount


# --- login failures per source address -------------------------------------------------------------

SOURCE_WINDOW = timedelta(hours=1)


def record_login_failure(connection: Connection, source_address: str, login: str, now: datetime) -> int:
    """Count a failed login from ``source_address``; returns the distinct logins failed in the last hour.

    Failures from one address are serialised (a transaction-scoped advisory lock), so that parallel
    guesses cannot all see a count just below the limit.
    """
    connection.execute(text("SELECT pg_advisory_xact_lock(hashtextextended('oson.login_failure:' || :source, 0))"),
                       {"source": source_address})
    connection.execute(
        text("DELETE FROM oson.login_failure WHERE source_address = :source AND failed_at <= :since"),
        {"source": source_address, "since": now - SOURCE_WINDOW},
    )
    connection.execute(
        text("INSERT INTO oson.login_failure (source_address, login, failed_at) VALUES (:source, :login, :now)"),
        {"source": source_address, "login": login.lower(), "now": now},
    )
    return int(
        connection.execute(
            text("SELECT count(DISTINCT login) FROM oson.login_failure WHERE source_address = :source "
                 "AND failed_at > :since AND failed_at <= :now"),
            {"source": source_address, "since": now - SOURCE_WINDOW, "now": now},
        ).scalar_one()
    )


def source_blocked_until(connection: Connection, source_address: str, now: datetime) -> datetime | None:
    value = connection.execute(
        text("SELECT blocked_until FROM oson.source_block WHERE source_address = :source "
             "AND blocked_until > :now"),
        {"source": source_address, "now": now},
    ).scalar_one_or_none()
    return value


def block_source(connection: Connection, source_address: str, now: datetime, until: datetime, logins: int) -> None:
    connection.execute(
        text(
            "INSERT INTO oson.source_block (source_address, blocked_at, blocked_until, logins) "
            "VALUES (:source, :now, :until, :logins) ON CONFLICT (source_address) DO UPDATE SET "
            "blocked_at = excluded.blocked_at, blocked_until = excluded.blocked_until, logins = excluded.logins"
        ),
        {"source": source_address, "now": now, "until": until, "logins": logins},
    )
    # The failures that led to the block are spent: after it expires, counting starts afresh.
    connection.execute(text("DELETE FROM oson.login_failure WHERE source_address = :source"),
                       {"source": source_address})


# --- API clients -----------------------------------------------------------------------------------

_CLIENT_UPDATABLE = frozenset(
    {"secret_hash", "status", "blocked_reason", "blocked_at", "secret_generated_at", "last_used_at"}
)


_CLIENT_FIELDS = tuple(name.strip() for name in CLIENT_COLUMNS.split(","))
# Every partner request reads its client: on the driver's cursor (storage.driver), psycopg placeholders.
_GET_CLIENT = {lock: f"SELECT {CLIENT_COLUMNS} FROM oson.api_client WHERE client_id = %(id)s{lock}"
               for lock in ("", " FOR UPDATE")}


def get_api_client(connection: Connection, client_id: str, *, for_update: bool = False) -> ApiClient | None:
    """The API client (its ``participant_id`` tells which participant an integration acts for)."""
    rows = fetch(connection, _GET_CLIENT[" FOR UPDATE" if for_update else ""], {"id": client_id})
    return _client(dict(zip(_CLIENT_FIELDS, rows[0], strict=True))) if rows else None


def list_api_clients(connection: Connection) -> list[ApiClient]:
    rows = connection.execute(text(f"SELECT {CLIENT_COLUMNS} FROM oson.api_client ORDER BY created_at, client_id"))
    return [_client(row) for row in rows.mappings()]


def update_api_client(connection: Connection, client_id: str, now: datetime, **values: object) -> ApiClient:
    clause = _set_clause(values, _CLIENT_UPDATABLE)
    row = connection.execute(
        text(f"UPDATE oson.api_client SET {clause}, updated_at = :now_ WHERE client_id = :id_ "
             f"RETURNING {CLIENT_COLUMNS}"),
        {**values, "now_": now, "id_": client_id},
    ).mappings().one()
    return _client(row)


def mark_api_client_used(connection: Connection, client_id: str, now: datetime) -> None:
    """Record use at most once an hour, so that API traffic does not mean a write per request."""
    connection.execute(
        text("UPDATE oson.api_client SET last_used_at = :now WHERE client_id = :id "
             "AND (last_used_at IS NULL OR last_used_at <= :hour_ago)"),
        {"id": client_id, "now": now, "hour_ago": now - timedelta(hours=1)},
    )


# --- operations shared by the API and the CLI (row change + event, one transaction) ----------------


def issue_staff_user(
    connection: Connection, audit: Audit, *, login: str, full_name: str, role: Role, now: datetime
) -> tuple[StaffUser, str]:
    """Create a staff user with a temporary password (changed at first login); returns it once."""
    temporary = passwords.temporary_password(login)
    user = insert_staff(
        connection, login=login, full_name=full_name, role=role, password_hash=passwords.hash_password(temporary),
        must_change_password=True, now=now, created_by=audit.actor,
    )
    append_event(connection, audit.event("staff.create", record_type="staff_user", record_id=user.login,
                                         details={"role": role.value, "full_name": full_name}))
    return user, temporary


def reset_staff_password(
    connection: Connection, audit: Audit, user: StaffUser, *, now: datetime
) -> tuple[StaffUser, str]:
    """A new temporary password (forced change), the lockout cleared, every session ended."""
    temporary = passwords.temporary_password(user.login)
    updated = update_staff(
        connection, user.login, now, password_hash=passwords.hash_password(temporary), password_changed_at=now,
        must_change_password=True, failed_logins=0, locked_until=None,
    )
    ended = end_sessions_of(connection, user.login, now, "password_reset")
    append_event(connection, audit.event("staff.reset_password", record_type="staff_user",
                                         record_id=user.login, details={"sessions_ended": ended}))
    return updated, temporary


def new_client_id() -> str:
    return "oc_" + secrets.token_hex(10)


def insert_api_client(
    connection: Connection, *, name: str, participant_id: str | None, secret_hash: str, now: datetime,
    created_by: str,
) -> ApiClient:
    """Add an API client; ``Conflict(API_CLIENT_NAME_TAKEN)`` when the integration already has one."""
    row = connection.execute(
        text(
            "INSERT INTO oson.api_client (client_id, name, participant_id, secret_hash, status, "
            "secret_generated_at, created_at, created_by, updated_at) VALUES (:id, :name, :participant, "
            ":hash, 'active', :now, :now, :by, :now) ON CONFLICT DO NOTHING "
            f"RETURNING {CLIENT_COLUMNS}"
        ),
        {"id": new_client_id(), "name": name, "participant": participant_id, "hash": secret_hash, "now": now,
         "by": created_by},
    ).mappings().first()
    if row is None:
        raise Conflict("API_CLIENT_NAME_TAKEN", params={"name": name})
    return _client(row)


def issue_api_client(
    connection: Connection, audit: Audit, *, name: str, participant_id: str | None, now: datetime
) -> tuple[ApiClient, str]:
    """A new client id and secret for one integration; the secret is returned here and never again."""
    secret = passwords.new_token()
    client = insert_api_client(connection, name=name, participant_id=participant_id,
                               secret_hash=passwords.token_digest(secret), now=now, created_by=audit.actor)
    append_event(connection, audit.event("api_client.create", record_type="api_client",
                                         record_id=client.client_id,
                                         details={"name": name, "participant_id": participant_id}))
    return client, secret
