"""Idempotent, recorded execution of a state-changing request.

Every command runs in one transaction that (1) claims the caller's idempotency key, (2) does the
work, or records the refusal, (3) appends the event record, (4) stores the answer under the key, and
commits. A second request with the same key waits for the first and gets the same answer. When the
commit's outcome cannot be known (the connection died during COMMIT, or the wait for the synchronous
standby was cancelled) the answer is OUTCOME_UNKNOWN, never "ok": a retry with the same key settles it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from oson_operator.domain.access import Principal
from oson_operator.domain.errors import Conflict, DomainError, Refusal
from oson_operator.domain.events import EventDraft
from oson_operator.service.context import RequestContext
from oson_operator.storage import idempotency
from oson_operator.storage.engine import NOTICES_KEY
from oson_operator.storage.events import append_event
from oson_operator.storage.money_pool import MoneyConnection, MoneyPool
from oson_operator.storage.transfer import Declined

SYNC_REPLICATION_CANCELLED = "synchronous replication"


class OutcomeUnknown(DomainError):
    status = 503


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]
    record_type: str | None = None
    record_id: str | None = None
    result: str = "ok"
    replayed: bool = False
    # ``body`` already rendered as the HTTP answer renders it (JSONResponse's bytes), when it was anyway.
    rendered: bytes | None = None


@dataclass(frozen=True)
class Command:
    action: str  # e.g. "payment.create"
    principal: Principal
    context: RequestContext
    idempotency_key: str
    request: dict[str, Any] = field(default_factory=dict)  # the validated request, for the key's fingerprint

    @property
    def request_hash(self) -> str:
        canonical = json.dumps({"action": self.action, "request": self.request}, sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()


Work = Callable[[Connection], Outcome]
OnRefusal = Callable[[Connection, Refusal], Outcome]
# Decides on what it reads (no transaction, no locks) and returns the write, or None to decline.
Write = Callable[[Connection], Outcome]
Decide = Callable[[Connection], Write | None]
# The same on the event loop's connections.
AsyncWrite = Callable[[MoneyConnection], Awaitable[Outcome]]
AsyncDecide = Callable[[MoneyConnection], Awaitable[AsyncWrite | None]]


def event_of(command: Command, outcome: Outcome) -> EventDraft:
    """The event a command's outcome is recorded with."""
    return EventDraft(
        action=command.action,
        actor=command.principal.actor,
        result=outcome.result,
        started_at=command.context.started_at,
        ended_at=datetime.now(UTC),
        record_type=outcome.record_type,
        record_id=outcome.record_id,
        source_address=command.context.source_address,
        request_id=command.context.request_id,
        details={"idempotency_key": command.idempotency_key, "status": outcome.status},
    )


def execute(engine: Engine, command: Command, work: Work, on_refusal: OnRefusal | None = None) -> Outcome:
    """Run ``work`` once per idempotency key; see the module docstring.

    A refusal rolls the work back; the refusal is then recorded (with its event and under the key) in a
    second transaction, so the common, successful path needs no savepoint.
    """
    try:
        return _run(engine, command, work)
    except Refusal as refusal:
        if on_refusal is None:
            raise
        refused = refusal
    # The key is claimed again here: if a concurrent retry got there first, its answer is replayed.
    return _run(engine, command, lambda conn: on_refusal(conn, refused))


def execute_at_once(engine: Engine, command: Command, decide: Decide) -> Outcome | None:
    """The fast path of ``execute``: one read, then one statement that claims the key, writes, records
    the event and stores the answer, and commits with itself (autocommit). None when ``decide``
    declines or the write raises ``Declined`` (nothing was written): the caller then runs ``execute``.
    Like ``execute``, an answer whose commit cannot be known is OUTCOME_UNKNOWN, never "ok".
    """
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        write = decide(conn)
        if write is None:
            return None
        notices: list[str] = conn.info.setdefault(NOTICES_KEY, [])
        notices.clear()
        try:
            outcome = write(conn)
        except Declined:
            return None
        except DBAPIError as exc:
            if exc.connection_invalidated or getattr(exc.orig, "sqlstate", None) is None:
                # The statement (and so its commit) was sent; whether it happened is unknown.
                raise OutcomeUnknown("OUTCOME_UNKNOWN", params={"reason": type(exc.orig).__name__}) from exc
            raise
        if any(SYNC_REPLICATION_CANCELLED in notice for notice in notices):
            raise OutcomeUnknown("OUTCOME_UNKNOWN", params={"reason": "replication wait cancelled"})
    return outcome


async def execute_at_once_async(pool: MoneyPool, command: Command, decide: AsyncDecide) -> Outcome | None:
    """``execute_at_once`` on a connection of ``pool``, from the event loop. None also when no connection
    comes in time. Errors are answered as the sync path answers them: a statement refused by the server
    as SQLAlchemy's ``DBAPIError``, a lost connection or a cancelled replication wait as OUTCOME_UNKNOWN.
    """
    async with pool.connection() as conn:
        if conn is None:
            return None
        write = await decide(conn)
        if write is None:
            return None
        conn.notices.clear()
        try:
            outcome = await write(conn)
        except Declined:
            return None
        except psycopg.Error as exc:
            if conn.broken or exc.sqlstate is None:
                raise OutcomeUnknown("OUTCOME_UNKNOWN", params={"reason": type(exc).__name__}) from exc
            raise DBAPIError.instance("SELECT oson.post_transfer(...)", None, exc, psycopg.Error) from exc
        if any(SYNC_REPLICATION_CANCELLED in notice for notice in conn.notices):
            raise OutcomeUnknown("OUTCOME_UNKNOWN", params={"reason": "replication wait cancelled"})
    return outcome


def _run(engine: Engine, command: Command, work: Work) -> Outcome:
    actor = command.principal.actor
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            stored = idempotency.claim(conn, actor, command.idempotency_key, command.request_hash)
            if stored is not None:
                if stored.request_hash != command.request_hash:
                    raise Conflict("IDEMPOTENCY_KEY_REUSED", status=422)
                if stored.status_code is None or stored.response is None:
                    raise OutcomeUnknown("OUTCOME_UNKNOWN")
                outcome = Outcome(stored.status_code, stored.response, result="replayed", replayed=True)
                append_event(conn, event_of(command, outcome))
            else:
                outcome = work(conn)
                idempotency.store_with_event(conn, actor, command.idempotency_key, outcome.status, outcome.body,
                                             event_of(command, outcome))
        except BaseException:
            if transaction.is_active:
                transaction.rollback()
            raise
        notices: list[str] = conn.info.setdefault(NOTICES_KEY, [])
        notices.clear()
        try:
            transaction.commit()
        except DBAPIError as exc:
            # COMMIT was sent; whether it happened is unknown until the caller retries with the same key.
            raise OutcomeUnknown("OUTCOME_UNKNOWN", params={"reason": type(exc.orig).__name__}) from exc
        if any(SYNC_REPLICATION_CANCELLED in notice for notice in notices):
            # Committed on the primary but not confirmed by the synchronous standby: not durable yet.
            raise OutcomeUnknown("OUTCOME_UNKNOWN", params={"reason": "replication wait cancelled"})
    return outcome
