"""Routes: the information-security incident register (§13.5-13.11).

Administrators and operators record and work incidents; auditors read. ``GET /api/incidents/overdue``
lists the response plans (24 h) and National Bank cards (48 h) that are late or due within six hours.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from oson_operator.api.commands import IdempotencyKey, command, respond
from oson_operator.api.ids import require_uuid
from oson_operator.api.security import audit_for, require_roles
from oson_operator.domain.access import Principal, Role
from oson_operator.domain.errors import NotFound
from oson_operator.domain.incidents import Category
from oson_operator.service.incident_card import card, render_card
from oson_operator.service.incidents import Incidents, incident_view
from oson_operator.storage import incidents as store
from oson_operator.storage.events import append_event

router = APIRouter(prefix="/api/incidents", tags=["incidents"])
READERS = (Role.ADMIN, Role.OPERATOR, Role.AUDITOR)
WORKERS = (Role.ADMIN, Role.OPERATOR)
LongText = Annotated[str, Field(min_length=1, max_length=20000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class IncidentRequest(_Strict):
    title: str = Field(min_length=1, max_length=300)
    description: LongText
    category: Category = Field(description="§13.9 kind, or 'other' (registered, not reported)")
    detected_at: datetime | None = Field(None, description="when it was detected (default: now)")
    affected_assets: str | None = Field(None, max_length=2000)


class PlanRequest(_Strict):
    response_plan: LongText


class NbkReportRequest(_Strict):
    reference: str = Field(min_length=1, max_length=300, description="the National Bank platform's reference")


class CategoryRequest(_Strict):
    category: Category
    note: LongText


class StatusRequest(_Strict):
    status: Literal["contained", "resolved", "closed"]
    note: LongText
    measures: str | None = Field(None, max_length=20000)
    corrective_actions: str | None = Field(None, max_length=20000)


def _service(request: Request) -> Incidents:
    return Incidents(request.app.state.engine, request.app.state.clock)


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


@router.post("", status_code=201, summary="Record an incident (§13.8) with its §13.9 category")
def record(request: Request, body: IncidentRequest, key: IdempotencyKey = None,
           principal: Principal = Depends(require_roles(*WORKERS))) -> JSONResponse:
    cmd = command(request, principal, key, "incident.record", body)
    return respond(request, _service(request).record(cmd, body.title, body.description, body.category,
                                                     _aware(body.detected_at), body.affected_assets))


@router.get("", summary="The incident register, newest detection first")
def list_incidents(
    request: Request,
    status: Literal["open", "contained", "resolved", "closed"] | None = None,
    category: Category | None = None,
    detected_from: datetime | None = Query(None, alias="from"),
    detected_to: datetime | None = Query(None, alias="to"),
    limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0),
    principal: Principal = Depends(require_roles(*READERS)),
) -> dict[str, Any]:
    now = request.app.state.clock.now()
    with request.app.state.engine.connect() as conn:
        rows = store.list_incidents(conn, status=status, category=category, detected_from=_aware(detected_from),
                                    detected_to=_aware(detected_to), limit=limit, offset=offset)
    return {"incidents": [incident_view(row, now) for row in rows]}


@router.get("/overdue", summary="Response plans (24 h) and National Bank cards (48 h) late or due soon")
def overdue(request: Request, principal: Principal = Depends(require_roles(*READERS))) -> dict[str, Any]:
    return {"now": request.app.state.clock.now().isoformat(), "items": _service(request).overdue()}


@router.get("/{incident_id}", summary="One incident, its deadlines and its history")
def get_incident(request: Request, incident_id: str,
                 principal: Principal = Depends(require_roles(*READERS))) -> dict[str, Any]:
    require_uuid(incident_id, "INCIDENT_NOT_FOUND")
    with request.app.state.engine.connect() as conn:
        row = store.get_incident(conn, incident_id)
        if row is None:
            raise NotFound("INCIDENT_NOT_FOUND", params={"incident_id": incident_id})
        history = store.steps(conn, incident_id)
    return {"incident": incident_view(row, request.app.state.clock.now()), "history": history}


@router.get("/{incident_id}/card", summary="The incident card of §13.10 (json, html, print, csv or pdf)")
def incident_card(request: Request, incident_id: str,
                  format: Literal["json", "html", "print", "csv", "pdf"] = "json",
                  principal: Principal = Depends(require_roles(*READERS))) -> Response:
    require_uuid(incident_id, "INCIDENT_NOT_FOUND")
    with request.app.state.engine.begin() as conn:
        row = store.get_incident(conn, incident_id)
        if row is None:
            raise NotFound("INCIDENT_NOT_FOUND", params={"incident_id": incident_id})
        rendered = render_card(card(row, store.steps(conn, incident_id), request.app.state.business_config), format)
        append_event(conn, audit_for(request, principal.actor).event(
            "incident.card", record_type="incident", record_id=incident_id,
            details={"format": format, "sha256": hashlib.sha256(rendered.body).hexdigest()}))
    name = f"incident-card-{row.number}.{rendered.extension}"
    disposition = "attachment" if format in ("csv", "pdf") else "inline"
    return Response(rendered.body, media_type=rendered.media_type,
                    headers={"Content-Disposition": f'{disposition}; filename="{name}"'})


@router.post("/{incident_id}/response-plan", summary="Set or revise the urgent response plan (§13.7, 24 h)")
def response_plan(request: Request, incident_id: str, body: PlanRequest, key: IdempotencyKey = None,
                  principal: Principal = Depends(require_roles(*WORKERS))) -> JSONResponse:
    require_uuid(incident_id, "INCIDENT_NOT_FOUND")
    cmd = command(request, principal, key, "incident.response_plan", {"id": incident_id, **body.model_dump()})
    return respond(request, _service(request).set_response_plan(cmd, incident_id, body.response_plan))


@router.post("/{incident_id}/nbk-report", summary="Record that the card went to the National Bank (§13.10, 48 h)")
def nbk_report(request: Request, incident_id: str, body: NbkReportRequest, key: IdempotencyKey = None,
               principal: Principal = Depends(require_roles(*WORKERS))) -> JSONResponse:
    require_uuid(incident_id, "INCIDENT_NOT_FOUND")
    cmd = command(request, principal, key, "incident.nbk_report", {"id": incident_id, **body.model_dump()})
    return respond(request, _service(request).report_to_nbk(cmd, incident_id, body.reference))


@router.post("/{incident_id}/category", summary="Reclassify an incident (§13.9)")
def classify(request: Request, incident_id: str, body: CategoryRequest, key: IdempotencyKey = None,
             principal: Principal = Depends(require_roles(*WORKERS))) -> JSONResponse:
    require_uuid(incident_id, "INCIDENT_NOT_FOUND")
    cmd = command(request, principal, key, "incident.classify", {"id": incident_id, **body.model_dump()})
    return respond(request, _service(request).classify(cmd, incident_id, body.category, body.note))


@router.post("/{incident_id}/status", summary="Move an incident forward: contained, resolved, closed")
def change_status(request: Request, incident_id: str, body: StatusRequest, key: IdempotencyKey = None,
                  principal: Principal = Depends(require_roles(*WORKERS))) -> JSONResponse:
    require_uuid(incident_id, "INCIDENT_NOT_FOUND")
    cmd = command(request, principal, key, "incident.status", {"id": incident_id, **body.model_dump()})
    return respond(request, _service(request).change_status(cmd, incident_id, body.status, body.note,
                                                            body.measures, body.corrective_actions))
