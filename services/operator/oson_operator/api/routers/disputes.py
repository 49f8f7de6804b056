"""Routes: the register of written claims (§XVIII) and its one-month answer deadline (§18.6).

Administrators and operators register and answer claims; auditors read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from oson_operator.api.commands import IdempotencyKey, command, respond
from oson_operator.api.ids import require_uuid
from oson_operator.api.security import require_roles
from oson_operator.domain.access import Principal, Role
from oson_operator.domain.errors import NotFound
from oson_operator.service.disputes import Disputes, dispute_view
from oson_operator.storage import disputes as store

router = APIRouter(prefix="/api/disputes", tags=["disputes"])
READERS = (Role.ADMIN, Role.OPERATOR, Role.AUDITOR)
WORKERS = (Role.ADMIN, Role.OPERATOR)
UUID_PATTERN = r"^[0-9a-fA-F-]{36}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DisputeRequest(_Strict):
    claimant_name: str = Field(min_length=1, max_length=300)
    participant_id: str | None = Field(None, pattern=UUID_PATTERN, description="the claimant, if registered")
    contact: str = Field(min_length=1, max_length=500, description="postal or e-mail address for the answer")
    channel: Literal["post", "email", "in_person"] = Field(description="§18.5; calls and web forms are not claims")
    subject: str = Field(min_length=1, max_length=300)
    claim: str = Field(min_length=1, max_length=20000)
    operation_id: str | None = Field(None, pattern=UUID_PATTERN, description="the operation disputed, if any")
    received_at: datetime | None = Field(None, description="when the written claim arrived (default: now)")


class StatusRequest(_Strict):
    status: Literal["in_progress", "redirected", "answered"]
    note: str = Field(min_length=1, max_length=5000)
    answer: str | None = Field(None, max_length=20000, description="the written answer (required to answer)")


def _service(request: Request) -> Disputes:
    return Disputes(request.app.state.engine, request.app.state.clock)


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


@router.post("", status_code=201, summary="Register a written claim; the answer is due in one month")
def register(request: Request, body: DisputeRequest, key: IdempotencyKey = None,
             principal: Principal = Depends(require_roles(*WORKERS))) -> JSONResponse:
    cmd = command(request, principal, key, "dispute.register", body)
    fields = body.model_dump()
    fields["received_at"] = _aware(body.received_at)
    return respond(request, _service(request).register(cmd, fields))


@router.get("", summary="The register of claims, newest first")
def list_disputes(request: Request,
                  status: Literal["registered", "in_progress", "redirected", "answered"] | None = None,
                  received_from: datetime | None = Query(None, alias="from"),
                  received_to: datetime | None = Query(None, alias="to"),
                  limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0),
                  principal: Principal = Depends(require_roles(*READERS))) -> dict[str, Any]:
    now = request.app.state.clock.now()
    with request.app.state.engine.connect() as conn:
        rows = store.list_disputes(conn, status=status, overdue_at=None, received_from=_aware(received_from),
                                   received_to=_aware(received_to), limit=limit, offset=offset)
    return {"disputes": [dispute_view(row, now) for row in rows]}


@router.get("/overdue", summary="Unanswered claims past their one-month deadline")
def overdue(request: Request, principal: Principal = Depends(require_roles(*READERS))) -> dict[str, Any]:
    now = request.app.state.clock.now()
    with request.app.state.engine.connect() as conn:
        rows = store.list_disputes(conn, status=None, overdue_at=now, received_from=None, received_to=None,
                                   limit=500, offset=0)
    return {"now": now.isoformat(), "disputes": [dispute_view(row, now) for row in rows]}


@router.get("/{dispute_id}", summary="One claim and its history")
def get_dispute(request: Request, dispute_id: str,
                principal: Principal = Depends(require_roles(*READERS))) -> dict[str, Any]:
    require_uuid(dispute_id, "DISPUTE_NOT_FOUND")
    with request.app.state.engine.connect() as conn:
        row = store.get_dispute(conn, dispute_id)
        if row is None:
            raise NotFound("DISPUTE_NOT_FOUND", params={"dispute_id": dispute_id})
        history = store.steps(conn, dispute_id)
    return {"dispute": dispute_view(row, request.app.state.clock.now()), "history": history}


@router.post("/{dispute_id}/status", summary="Work a claim: in progress, redirected, answered (with the answer)")
def change_status(request: Request, dispute_id: str, body: StatusRequest, key: IdempotencyKey = None,
                  principal: Principal = Depends(require_roles(*WORKERS))) -> JSONResponse:
    require_uuid(dispute_id, "DISPUTE_NOT_FOUND")
    cmd = command(request, principal, key, "dispute.status", {"id": dispute_id, **body.model_dump()})
    return respond(request, _service(request).change(cmd, dispute_id, body.status, body.note, body.answer))
