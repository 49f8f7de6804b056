"""Routes: the event log (§14.1(11)), read by administrators and auditors.

``GET /api/events`` lists events newest first (by ``started_at``, then id) with filters; page on
with ``cursor`` = the ``next_cursor`` of the previous page. ``GET /api/events/verify`` checks the hash chains and the
signed checkpoints and names the first bad record; for a large log prefer the CLI
(``oson-operator events verify``), which has no HTTP timeout in front of it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from oson_operator.api.context import request_context
from oson_operator.api.security import require_roles
from oson_operator.domain.access import Principal, Role
from oson_operator.domain.errors import DomainError, FieldProblem
from oson_operator.domain.events import EventDraft
from oson_operator.storage import events as store
from oson_operator.storage.events import (
    MAX_PAGE,
    EventCursor,
    EventFilter,
    EventKeyError,
    EventRow,
    append_event,
    load_public_key,
    verify_event_log,
)

router = APIRouter(prefix="/api/events", tags=["events"])

_readers = require_roles(Role.ADMIN, Role.AUDITOR)


def _view(row: EventRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "started_at": row.started_at,
        "ended_at": row.ended_at,
        "recorded_at": row.recorded_at,
        "actor": row.actor,
        "action": row.action,
        "record_type": row.record_type,
        "record_id": row.record_id,
        "result": row.result,
        "source_address": row.source_address,
        "request_id": row.request_id,
        "details": row.details,
        "chain": row.chain,
        "chain_seq": row.chain_seq,
        "hash": row.hash,
    }


def _aware(value: datetime | None) -> datetime | None:
    """A time without an offset is taken as UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@router.get("", summary="Events, newest first, filtered by time range, actor, action, record and result")
def list_events(
    request: Request,
    started_from: datetime | None = Query(None, alias="from", description="started at or after (ISO 8601)"),
    started_to: datetime | None = Query(None, alias="to", description="started before (ISO 8601)"),
    actor: str | None = Query(None, max_length=200, description="e.g. staff:alice, client:<id>, anonymous"),
    action: str | None = Query(None, max_length=200),
    record_type: str | None = Query(None, max_length=100),
    record_id: str | None = Query(None, max_length=200),
    result: str | None = Query(None, max_length=200, description="ok, denied, refused:<CODE>, error, ..."),
    cursor: str | None = Query(None, max_length=60, description="next_cursor of the previous page"),
    limit: int = Query(100, ge=1, le=MAX_PAGE),
    principal: Principal = Depends(_readers),
) -> dict[str, Any]:
    started_from, started_to = _aware(started_from), _aware(started_to)
    if started_from is not None and started_to is not None and started_from >= started_to:
        raise DomainError("EVENT_RANGE_INVALID", status=422,
                          problems=(FieldProblem("from", "EVENT_RANGE_INVALID"),))
    before = None
    if cursor is not None:
        try:
            before = EventCursor.decode(cursor)
        except ValueError:
            raise DomainError("EVENT_CURSOR_INVALID", status=422,
                              problems=(FieldProblem("cursor", "EVENT_CURSOR_INVALID"),)) from None
    filters = EventFilter(started_from=started_from, started_to=started_to, actor=actor, action=action,
                          record_type=record_type, record_id=record_id, result=result)
    with request.app.state.engine.connect() as connection:
        rows = store.list_events(connection, filters, limit=limit, before=before)
    last = rows[-1] if len(rows) == limit else None
    return {
        "events": [_view(row) for row in rows],
        "next_cursor": EventCursor(last.started_at, last.id).encode() if last is not None else None,
    }


@router.get("/verify", summary="Verify the hash chains and signed checkpoints; names the first bad record")
async def verify(request: Request, principal: Principal = Depends(_readers)) -> dict[str, Any]:
    state = request.app.state
    settings = state.settings
    public_key = None
    if settings.event_signing_key_file is not None:
        try:
            public_key = load_public_key(settings.event_signing_key_file)
        except EventKeyError:
            raise DomainError("EVENT_KEY_UNUSABLE", status=503) from None
    export_dir = settings.event_checkpoint_dir
    if export_dir is not None and not export_dir.is_dir():
        export_dir = None
    context = request_context(request)
    report = await asyncio.to_thread(verify_event_log, state.engine, public_key, export_dir)
    ended = state.clock.now()
    draft = EventDraft(
        action="events.verify", actor=principal.actor, result="ok" if report.ok else "failed",
        started_at=context.started_at, ended_at=ended, source_address=context.source_address,
        request_id=context.request_id,
        details={"events_checked": report.events_checked, "problems": len(report.problems),
                 "first_problem": report.first_problem.message if report.first_problem else None},
    )
    await asyncio.to_thread(_record, state.engine, draft)
    body = report.to_dict()
    body["checkpoint_files"] = str(export_dir) if export_dir is not None else None
    return body


def _record(engine: Any, draft: EventDraft) -> None:
    with engine.begin() as connection:
        append_event(connection, draft)
