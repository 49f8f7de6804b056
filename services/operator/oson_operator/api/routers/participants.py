"""Routes: participants (§2.1, §XI) - registration, identification, status, history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse

from oson_operator.api.business_schemas import IdentificationRequest, Registration, StatusRequest
from oson_operator.api.commands import IdempotencyKey, command, respond
from oson_operator.api.ids import is_uuid, require_uuid
from oson_operator.api.security import require_roles
from oson_operator.domain.access import Principal, Role
from oson_operator.domain.errors import NotFound
from oson_operator.service.registry import Registry, participant_view, wallet_view
from oson_operator.storage import registry as store

router = APIRouter(prefix="/api/participants", tags=["participants"])
READERS = (Role.OPERATOR, Role.ADMIN, Role.AUDITOR)


def _registry(request: Request) -> Registry:
    return request.app.state.registry


@router.post("", status_code=201, summary="Register a participant (client, partner, partner bank, issuer)")
def register(request: Request, participant: Annotated[Registration, Body()], key: IdempotencyKey = None,
             principal: Principal = Depends(require_roles(Role.OPERATOR))) -> JSONResponse:
    fields = participant.model_dump()
    cmd = command(request, principal, key, "participant.register", participant)
    return respond(request, _registry(request).register(cmd, fields))


@router.get("", summary="List participants")
def list_participants(
    request: Request, kind: str | None = None, status: str | None = None, iin_bin: str | None = None,
    limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=10_000_000),
    principal: Principal = Depends(require_roles(*READERS)),
) -> dict[str, Any]:
    with request.app.state.engine.connect() as conn:
        rows = store.list_participants(conn, kind=kind, status=status, iin_bin=iin_bin, limit=limit, offset=offset)
    return {"participants": [participant_view(r) for r in rows]}


@router.get("/{participant_id}", summary="One participant, its wallets and the history of its changes")
def get_participant(request: Request, participant_id: str,
                    principal: Principal = Depends(require_roles(*READERS))) -> dict[str, Any]:
    with request.app.state.engine.connect() as conn:
        row = store.get_participant(conn, participant_id) if is_uuid(participant_id) else None
        if row is None:
            raise NotFound("PARTICIPANT_NOT_FOUND", params={"participant_id": participant_id})
        wallets = store.wallets_of(conn, participant_id)
        history = store.participant_history(conn, participant_id)
    now = request.app.state.clock.now()
    return {"participant": participant_view(row), "wallets": [wallet_view(w, now) for w in wallets],
            "history": [{**h, "changed_at": h["changed_at"].isoformat()} for h in history]}


@router.post("/{participant_id}/identification", summary="Raise a client's identification (§11.1.8)")
def identify(request: Request, participant_id: str, body: IdentificationRequest, key: IdempotencyKey = None,
             principal: Principal = Depends(require_roles(Role.OPERATOR))) -> JSONResponse:
    require_uuid(participant_id, "PARTICIPANT_NOT_FOUND")
    cmd = command(request, principal, key, "participant.identify", {"id": participant_id, **body.model_dump()})
    return respond(request, _registry(request).identify(cmd, participant_id, body.level, body.method, body.evidence))


@router.post("/{participant_id}/status", summary="Suspend, reactivate or close a participant")
def set_status(request: Request, participant_id: str, body: StatusRequest, key: IdempotencyKey = None,
               principal: Principal = Depends(require_roles(Role.OPERATOR))) -> JSONResponse:
    require_uuid(participant_id, "PARTICIPANT_NOT_FOUND")
    cmd = command(request, principal, key, "participant.status", {"id": participant_id, **body.model_dump()})
    return respond(request, _registry(request).set_status(cmd, participant_id, body.status, body.reason))

