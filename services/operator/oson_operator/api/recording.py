"""Every state-changing request leaves an event record (§14.1(11)), including refused and denied ones.

Business commands record their event inside their own transaction (and mark the request as
recorded). This middleware records the rest after the response: requests refused before reaching a
command (missing fields, malformed JSON, no credentials, wrong role) and failures.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oson_operator.domain.events import EventDraft
from oson_operator.storage.events import append_event

log = logging.getLogger("oson_operator.events")
READ_ONLY_METHODS = {"GET", "HEAD", "OPTIONS"}


def _result(status: int, code: str | None) -> str:
    if status < 400:
        return "ok"
    if status in (401, 403):
        return "denied"
    if status >= 500:
        return "error" if code != "OUTCOME_UNKNOWN" else "unknown"
    return f"refused:{code or status}"


def _record(engine: Engine, draft: EventDraft) -> None:
    with engine.begin() as conn:
        append_event(conn, draft)


class EventRecordingMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in READ_ONLY_METHODS:
            await self.app(scope, receive, send)
            return
        response: dict[str, int] = {}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                response["status"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            state: dict[str, Any] = scope.get("state", {})
            if not state.get("event_recorded"):
                await self._record(scope, state, response.get("status", 500))

    async def _record(self, scope: Scope, state: dict[str, Any], status: int) -> None:
        context = state.get("context")
        principal = state.get("principal")
        route = scope.get("route")
        path = getattr(route, "path", None) or scope.get("path", "")
        client = scope.get("client")
        now = datetime.now(UTC)
        draft = EventDraft(
            action=state.get("event_action") or f"http {scope['method']} {path}",
            actor=principal.actor if principal is not None else "anonymous",
            result=_result(status, state.get("error_code")),
            started_at=context.started_at if context is not None else now,
            ended_at=now,
            record_type=None,
            record_id=None,
            source_address=context.source_address if context is not None else (client[0] if client else None),
            request_id=context.request_id if context is not None else None,
            details={"status": status, "path": scope.get("path", "")},
        )
        app = scope["app"]
        try:
            await asyncio.to_thread(_record, app.state.engine, draft)
        except Exception:  # the response is gone already; never lose the fact silently
            log.exception("could not record the event of %s %s (%s)", scope["method"], path, draft.result)
