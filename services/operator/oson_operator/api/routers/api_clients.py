"""Routes: API clients of partners' integrations (seed 003 §1.2.1, §1.6).

One client id and secret per integration. The secret is shown once, at creation or regeneration;
the database keeps its SHA-256 only. Regeneration invalidates the old secret at once and lifts a
block (that is how a client blocked after 90 idle days is restored).
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from oson_operator.api.security import audit_for, mark_recorded, require_roles
from oson_operator.domain import passwords
from oson_operator.domain.access import Principal, Role
from oson_operator.domain.errors import NotFound
from oson_operator.storage import access as store
from oson_operator.storage.events import append_event

router = APIRouter(prefix="/api/api-clients", tags=["api-clients"])

_admin = require_roles(Role.ADMIN)
_readers = require_roles(Role.ADMIN, Role.AUDITOR)


class ApiClientCreateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="the integration (software product)")
    participant_id: str | None = Field(None, max_length=100, description="participant it acts for")


class ApiClientBlockRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field("administrator", min_length=1, max_length=200)


class ApiClientView(BaseModel):
    client_id: str
    name: str
    participant_id: str | None
    status: str = Field(description="active or blocked")
    blocked_reason: str | None
    blocked_at: datetime | None
    secret_generated_at: datetime
    last_used_at: datetime | None = Field(description="updated at most once an hour")
    created_at: datetime
    created_by: str


class ApiClientWithSecret(ApiClientView):
    client_secret: str = Field(description="shown once; send as HTTP Basic client_id:client_secret")


def _view(client: store.ApiClient) -> ApiClientView:
    return ApiClientView(
        client_id=client.client_id, name=client.name, participant_id=client.participant_id, status=client.status,
        blocked_reason=client.blocked_reason, blocked_at=client.blocked_at,
        secret_generated_at=client.secret_generated_at, last_used_at=client.last_used_at,
        created_at=client.created_at, created_by=client.created_by,
    )


def _target(connection: Connection, client_id: str) -> store.ApiClient:
    client = store.get_api_client(connection, client_id, for_update=True)
    if client is None:
        raise NotFound("API_CLIENT_NOT_FOUND", params={"client_id": client_id})
    return client


@router.post("", status_code=201, response_model=ApiClientWithSecret, summary="Create an API client")
def create_api_client(
    body: ApiClientCreateRequest, request: Request, principal: Principal = Depends(_admin)
) -> ApiClientWithSecret:
    state = request.app.state
    with state.engine.begin() as connection:
        client, secret = store.issue_api_client(
            connection, audit_for(request, principal.actor), name=body.name.strip(),
            participant_id=body.participant_id, now=state.clock.now(),
        )
    mark_recorded(request)
    return ApiClientWithSecret(**_view(client).model_dump(), client_secret=secret)


@router.get("", response_model=list[ApiClientView], summary="List API clients")
def list_api_clients(request: Request, principal: Principal = Depends(_readers)) -> list[ApiClientView]:
    with request.app.state.engine.connect() as connection:
        return [_view(client) for client in store.list_api_clients(connection)]


@router.get("/{client_id}", response_model=ApiClientView, summary="One API client")
def get_api_client(client_id: str, request: Request, principal: Principal = Depends(_readers)) -> ApiClientView:
    with request.app.state.engine.connect() as connection:
        client = store.get_api_client(connection, client_id)
    if client is None:
        raise NotFound("API_CLIENT_NOT_FOUND", params={"client_id": client_id})
    return _view(client)


@router.post("/{client_id}/regenerate", response_model=ApiClientWithSecret,
             summary="New secret (the old one stops working now); unblocks the client")
def regenerate(client_id: str, request: Request, principal: Principal = Depends(_admin)) -> ApiClientWithSecret:
    state = request.app.state
    now = state.clock.now()
    secret = passwords.new_token()
    with state.engine.begin() as connection:
        before = _target(connection, client_id)
        client = store.update_api_client(
            connection, client_id, now, secret_hash=passwords.token_digest(secret), secret_generated_at=now,
            status="active", blocked_reason=None, blocked_at=None,
        )
        append_event(connection, audit_for(request, principal.actor).event(
            "api_client.regenerate", record_type="api_client", record_id=client_id,
            details={"was_status": before.status, "was_blocked_reason": before.blocked_reason}))
    # This process at once; the others when the database announces the change (api/client_cache.py).
    state.api_client_cache.forget(client_id)
    mark_recorded(request)
    return ApiClientWithSecret(**_view(client).model_dump(), client_secret=secret)


@router.post("/{client_id}/block", response_model=ApiClientView, summary="Block an API client")
def block(
    client_id: str, request: Request, body: ApiClientBlockRequest | None = None,
    principal: Principal = Depends(_admin),
) -> ApiClientView:
    state = request.app.state
    now = state.clock.now()
    reason = body.reason if body is not None else "administrator"
    with state.engine.begin() as connection:
        before = _target(connection, client_id)
        client = store.update_api_client(connection, client_id, now, status="blocked", blocked_reason=reason,
                                         blocked_at=before.blocked_at or now)
        append_event(connection, audit_for(request, principal.actor).event(
            "api_client.block", record_type="api_client", record_id=client_id, details={"reason": reason}))
    state.api_client_cache.forget(client_id)
    mark_recorded(request)
    return _view(client)
