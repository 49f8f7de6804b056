"""What every state-changing business route shares: the idempotency key and the command it builds."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from oson_operator.api.context import request_context
from oson_operator.domain.access import Principal
from oson_operator.domain.errors import DomainError, FieldProblem
from oson_operator.service.transaction import Command, Outcome

IDEMPOTENCY_HEADER = "Idempotency-Key"

IdempotencyKey = Annotated[
    str | None,
    Header(alias=IDEMPOTENCY_HEADER, description="required on every state-changing request; any unique string "
           "of 1-200 characters, never reused for another request (keys never expire)"),
]


def command(request: Request, principal: Principal, key: str | None, action: str,
            payload: BaseModel | dict[str, Any] | None = None) -> Command:
    if not key or len(key) > 200 or not key.isprintable():
        raise DomainError("IDEMPOTENCY_KEY_REQUIRED", status=400,
                          problems=(FieldProblem(IDEMPOTENCY_HEADER, "FIELD_REQUIRED"),))
    body = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else (payload or {})
    return Command(action=action, principal=principal, context=request_context(request), idempotency_key=key,
                   request=body)


def respond(request: Request, outcome: Outcome) -> Response:
    """The answer stored under the key; the event was recorded in the same transaction."""
    request.state.event_recorded = True
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    if outcome.rendered is not None:
        return Response(outcome.rendered, status_code=outcome.status, headers=headers, media_type="application/json")
    return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)
