"""Routes: e-wallets (§3.3) - opening, balance, ledger entries, blocking (§6.3) and the AML block (§16.8)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from oson_operator.api.business_schemas import AmlBlockRequest, BlockRequest, UnblockRequest, WalletOpenRequest
from oson_operator.api.commands import IdempotencyKey, command, respond
from oson_operator.api.ids import require_uuid
from oson_operator.api.security import require_roles
from oson_operator.domain.access import Principal, Role
from oson_operator.domain.errors import NotFound
from oson_operator.domain.money import format_amount
from oson_operator.service.registry import Registry, wallet_view
from oson_operator.storage import ledger
from oson_operator.storage import registry as store

router = APIRouter(prefix="/api/wallets", tags=["wallets"])
READERS = (Role.OPERATOR, Role.ADMIN, Role.AUDITOR)


def _registry(request: Request) -> Registry:
    return request.app.state.registry


@router.post("", status_code=201, summary="Open an e-wallet for a participant, in one issuer's e-money")
def open_wallet(request: Request, body: WalletOpenRequest, key: IdempotencyKey = None,
                principal: Principal = Depends(require_roles(Role.OPERATOR, Role.INTEGRATION))) -> JSONResponse:
    cmd = command(request, principal, key, "wallet.open", body)
    return respond(request, _registry(request).open_wallet(cmd, body.participant_id, body.issuer_id))


@router.get("/{wallet_id}", summary="A wallet, its balance and the history of its blocks")
def get_wallet(request: Request, wallet_id: str,
               principal: Principal = Depends(require_roles(*READERS, Role.INTEGRATION))) -> dict[str, Any]:
    require_uuid(wallet_id, "WALLET_NOT_FOUND")
    with request.app.state.engine.connect() as conn:
        row = store.get_wallet_row(conn, wallet_id)
        if row is None:
            raise NotFound("WALLET_NOT_FOUND", params={"wallet_id": wallet_id})
        history = store.wallet_history(conn, wallet_id)
    return {"wallet": wallet_view(row, request.app.state.clock.now()),
            "history": [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in h.items()}
                        for h in history]}


@router.get("/{wallet_id}/entries", summary="The wallet's ledger entries, oldest first (keyset pagination)")
def wallet_entries(request: Request, wallet_id: str, after_id: int | None = Query(None, ge=0),
                   limit: int = Query(100, ge=1, le=1000),
                   principal: Principal = Depends(require_roles(*READERS))) -> dict[str, Any]:
    require_uuid(wallet_id, "WALLET_NOT_FOUND")
    with request.app.state.engine.connect() as conn:
        entries = ledger.entries_of_account(conn, wallet_id, limit, after_id)
    return {"entries": [{"id": e.id, "operation_id": e.operation_id, "amount": format_amount(e.amount),
                         "created_at": e.created_at.isoformat(), "operational_day": e.operational_day.isoformat()}
                        for e in entries]}


@router.post("/{wallet_id}/block", summary="Block a wallet on a ground of §6.3")
def block(request: Request, wallet_id: str, body: BlockRequest, key: IdempotencyKey = None,
          principal: Principal = Depends(require_roles(Role.OPERATOR))) -> JSONResponse:
    require_uuid(wallet_id, "WALLET_NOT_FOUND")
    cmd = command(request, principal, key, "wallet.block", {"id": wallet_id, **body.model_dump()})
    return respond(request, _registry(request).block(cmd, wallet_id, body.reason, body.mode))


@router.post("/{wallet_id}/aml-block", summary="Block for up to 5 working days without reasons (§16.8)")
def aml_block(request: Request, wallet_id: str, body: AmlBlockRequest, key: IdempotencyKey = None,
              principal: Principal = Depends(require_roles(Role.OPERATOR))) -> JSONResponse:
    require_uuid(wallet_id, "WALLET_NOT_FOUND")
    cmd = command(request, principal, key, "wallet.aml_block", {"id": wallet_id, **body.model_dump()})
    return respond(request, _registry(request).aml_block(cmd, wallet_id, body.working_days))


@router.post("/{wallet_id}/unblock", summary="Lift a block")
def unblock(request: Request, wallet_id: str, body: UnblockRequest, key: IdempotencyKey = None,
            principal: Principal = Depends(require_roles(Role.OPERATOR))) -> JSONResponse:
    require_uuid(wallet_id, "WALLET_NOT_FOUND")
    cmd = command(request, principal, key, "wallet.unblock", {"id": wallet_id, **body.model_dump()})
    return respond(request, _registry(request).unblock(cmd, wallet_id, body.reason))
