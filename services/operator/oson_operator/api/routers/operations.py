"""Routes: money operations (§5.2, §5.4-5.7), quotes (§8.7), receipts (§5.4.12), the ledger check."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from oson_operator.api.business_schemas import (
    Amount,
    IssuanceRequest,
    PaymentRequest,
    RedemptionRequest,
    ReturnRequest,
)
from oson_operator.api.commands import IdempotencyKey, command, respond
from oson_operator.api.ids import require_uuid
from oson_operator.api.security import require_roles
from oson_operator.domain.access import Principal, Role
from oson_operator.domain.errors import NotFound
from oson_operator.domain.money import format_amount
from oson_operator.service.operations import Operations, operation_view, receipt_view
from oson_operator.storage import ledger, registry

router = APIRouter(prefix="/api", tags=["operations"])
READERS = (Role.OPERATOR, Role.ADMIN, Role.AUDITOR)
MOVERS = (Role.OPERATOR, Role.INTEGRATION)


def _operations(request: Request) -> Operations:
    return request.app.state.operations


@router.get("/quotes", summary="The commission and total of an operation before it is made (§8.7)")
def quote(request: Request, kind: Literal["issuance", "payment", "transfer", "redemption"],
          amount: Amount, payee_wallet_id: str | None = None,
          principal: Principal = Depends(require_roles(*MOVERS))) -> dict[str, Any]:
    if payee_wallet_id is not None:
        require_uuid(payee_wallet_id, "WALLET_NOT_FOUND")
    return {"quote": _operations(request).quote(kind, amount, payee_wallet_id).as_dict()}


@router.post("/issuances", status_code=201, summary="Issue e-money against money received (§5.2)")
def issue(request: Request, body: IssuanceRequest, key: IdempotencyKey = None,
          principal: Principal = Depends(require_roles(Role.OPERATOR))) -> JSONResponse:
    cmd = command(request, principal, key, "issuance.create", body)
    return respond(request, _operations(request).issue(cmd, body.wallet_id, body.amount, body.money_reference))


@router.post("/payments", status_code=201, summary="Pay a partner from a client's wallet (§5.4)")
def pay(request: Request, body: PaymentRequest, key: IdempotencyKey = None,
        principal: Principal = Depends(require_roles(*MOVERS))) -> Response:
    cmd = command(request, principal, key, "payment.create", body)
    return respond(request, _operations(request).pay(cmd, "payment", body.payer_wallet_id, body.payee_wallet_id,
                                                     body.amount, body.purpose))


@router.post("/transfers", status_code=201, summary="Transfer to a legal entity's or IE's wallet (§5.4)")
def transfer(request: Request, body: PaymentRequest, key: IdempotencyKey = None,
             principal: Principal = Depends(require_roles(*MOVERS))) -> Response:
    cmd = command(request, principal, key, "transfer.create", body)
    return respond(request, _operations(request).pay(cmd, "transfer", body.payer_wallet_id, body.payee_wallet_id,
                                                     body.amount, body.purpose))


@router.post("/redemptions", status_code=201, summary="Redeem e-money to a bank account (§5.7)")
def redeem(request: Request, body: RedemptionRequest, key: IdempotencyKey = None,
           principal: Principal = Depends(require_roles(*MOVERS))) -> JSONResponse:
    cmd = command(request, principal, key, "redemption.create", body)
    return respond(request, _operations(request).redeem(cmd, body.wallet_id, body.amount,
                                                        body.bank_account.model_dump()))


@router.post("/returns", status_code=201, summary="Return a payment, with its authorization (§5.5)")
def refund(request: Request, body: ReturnRequest, key: IdempotencyKey = None,
           principal: Principal = Depends(require_roles(Role.OPERATOR))) -> JSONResponse:
    cmd = command(request, principal, key, "return.create", body)
    return respond(request, _operations(request).refund(
        cmd, body.original_operation_id, body.case, body.amount, body.authorization.model_dump(), body.grounds,
        body.recipient_order, body.applications.model_dump() if body.applications else None))


# The money operations the money lane serves (api/money_lane.py): all take (request, body, key, principal).
MONEY_OPERATIONS = (issue, pay, transfer, redeem, refund)


async def _at_once(request: Request, body: PaymentRequest, key: str | None, principal: Principal, *,
                   kind: Literal["payment", "transfer"]) -> Response | None:
    pool = request.app.state.money_pool
    if pool is None:
        return None
    cmd = command(request, principal, key, f"{kind}.create", body)
    outcome = await _operations(request).pay_at_once(pool, cmd, kind, body.payer_wallet_id, body.payee_wallet_id,
                                                      body.amount, body.purpose)
    return None if outcome is None else respond(request, outcome)


# What the money lane tries first, on the event loop, for a caller known without a database read; when it
# answers None (no event-loop connection in time, declined: nothing written) the route itself answers.
AT_ONCE = {pay: partial(_at_once, kind="payment"), transfer: partial(_at_once, kind="transfer")}


@router.get("/operations", summary="Operations, newest first (refused ones included)")
def list_operations(request: Request, wallet_id: str | None = None, kind: str | None = None,
                    status: Literal["completed", "refused"] | None = None, before: datetime | None = None,
                    limit: int = Query(50, ge=1, le=500),
                    principal: Principal = Depends(require_roles(*READERS))) -> dict[str, Any]:
    if wallet_id is not None:
        require_uuid(wallet_id, "WALLET_NOT_FOUND")
    with request.app.state.engine.connect() as conn:
        rows = ledger.list_operations(conn, wallet_id=wallet_id, kind=kind, status=status, limit=limit, before=before)
    return {"operations": [operation_view(r) for r in rows]}


@router.get("/operations/{operation_id}", summary="One operation and its ledger entries")
def get_operation(request: Request, operation_id: str,
                  principal: Principal = Depends(require_roles(*READERS, Role.INTEGRATION))) -> dict[str, Any]:
    require_uuid(operation_id, "OPERATION_NOT_FOUND")
    with request.app.state.engine.connect() as conn:
        op = ledger.get_operation(conn, operation_id)
        if op is None:
            raise NotFound("OPERATION_NOT_FOUND", params={"operation_id": operation_id})
        entries = ledger.entries_of_operation(conn, operation_id)
    return {"operation": operation_view(op),
            "entries": [{"account_id": e.account_id, "amount": format_amount(e.amount)} for e in entries]}


@router.get("/operations/{operation_id}/receipt", summary="The receipt of a completed operation (§5.4.12)")
def get_receipt(request: Request, operation_id: str,
                principal: Principal = Depends(require_roles(*READERS, Role.INTEGRATION))) -> dict[str, Any]:
    require_uuid(operation_id, "OPERATION_NOT_FOUND")
    with request.app.state.engine.connect() as conn:
        op = ledger.get_operation(conn, operation_id)
        if op is None or op.status != "completed":
            raise NotFound("RECEIPT_NOT_FOUND", params={"operation_id": operation_id})
        name = iin_bin = None
        holder_account = op.payer_account if op.kind == "redemption" else op.payee_account
        wallet = registry.get_wallet_row(conn, holder_account) if holder_account else None
        if wallet is not None:
            holder = registry.get_participant(conn, wallet.participant_id)
            if holder is not None:
                name, iin_bin = holder.name, holder.iin_bin
    return {"receipt": receipt_view(op, name, iin_bin, request.app.state.business_config)}


@router.get("/ledger/check", summary="Ledger invariants: trial balance zero, wallets equal their entries")
def ledger_check(request: Request, principal: Principal = Depends(require_roles(*READERS))) -> dict[str, Any]:
    with request.app.state.engine.connect() as conn:
        check = ledger.check_ledger(conn)
        system = ledger.system_balances(conn)
    return {"trial_balance": format_amount(check.trial_balance), "entries": check.entries,
            "wallets_checked": check.wallets_checked, "wallet_mismatches": check.wallet_mismatches,
            "unbalanced_operations": check.unbalanced_operations,
            "system_accounts": {k: format_amount(v) for k, v in system.items()},
            "ok": check.trial_balance == 0 and not check.wallet_mismatches and not check.unbalanced_operations}
