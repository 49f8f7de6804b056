"""Exception handlers: every error becomes a coded, translated body, never a bare 500.

Body shape::

    {"error": {"code": "INSUFFICIENT_FUNDS", "message": "..."},
     "problems": [{"field": "amount", "code": "FIELD_REQUIRED", "message": "..."}],
     "request_id": "..."}
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from oson_operator.api.context import request_context
from oson_operator.domain.errors import DomainError, FieldProblem, error_body

log = logging.getLogger("oson_operator.api")

# Union discriminators and wrapper names pydantic puts in error locations, not field names.
_LOCATION_NOISE = {"body", "query", "path", "header", "function-after", "function-before"}


def field_path(location: Sequence[Any], tags: frozenset[str] = frozenset()) -> str:
    """``('body', 'individual', 'payer', 'wallet_id')`` -> ``payer.wallet_id``."""
    parts = [str(part) for part in location if str(part) not in _LOCATION_NOISE and str(part) not in tags]
    return ".".join(parts) or "body"


def _respond(request: Request, status: int, code: str, params: dict[str, object] | None = None,
             problems: Sequence[FieldProblem] = (), headers: dict[str, str] | None = None) -> JSONResponse:
    context = request_context(request)
    request.state.error_code = code
    return JSONResponse(error_body(code, context.language, context.request_id, params, problems),
                        status_code=status, headers=headers)


def validation_problems(errors: Sequence[dict[str, Any]], tags: frozenset[str]) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    for err in errors:
        kind = err.get("type", "")
        location = err.get("loc", ())
        if kind == "union_tag_not_found":
            field = field_path(location, tags)
            field = f"{field}.{err.get('ctx', {}).get('discriminator', 'kind').strip(chr(39))}".lstrip(".")
            field = field.removeprefix("body.")
            problems.append(FieldProblem(field, "FIELD_REQUIRED"))
            continue
        field = field_path(location, tags)
        if kind == "missing":
            problems.append(FieldProblem(field, "FIELD_REQUIRED"))
        elif kind == "extra_forbidden":
            problems.append(FieldProblem(field, "FIELD_UNKNOWN"))
        else:
            problems.append(FieldProblem(field, "FIELD_INVALID", {"reason": err.get("msg", kind)}))
    return problems


def install_error_handlers(app: FastAPI, union_tags: frozenset[str] = frozenset()) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return _respond(request, exc.status, exc.code, exc.params, exc.problems, headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        if any(err.get("type") == "json_invalid" for err in errors):
            return _respond(request, 400, "MALFORMED_JSON")
        return _respond(request, 422, "REQUEST_INVALID", problems=validation_problems(errors, union_tags))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "REQUEST_INVALID")
        return _respond(request, exc.status_code, code)

    @app.exception_handler(OperationalError)
    async def database_unavailable(request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", str(exc.orig).strip().splitlines()[:1])
        return _respond(request, 503, "DATABASE_UNAVAILABLE", headers={"Retry-After": "1"})

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        log.error("database error on %s %s", request.method, request.url.path, exc_info=exc)
        return _respond(request, 500, "INTERNAL_ERROR")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return _respond(request, 500, "INTERNAL_ERROR")
