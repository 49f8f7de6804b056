"""Coded errors of the domain. The API turns them into ``{"error": {...}, "problems": [...]}`` bodies.

``code`` is machine-readable and stable; the human message comes from the catalogs in
``oson_operator.domain.messages`` in the caller's language. ``Refusal`` is a business refusal
(§5.4.7): the API records it as a refused operation and as an event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from oson_operator.domain.messages import Language, translate


@dataclass(frozen=True)
class FieldProblem:
    field: str  # dotted path of the field in the request body, e.g. "payer.wallet_id"
    code: str  # e.g. FIELD_REQUIRED
    params: Mapping[str, object] = field(default_factory=dict)


class DomainError(Exception):
    """An error with a stable code, an HTTP status and message parameters."""

    status: int = 400

    def __init__(
        self,
        code: str,
        *,
        status: int | None = None,
        params: Mapping[str, object] | None = None,
        problems: tuple[FieldProblem, ...] = (),
    ) -> None:
        super().__init__(code)
        self.code = code
        if status is not None:
            self.status = status
        self.params = dict(params or {})
        self.problems = problems


class Refusal(DomainError):
    """A business refusal of an operation (§5.4.7): recorded with its reason code."""

    status = 422


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class Forbidden(DomainError):
    status = 403


class NotAuthenticated(DomainError):
    status = 401


def error_body(code: str, language: Language, request_id: str, params: Mapping[str, object] | None = None,
               problems: Sequence[FieldProblem] = ()) -> dict[str, Any]:
    """``{"error": {"code", "message"}, "problems": [...], "request_id"}``, translated."""
    return {
        "error": {"code": code, "message": translate(code, language, **dict(params or {}))},
        "problems": [
            {"field": p.field, "code": p.code,
             "message": translate(p.code, language, field=p.field, **dict(p.params))}
            for p in problems
        ],
        "request_id": request_id,
    }
