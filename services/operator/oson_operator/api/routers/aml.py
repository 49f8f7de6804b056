"""Routes: AML/CFT screening, cases and suspicious-transaction reports (§XVI).

Administrators and operators import the list, screen, open, release and close cases and mark reports
sent; auditors read everything.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, date, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from oson_operator.api.commands import IdempotencyKey, command, respond
from oson_operator.api.ids import require_uuid
from oson_operator.api.security import require_roles
from oson_operator.domain.access import Principal, Role
from oson_operator.domain.case_deadlines import WARN_BEFORE
from oson_operator.domain.errors import DomainError, FieldProblem, NotFound
from oson_operator.service.aml import Aml, case_view, report_view
from oson_operator.storage import aml as store

router = APIRouter(prefix="/api/aml", tags=["aml"])
READERS = (Role.ADMIN, Role.OPERATOR, Role.AUDITOR)
WORKERS = (Role.ADMIN, Role.OPERATOR)
Uuid = Field(pattern=r"^[0-9a-fA-F-]{36}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ListImportRequest(_Strict):
    format: Literal["csv", "xml"]
    content_base64: str = Field(min_length=1, description="the list file (UTF-8), base64")
    source: str = Field(min_length=1, max_length=300, description="who published it, e.g. the authorized body")
    list_date: date | None = Field(None, description="the list's own date")


class ScreenOperationsRequest(_Strict):
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")


class CaseRequest(_Strict):
    participant_id: str = Uuid
    operation_id: str | None = Field(None, pattern=r"^[0-9a-fA-F-]{36}$")
    reason: str = Field(min_length=1, max_length=2000, description="why it is suspicious (§16.5)")
    under_control: bool = Field(False, description="§16.3: stop debits until the participant is contacted")


class ReasonRequest(_Strict):
    reason: str = Field(min_length=1, max_length=2000)


class ReleaseRequest(ReasonRequest):
    identity_evidence: str = Field(min_length=1, max_length=500,
                                   description="how the person was identified (§16.4), e.g. ID card number seen")
    confirmation_channel: Literal["sms", "email"] = Field(description="where the confirmation code went (§16.4)")
    confirmation_reference: str = Field(min_length=1, max_length=300, description="reference of the code sent")


class ReportSentRequest(_Strict):
    reference: str = Field(min_length=1, max_length=300, description="the authorized body's receipt reference")


def _service(request: Request) -> Aml:
    state = request.app.state
    return Aml(state.engine, state.clock, state.business_config.holidays)


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


@router.post("/lists", status_code=201, summary="Import the list of persons involved in terrorist activity; "
             "every participant is screened again")
def import_list(request: Request, body: ListImportRequest, key: IdempotencyKey = None,
                principal: Principal = Depends(require_roles(*WORKERS))) -> JSONResponse:
    try:
        content = base64.b64decode(body.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise DomainError("AML_LIST_INVALID", status=422, params={"reason": "content_base64 is not base64"},
                          problems=(FieldProblem("content_base64", "FIELD_INVALID", {"reason": "base64"}),)) from None
    summary = {**body.model_dump(mode="json", exclude={"content_base64"}), "content_length": len(content)}
    cmd = command(request, principal, key, "aml.list_import", summary)
    return respond(request, _service(request).import_list(cmd, body.format, content, body.source, body.list_date))


@router.get("/lists/current", summary="The list in force and its entries")
def current_list(request: Request, principal: Principal = Depends(require_roles(*READERS))) -> dict[str, Any]:
    with request.app.state.engine.connect() as conn:
        current = store.current_list(conn)
        if current is None:
            raise NotFound("AML_LIST_MISSING")
        entries = store.list_entries(conn, current["id"])
    return {"list": {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in current.items()},
            "entries": [{"id": e.id, "name": e.name, "birth_date": e.birth_date.isoformat() if e.birth_date else None,
                         "iin_bin": e.iin_bin, "reference": e.reference} for e in entries]}


@router.post("/screenings/operations", summary="Screen both parties of the operations of a period")
def screen_operations(request: Request, body: ScreenOperationsRequest, key: IdempotencyKey = None,
                      principal: Principal = Depends(require_roles(*WORKERS))) -> JSONResponse:
    cmd = command(request, principal, key, "aml.screen_operations", body.model_dump(mode="json", by_alias=True))
    return respond(request, _service(request).screen_operations(cmd, _aware(body.start), _aware(body.end)))


@router.post("/cases", status_code=201, summary="Open a case on a suspicious operation or wallet; queues an STR")
def open_case(request: Request, body: CaseRequest, key: IdempotencyKey = None,
              principal: Principal = Depends(require_roles(*WORKERS))) -> JSONResponse:
    cmd = command(request, principal, key, "aml.case_open", body)
    return respond(request, _service(request).open_case(cmd, body.participant_id, body.operation_id, body.reason,
                                                        body.under_control))


@router.get("/cases", summary="AML cases, newest first")
def list_cases(request: Request,
               status: Literal["frozen", "under_control", "open", "released", "closed"] | None = None,
               participant_id: str | None = Query(None, pattern=r"^[0-9a-fA-F-]{36}$"),
               limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0),
               principal: Principal = Depends(require_roles(*READERS))) -> dict[str, Any]:
    with request.app.state.engine.connect() as conn:
        rows = store.list_cases(conn, status=status, participant_id=participant_id, limit=limit, offset=offset)
    return {"cases": [case_view(row) for row in rows]}


@router.get("/cases/{case_id}", summary="One case, its history and its reports")
def get_case(request: Request, case_id: str,
             principal: Principal = Depends(require_roles(*READERS))) -> dict[str, Any]:
    require_uuid(case_id, "AML_CASE_NOT_FOUND")
    now = request.app.state.clock.now()
    with request.app.state.engine.connect() as conn:
        row = store.get_case(conn, case_id)
        if row is None:
            raise NotFound("AML_CASE_NOT_FOUND", params={"case_id": case_id})
        history = store.steps(conn, case_id)
        reports = store.list_reports(conn, status=None, due_before=None, case_id=case_id, limit=500, offset=0)
    return {"case": case_view(row), "history": history, "reports": [report_view(r, now) for r in reports]}


def _case_command(request: Request, principal: Principal, key: str | None, action: str, case_id: str,
                  body: BaseModel) -> Any:
    require_uuid(case_id, "AML_CASE_NOT_FOUND")
    return command(request, principal, key, action, {"id": case_id, **body.model_dump()})


@router.post("/cases/{case_id}/under-control", summary="Put an open case's participant under control (§16.3)")
def under_control(request: Request, case_id: str, body: ReasonRequest, key: IdempotencyKey = None,
                  principal: Principal = Depends(require_roles(*WORKERS))) -> JSONResponse:
    cmd = _case_command(request, principal, key, "aml.case_under_control", case_id, body)
    return respond(request, _service(request).put_under_control(cmd, case_id, body.reason))


@router.post("/cases/{case_id}/release", summary="Release a freeze or control after identification (§16.4)")
def release(request: Request, case_id: str, body: ReleaseRequest, key: IdempotencyKey = None,
            principal: Principal = Depends(require_roles(*WORKERS))) -> JSONResponse:
    cmd = _case_command(request, principal, key, "aml.case_release", case_id, body)
    return respond(request, _service(request).release(cmd, case_id, body.reason, body.identity_evidence,
                                                      body.confirmation_channel, body.confirmation_reference))


@router.post("/cases/{case_id}/close", summary="Close an open case that froze nothing")
def close(request: Request, case_id: str, body: ReasonRequest, key: IdempotencyKey = None,
          principal: Principal = Depends(require_roles(*WORKERS))) -> JSONResponse:
    cmd = _case_command(request, principal, key, "aml.case_close", case_id, body)
    return respond(request, _service(request).close(cmd, case_id, body.reason))


@router.get("/reports", summary="Suspicious-transaction reports, earliest deadline first")
def list_reports(request: Request, status: Literal["queued", "sent"] | None = None,
                 limit: int = Query(100, ge=1, le=500), offset: int = Query(0, ge=0),
                 principal: Principal = Depends(require_roles(*READERS))) -> dict[str, Any]:
    now = request.app.state.clock.now()
    with request.app.state.engine.connect() as conn:
        rows = store.list_reports(conn, status=status, due_before=None, case_id=None, limit=limit, offset=offset)
    return {"reports": [report_view(row, now) for row in rows]}


@router.get("/reports/overdue", summary="Queued reports past their deadline or due within six hours")
def overdue_reports(request: Request, principal: Principal = Depends(require_roles(*READERS))) -> dict[str, Any]:
    now = request.app.state.clock.now()
    with request.app.state.engine.connect() as conn:
        rows = store.list_reports(conn, status="queued", due_before=now + WARN_BEFORE, case_id=None, limit=500,
                                  offset=0)
    return {"now": now.isoformat(), "reports": [report_view(row, now) for row in rows]}


@router.post("/reports/{report_id}/sent", summary="Record that a report went to the authorized body (§16.2.5)")
def report_sent(request: Request, report_id: str, body: ReportSentRequest, key: IdempotencyKey = None,
                principal: Principal = Depends(require_roles(*WORKERS))) -> JSONResponse:
    require_uuid(report_id, "AML_REPORT_NOT_FOUND")
    cmd = command(request, principal, key, "aml.report_sent", {"id": report_id, **body.model_dump()})
    return respond(request, _service(request).mark_report_sent(cmd, report_id, body.reference))
