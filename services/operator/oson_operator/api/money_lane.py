"""The money lane: a money operation with a well-formed JSON body, served past FastAPI's routing and
dependency injection.

Why: a payment's own work (rules, two statements) is about a quarter of the service's CPU per payment;
routing, dependency solving and two hand-offs to worker threads (the authentication, then the sync
route) cost more than that. The lane does the same with one hand-off and none of the machinery.

What it does, for the routes it is given (``routers.operations.MONEY_OPERATIONS``): reads the body,
validates it with the route's own body model as FastAPI would (``json.loads``, then the model), and
in one worker thread authenticates the caller, checks the roles and restrictions the route declares
(its ``require_roles`` dependency) and calls the route's own function. Before that, for a route with
a first try on the event loop (``routers.operations.AT_ONCE``: payments and transfers) and a caller
known without a database read (an API client in the cache), it checks the same roles and awaits that
try, which needs no thread at all (``storage.money_pool``); the thread takes over only when the try
answers None. Errors raised in either become the answers of the application's exception handlers
(unexpected ones go on to the server-error handler, as from a route). So the route declaration stays
the one source of its rules and its answers.

Whatever it would not answer exactly as FastAPI does goes to FastAPI untouched (the body replayed):
another path or method, a body that is not JSON, has no length or is large, does not parse, or fails
validation (FastAPI then authenticates first and names the problems), a mounted application.
"""

from __future__ import annotations

import inspect
import json
import typing
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.params import Depends
from fastapi.routing import APIRoute, APIRouter
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oson_operator.api.security import Restriction, admit, authenticate, known_principal
from oson_operator.domain.access import Principal, Role

# A money operation's body is a few hundred bytes; larger ones take FastAPI's path (and its limits).
MAX_LANE_BODY = 16 * 1024
# The parameters a lane route takes, by name: the same shape for every money operation.
LANE_PARAMETERS = ("request", "body", "key", "principal")
# A route's first try on the event loop: same arguments, an answer or None (then the route answers).
AtOnce = Callable[[Request, Any, str | None, Principal], Awaitable[Response | None]]


@dataclass(frozen=True)
class LaneRoute:
    route: APIRoute
    body_model: type[BaseModel]
    allowed: frozenset[Role]
    tolerated: frozenset[Restriction]
    at_once: AtOnce | None = None


def lane_route(route: APIRoute, at_once: AtOnce | None = None) -> LaneRoute:
    """The lane's view of ``route``; ``TypeError`` if its function has not the lane's shape."""
    endpoint = route.endpoint
    parameters = inspect.signature(endpoint).parameters
    roles = getattr(parameters.get("principal"), "default", None)
    body_model = typing.get_type_hints(endpoint).get("body")
    if (tuple(parameters) != LANE_PARAMETERS or inspect.iscoroutinefunction(endpoint)
            or not isinstance(roles, Depends) or not hasattr(roles.dependency, "allowed_roles")
            or not (isinstance(body_model, type) and issubclass(body_model, BaseModel))):
        raise TypeError(f"{route.path}: a money lane route is a plain function taking {LANE_PARAMETERS}, "
                        "with a pydantic body and a require_roles(...) principal")
    dependency = roles.dependency
    return LaneRoute(route, body_model, dependency.allowed_roles,  # type: ignore[attr-defined]
                     dependency.tolerated_restrictions, at_once)  # type: ignore[attr-defined]


def lane_routes(router: APIRouter, endpoints: Iterable[Callable[..., Any]],
                at_once: Mapping[Callable[..., Any], AtOnce] | None = None) -> dict[str, LaneRoute]:
    """POST path -> lane route, for the routes of ``router`` whose function is one of ``endpoints``
    (the application includes ``router`` without a prefix: its paths are the request paths), with the
    first tries on the event loop ``at_once`` gives by route function."""
    wanted = set(endpoints)
    tries = at_once or {}
    found = {route.path: lane_route(route, tries.get(route.endpoint)) for route in router.routes
             if isinstance(route, APIRoute) and route.endpoint in wanted and route.methods == {"POST"}}
    missing = wanted - {lane.route.endpoint for lane in found.values()}
    if missing:
        raise LookupError(f"no POST route for {sorted(f.__name__ for f in missing)}")
    return found


def _is_json(content_type: str) -> bool:
    return content_type.partition(";")[0].strip().lower() == "application/json"


def _serve(request: Request, lane: LaneRoute, body: BaseModel, key: str | None) -> Response:
    """In a worker thread: authenticate, admit, run the route's function (one hand-off for all three)."""
    principal = admit(request, authenticate(request), lane.allowed, lane.tolerated)
    response: Response = lane.route.endpoint(request, body, key, principal)
    return response


async def _at_once(request: Request, lane: LaneRoute, body: BaseModel, key: str | None) -> Response | None:
    """On the event loop: the route's first try, for a caller known without a database read."""
    if lane.at_once is None:
        return None
    principal = known_principal(request)
    if principal is None:
        return None
    return await lane.at_once(request, body, key, admit(request, principal, lane.allowed, lane.tolerated))


class MoneyLane:
    """Pure ASGI middleware, innermost of the application's own (after the request context and the event
    recorder, which so see lane requests as any other)."""

    def __init__(self, app: ASGIApp, lanes: dict[str, LaneRoute]) -> None:
        self.app = app
        self.lanes = lanes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lane = self._lane_for(scope)
        if lane is None:
            await self.app(scope, receive, send)
            return
        body_bytes, more = await _read_body(receive)
        parsed = None if more else _parse(lane.body_model, body_bytes)
        if parsed is None:
            await self.app(scope, _replay(body_bytes, more, receive), send)
            return
        scope["route"] = lane.route
        request = Request(scope, receive)
        key = request.headers.get("idempotency-key")
        try:
            response = await _at_once(request, lane, parsed, key)
            if response is None:
                response = await run_in_threadpool(_serve, request, lane, parsed, key)
        except Exception as exc:
            handler = _handler_for(scope["app"], exc)
            if handler is None:
                raise  # to the server-error handler, exactly as from a route
            response = await handler(request, exc)
        await response(scope, receive, send)

    def _lane_for(self, scope: Scope) -> LaneRoute | None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope.get("root_path"):
            return None
        lane = self.lanes.get(scope["path"])
        if lane is None:
            return None
        length = content_type = b""
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == b"content-type":
                content_type = value
        if not length.isdigit() or int(length) > MAX_LANE_BODY or not _is_json(content_type.decode("latin-1")):
            return None
        return lane


def _parse(model: type[BaseModel], body: bytes) -> BaseModel | None:
    """The body as FastAPI validates it (JSON, then the model in Python mode); None if it is not valid."""
    try:
        return model.model_validate(json.loads(body)) if body else None
    except (ValueError, ValidationError):  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None


async def _read_body(receive: Receive) -> tuple[bytes, Message | None]:
    """The request body, and the message that ended the reading early (a disconnect), if one did."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), None


def _replay(body: bytes, ended: Message | None, receive: Receive) -> Receive:
    """A ``receive`` that gives the body already read (and how its reading ended), then the real one's."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": ended is not None}]
    if ended is not None:
        pending.append(ended)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


def _handler_for(app: FastAPI, exc: Exception) -> Callable[[Request, Exception], Any] | None:
    """The application's handler for ``exc``, as the exception middleware picks it; None for the
    catch-all ``Exception`` handler, which belongs to the server-error middleware."""
    for cls in type(exc).__mro__:
        if cls is Exception:
            return None
        handler = app.exception_handlers.get(cls)
        if handler is not None:
            return handler
    return None
