"""Routes: electronic document exchange with counterparties (§14.1(10), §VII).

Files travel as base64 inside JSON; signatures are detached (see ``domain/doc_signatures.py``).
Administrators manage counterparty keys; administrators and operators send and receive; auditors read.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from oson_operator.api.commands import IdempotencyKey, command, respond
from oson_operator.api.ids import require_uuid
from oson_operator.api.security import audit_for, require_roles
from oson_operator.domain.access import Principal, Role
from oson_operator.domain.errors import DomainError, FieldProblem, NotFound
from oson_operator.service.documents import DocumentFile, Documents, document_view, key_view
from oson_operator.storage import documents as store
from oson_operator.storage.events import append_event

router = APIRouter(prefix="/api/documents", tags=["documents"])
READERS = (Role.ADMIN, Role.OPERATOR, Role.AUDITOR)
WORKERS = (Role.ADMIN, Role.OPERATOR)
MAX_FILE_BYTES = 20 * 1024 * 1024

Counterparty = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,99}$",
                                    description="the counterparty's code, e.g. halyk-bank")]
Reason = Annotated[str, Field(min_length=1, max_length=1000)]
DocType = Literal["register", "statement", "notice", "other"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class KeyRequest(_Strict):
    counterparty: Counterparty
    participant_id: str | None = Field(None, pattern=r"^[0-9a-fA-F-]{36}$",
                                       description="the partner bank or issuer in the participant register")
    pem: str = Field(min_length=1, max_length=20000, description="PEM Ed25519 public key or X.509 certificate")
    valid_from: datetime | None = Field(None, description="bare keys only; certificates carry their own")
    valid_to: datetime | None = None


class ReasonRequest(_Strict):
    reason: Reason


class OutgoingRequest(_Strict):
    counterparty: Counterparty
    doc_type: DocType
    file_name: str = Field(min_length=1, max_length=255, pattern=r"^[^/\\]+$")
    media_type: str = Field("application/octet-stream", min_length=3, max_length=200)
    content_base64: str = Field(min_length=1, description="the file, base64")
    note: str | None = Field(None, max_length=1000)


class IncomingRequest(OutgoingRequest):
    signature_base64: str | None = Field(None, description="the detached signature, base64 (missing: refused)")
    key_fingerprint: str | None = Field(None, pattern=r"^[0-9a-fA-F]{64}$",
                                        description="which registered key signed it (default: any valid one)")


def _service(request: Request) -> Documents:
    state = request.app.state
    return Documents(state.engine, state.clock, state.settings.document_signing_key_file)


def _decode(value: str, field: str) -> bytes:
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise DomainError("DOCUMENT_BASE64_INVALID", status=422,
                          problems=(FieldProblem(field, "DOCUMENT_BASE64_INVALID"),)) from None
    if len(data) > MAX_FILE_BYTES:
        raise DomainError("DOCUMENT_TOO_LARGE", status=422, params={"mib": MAX_FILE_BYTES // (1024 * 1024)})
    return data


def _file(body: OutgoingRequest) -> DocumentFile:
    return DocumentFile(body.counterparty, body.doc_type, body.file_name, body.media_type,
                        _decode(body.content_base64, "content_base64"), body.note)


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _summary(body: BaseModel) -> dict[str, Any]:
    """The request as fingerprinted for idempotency: the file by its length, not its bytes."""
    summary = body.model_dump(mode="json")
    for field in ("content_base64", "signature_base64", "pem"):
        if summary.get(field):
            summary[field] = {"length": len(summary[field]), "tail": summary[field][-32:]}
    return summary


@router.get("/signing-key", summary="The appliance's public key that signs outgoing documents")
def signing_key(request: Request, principal: Principal = Depends(require_roles(*READERS))) -> dict[str, Any]:
    return {"signing_key": _service(request).signing_key()}


@router.get("/keys", summary="Registered counterparty keys and certificates (revoked ones included)")
def list_keys(request: Request, counterparty: str | None = Query(None, max_length=100),
              principal: Principal = Depends(require_roles(*READERS))) -> dict[str, Any]:
    now = request.app.state.clock.now()
    with request.app.state.engine.connect() as conn:
        rows = store.keys_of(conn, counterparty)
    return {"keys": [key_view(row, now) for row in rows]}


@router.post("/keys", status_code=201, summary="Register a counterparty's public key or certificate")
def add_key(request: Request, body: KeyRequest, key: IdempotencyKey = None,
            principal: Principal = Depends(require_roles(Role.ADMIN))) -> JSONResponse:
    cmd = command(request, principal, key, "document_key.add", _summary(body))
    return respond(request, _service(request).add_key(cmd, body.counterparty, body.participant_id, body.pem,
                                                      _aware(body.valid_from), _aware(body.valid_to)))


@router.post("/keys/{key_id}/revoke", summary="Revoke a counterparty key: documents signed with it are refused")
def revoke_key(request: Request, key_id: str, body: ReasonRequest, key: IdempotencyKey = None,
               principal: Principal = Depends(require_roles(Role.ADMIN))) -> JSONResponse:
    require_uuid(key_id, "DOCUMENT_KEY_NOT_FOUND")
    cmd = command(request, principal, key, "document_key.revoke", {"id": key_id, **body.model_dump()})
    return respond(request, _service(request).revoke_key(cmd, key_id, body.reason))


@router.post("/outgoing", status_code=201, summary="Sign a document with the appliance's key and archive it")
def send(request: Request, body: OutgoingRequest, key: IdempotencyKey = None,
         principal: Principal = Depends(require_roles(*WORKERS))) -> JSONResponse:
    cmd = command(request, principal, key, "document.send", _summary(body))
    return respond(request, _service(request).send(cmd, _file(body)))


@router.post("/incoming", status_code=201,
             summary="Verify a received document against the counterparty's keys; refusals are archived too")
def receive(request: Request, body: IncomingRequest, key: IdempotencyKey = None,
            principal: Principal = Depends(require_roles(*WORKERS))) -> JSONResponse:
    cmd = command(request, principal, key, "document.receive", _summary(body))
    signature = _decode(body.signature_base64, "signature_base64") if body.signature_base64 else None
    return respond(request, _service(request).receive(cmd, _file(body), signature, body.key_fingerprint))


@router.get("", summary="The archive: documents sent, received and refused, newest first")
def list_documents(
    request: Request,
    direction: Literal["outgoing", "incoming"] | None = None,
    status: Literal["sent", "accepted", "refused"] | None = None,
    counterparty: str | None = Query(None, max_length=100),
    recorded_from: datetime | None = Query(None, alias="from"),
    recorded_to: datetime | None = Query(None, alias="to"),
    limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0),
    principal: Principal = Depends(require_roles(*READERS)),
) -> dict[str, Any]:
    with request.app.state.engine.connect() as conn:
        rows = store.list_documents(conn, direction=direction, status=status, counterparty=counterparty,
                                    recorded_from=_aware(recorded_from), recorded_to=_aware(recorded_to),
                                    limit=limit, offset=offset)
    return {"documents": [document_view(row) for row in rows]}


@router.get("/{document_id}", summary="One archived document's record")
def get_document(request: Request, document_id: str,
                 principal: Principal = Depends(require_roles(*READERS))) -> dict[str, Any]:
    require_uuid(document_id, "DOCUMENT_NOT_FOUND")
    with request.app.state.engine.connect() as conn:
        row = store.get_document(conn, document_id)
    if row is None:
        raise NotFound("DOCUMENT_NOT_FOUND", params={"document_id": document_id})
    return {"document": document_view(row)}


def _download(request: Request, principal: Principal, document_id: str, part: str) -> Response:
    require_uuid(document_id, "DOCUMENT_NOT_FOUND")
    with request.app.state.engine.begin() as conn:
        row = store.get_document(conn, document_id)
        if row is None:
            raise NotFound("DOCUMENT_NOT_FOUND", params={"document_id": document_id})
        data = store.document_bytes(conn, document_id, part)
        if data is None:
            code = "DOCUMENT_DELETED" if row.deleted_at is not None else "DOCUMENT_SIGNATURE_ABSENT"
            raise NotFound(code, params={"document_id": document_id})
        # Who took a copy of what is part of the trail (§7.5).
        append_event(conn, audit_for(request, principal.actor).event(
            f"document.download_{part}", record_type="document", record_id=document_id))
    name = row.file_name if part == "content" else f"{row.file_name}.sig"
    media = row.media_type if part == "content" else "application/octet-stream"
    quoted = name.replace('"', "_").encode("ascii", "replace").decode()
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{quoted}"'})


@router.get("/{document_id}/content", summary="Download the document's file")
def download_content(request: Request, document_id: str,
                     principal: Principal = Depends(require_roles(*READERS))) -> Response:
    return _download(request, principal, document_id, "content")


@router.get("/{document_id}/signature", summary="Download the document's detached signature")
def download_signature(request: Request, document_id: str,
                       principal: Principal = Depends(require_roles(*READERS))) -> Response:
    return _download(request, principal, document_id, "signature")


@router.post("/{document_id}/deletion", summary="Delete the file and signature after the retention date (§7.5)")
def delete_document(request: Request, document_id: str, body: ReasonRequest, key: IdempotencyKey = None,
                    principal: Principal = Depends(require_roles(Role.ADMIN))) -> JSONResponse:
    require_uuid(document_id, "DOCUMENT_NOT_FOUND")
    cmd = command(request, principal, key, "document.delete", {"id": document_id, **body.model_dump()})
    return respond(request, _service(request).delete(cmd, document_id, body.reason))
