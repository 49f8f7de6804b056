"""Per-request facts every layer may need: request id, start time, source address, language."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oson_operator.domain.messages import pick_language
from oson_operator.service.context import RequestContext

REQUEST_ID_HEADER = "X-Request-ID"


def build_context(request: Request) -> RequestContext:
    supplied = request.headers.get(REQUEST_ID_HEADER, "")
    request_id = supplied if 0 < len(supplied) <= 128 and supplied.isprintable() else str(uuid.uuid4())
    return RequestContext(
        request_id=request_id,
        started_at=datetime.now(UTC),
        source_address=request.client.host if request.client else None,
        language=pick_language(request.headers.get("Accept-Language")),
    )


def request_context(request: Request) -> RequestContext:
    """FastAPI dependency: the context the middleware built for this request."""
    context = getattr(request.state, "context", None)
    if context is None:
        context = build_context(request)
        request.state.context = context
    return context


class ContextMiddleware:
    """Builds the RequestContext first thing and echoes the request id in the response (pure ASGI: cheap)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        context = build_context(request)
        request.state.context = context

        async def with_request_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = context.request_id
            await send(message)

        await self.app(scope, receive, with_request_id)
