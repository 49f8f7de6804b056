"""Money operations (§5.2, §5.4-5.7): issuance, payment, transfer, return, redemption, and quotes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Connection, Engine

from oson_operator.domain import postings, rules
from oson_operator.domain.business import BusinessConfig
from oson_operator.domain.calendar import ALMATY, operational_day
from oson_operator.domain.clock import Clock
from oson_operator.domain.errors import NotFound, Refusal, error_body
from oson_operator.domain.money import format_amount
from oson_operator.service.transaction import (
    AsyncWrite,
    Command,
    Decide,
    Outcome,
    Write,
    event_of,
    execute,
    execute_at_once,
    execute_at_once_async,
)
from oson_operator.storage import ledger, transfer
from oson_operator.storage.ledger import COMMISSION_ACCOUNT, SPECIALIZED_ACCOUNT, OperationRow
from oson_operator.storage.money_pool import MoneyConnection, MoneyPool

OperationKind = Literal["issuance", "payment", "transfer", "return", "redemption"]
ReturnCase = Literal["wrong_execution", "technical_failure", "consumer_protection", "cancelled_sale",
                     "wrong_recipient", "unauthorized_use"]
# §5.5.4, §5.5.5: these returns need the issuer's permission.
ISSUER_PERMISSION_CASES = {"cancelled_sale", "unauthorized_use"}
DEBIT_KINDS = {"payment", "transfer", "redemption"}


@dataclass(frozen=True)
class Quote:
    kind: str
    amount: int
    commission: int
    tariff: str
    tariff_title: str

    @property
    def total(self) -> int:
        return self.amount + self.commission if self.kind != "issuance" else self.amount

    def as_dict(self) -> dict[str, Any]:
        credited = self.amount - self.commission if self.kind == "issuance" else self.amount
        return {"kind": self.kind, "amount": format_amount(self.amount),
                "commission": format_amount(self.commission), "total_debited": format_amount(self.total),
                "credited": format_amount(credited), "tariff": self.tariff, "tariff_title": self.tariff_title}


def operation_view(op: OperationRow) -> dict[str, Any]:
    return {
        "id": op.id, "kind": op.kind, "status": op.status, "reason_code": op.reason_code,
        "amount": format_amount(op.amount), "commission": format_amount(op.commission),
        "payer_wallet_id": op.payer_account if op.payer_account != SPECIALIZED_ACCOUNT else None,
        "payee_wallet_id": op.payee_account, "original_operation_id": op.original_operation,
        "receipt_number": op.receipt_number, "created_at": op.created_at.isoformat(),
        "operational_day": op.operational_day.isoformat(), "actor": op.actor, "details": op.details,
    }


def receipt_view(op: OperationRow, payee_name: str | None, payee_iin_bin: str | None,
                 config: BusinessConfig) -> dict[str, Any]:
    """The receipt of §5.4.12 with its seven required fields (plus the commission, §8.7)."""
    return {
        "receipt_number": op.receipt_number,  # 3. sequence number
        "amount": format_amount(op.amount),  # 1. amount
        "commission": format_amount(op.commission),
        "date_time": op.created_at.astimezone(ALMATY).isoformat(),  # 2. date and time (Almaty)
        "payee": {"name": payee_name, "iin_bin": payee_iin_bin},  # 4. IE / legal entity name and IIN/BIN
        "operation_id": op.id,  # 5. transaction id
        "payer_wallet_id": op.payer_account,  # 6. payer's wallet id
        "operator": {"name": config.operator.name, "bin": config.operator.bin,
                     "phones": list(config.operator.phones)},  # 7. the operator's phone numbers
    }


class Operations:
    """Executes money operations; each public method is one idempotent, recorded transaction."""

    def __init__(self, engine: Engine, config: BusinessConfig, clock: Clock) -> None:
        self.engine = engine
        self.config = config
        self.clock = clock

    # -- quotes (§8.7) -----------------------------------------------------------------------------------
    def quote(self, kind: str, amount: int, payee_wallet_id: str | None) -> Quote:
        tariff_code = {"issuance": "issuance", "transfer": "wallet_transfer", "redemption": "redemption"}.get(kind)
        if kind == "payment":
            if not payee_wallet_id:
                raise Refusal("PAYEE_REQUIRED")
            with self.engine.connect() as conn:
                payee = ledger.get_wallet(conn, payee_wallet_id)
            if payee is None:
                raise NotFound("WALLET_NOT_FOUND", params={"wallet_id": payee_wallet_id})
            if payee.holder_kind != "partner" or not payee.holder_tariff:
                raise Refusal("PAYEE_NOT_PARTNER")
            tariff_code = payee.holder_tariff
        if tariff_code is None:
            raise Refusal("KIND_NOT_QUOTABLE")
        tariff = self.config.tariff(tariff_code)
        return Quote(kind, amount, tariff.commission(amount), tariff_code, tariff.title)

    # -- helpers -----------------------------------------------------------------------------------------
    def _completed(self, command: Command, op: OperationRow, payee: rules.WalletState | None,
                   payee_name: str | None = None, payee_iin_bin: str | None = None) -> Outcome:
        body = {
            "operation": operation_view(op),
            "receipt": receipt_view(op, payee_name or (payee.holder_name if payee else None),
                                    payee_iin_bin or (payee.holder_iin_bin if payee else None), self.config),
        }
        return Outcome(201, body, "operation", op.id, "ok")

    def _on_refusal(self, command: Command, kind: str, amount: int, payer: str | None, payee: str | None,
                    original: str | None = None) -> Any:
        def record(conn: Connection, refusal: Refusal) -> Outcome:
            now = self.clock.now()
            op = ledger.record_refusal(
                conn, operation_id=str(uuid.uuid4()), kind=kind, reason_code=refusal.code, amount=amount,
                payer=payer, payee=payee, original=original,
                details={"request": command.request, "params": {k: str(v) for k, v in refusal.params.items()}},
                actor=command.principal.actor, request_id=command.context.request_id, now=now,
                day=operational_day(now))
            body = {**error_body(refusal.code, command.context.language, command.context.request_id,
                                 refusal.params, refusal.problems), "operation": operation_view(op)}
            return Outcome(refusal.status, body, "operation", op.id, f"refused:{refusal.code}")
        return record

    def _lock(self, conn: Connection, *wallet_ids: str) -> dict[str, rules.WalletState]:
        wallets = ledger.lock_wallets(conn, wallet_ids)
        for wallet_id in wallet_ids:
            if wallet_id not in wallets:
                raise Refusal("WALLET_NOT_FOUND", params={"wallet_id": wallet_id})
        return wallets

    # -- issuance (§5.2) ---------------------------------------------------------------------------------
    def issue(self, command: Command, wallet_id: str, received: int, money_reference: str) -> Outcome:
        def work(conn: Connection) -> Outcome:
            now = self.clock.now()
            day = operational_day(now)
            wallet = self._lock(conn, wallet_id)[wallet_id]
            rules.check_can_credit(wallet, now)
            commission = self.config.tariff("issuance").commission(received)
            if commission >= received:
                raise Refusal("AMOUNT_BELOW_COMMISSION")
            rules.check_balance_limit(wallet, received - commission, day, self.config)
            op = ledger.record_operation(
                conn, operation_id=str(uuid.uuid4()), kind="issuance", amount=received, commission=commission,
                payer=SPECIALIZED_ACCOUNT, payee=wallet_id, original=None,
                details={"money_reference": money_reference, "issuer_id": wallet.issuer_id},
                actor=command.principal.actor, request_id=command.context.request_id, now=now, day=day,
                postings=postings.issuance(wallet_id, SPECIALIZED_ACCOUNT, COMMISSION_ACCOUNT, received, commission))
            return self._completed(command, op, wallet)
        return execute(self.engine, command, work,
                       self._on_refusal(command, "issuance", received, None, wallet_id))

    # -- payment to a partner (§5.4) and transfer to a legal entity / IE --------------------------------
    def pay(self, command: Command, kind: Literal["payment", "transfer"], payer_id: str, payee_id: str,
            amount: int, purpose: str) -> Outcome:
        fast = execute_at_once(self.engine, command, self.decide_pay(command, kind, payer_id, payee_id, amount,
                                                                     purpose))
        if fast is not None:
            return fast

        def work(conn: Connection) -> Outcome:
            now = self.clock.now()
            day = operational_day(now)
            wallets = self._lock(conn, payer_id, payee_id)
            payer, payee = wallets[payer_id], wallets[payee_id]
            commission, tariff_title = self._check_pay(kind, payer, payee, amount, now, day,
                                                       lambda: ledger.debited_today(conn, payer_id, day))
            op = ledger.record_operation(
                conn, operation_id=str(uuid.uuid4()), kind=kind, amount=amount, commission=commission,
                payer=payer_id, payee=payee_id, original=None, details={"purpose": purpose, "tariff": tariff_title},
                actor=command.principal.actor, request_id=command.context.request_id, now=now, day=day,
                postings=postings.payment(payer_id, payee_id, COMMISSION_ACCOUNT, amount, commission))
            return self._completed(command, op, payee)
        return execute(self.engine, command, work, self._on_refusal(command, kind, amount, payer_id, payee_id))

    def _check_pay(self, kind: str, payer: rules.WalletState, payee: rules.WalletState, amount: int,
                   now: datetime, day: date, debited_today: Callable[[], int]) -> tuple[int, str]:
        """The rules of a payment or transfer; returns the commission and the tariff's title."""
        rules.check_same_issuer(payer, payee)
        if kind == "payment" and (payee.holder_kind != "partner" or not payee.holder_tariff):
            raise Refusal("PAYEE_NOT_PARTNER")
        if kind == "transfer" and payee.holder_kind not in ("legal_entity", "individual_entrepreneur"):
            raise Refusal("TRANSFER_RECIPIENT_KIND")
        if payee.holder_status != "active":
            raise Refusal("RECIPIENT_NOT_ACTIVE")
        rules.check_can_debit(payer, now)
        rules.check_can_credit(payee, now)
        tariff = self.config.tariff(payee.holder_tariff if kind == "payment" else "wallet_transfer")  # type: ignore[arg-type]
        commission = tariff.commission(amount)
        rules.check_debit_limits(payer, amount, amount + commission, debited_today(), day, self.config)
        rules.check_balance_limit(payee, amount, day, self.config)
        return commission, tariff.title

    def decide_pay(self, command: Command, kind: str, payer_id: str, payee_id: str, amount: int,
                    purpose: str) -> Decide:
        """The one-statement payment: decided on unlocked wallets, posted only if that decision still stands.

        Any refusal, or anything unusual, declines: the full transaction then decides under locks and
        records the refusal, so answers are the same either way.
        """
        def decide(conn: Connection) -> Write | None:
            now = self.clock.now()
            day = operational_day(now)
            planned = self._plan_pay(command, kind, amount, purpose, now, day,
                                     transfer.read_transfer(conn, payer_id, payee_id, day))
            if planned is None:
                return None
            write, finish = planned
            return lambda conn: finish(transfer.post_transfer(conn, write))
        return decide

    async def pay_at_once(self, pool: MoneyPool, command: Command, kind: Literal["payment", "transfer"],
                          payer_id: str, payee_id: str, amount: int, purpose: str) -> Outcome | None:
        """``pay``'s one-statement path on the event loop's connections (``decide_pay``, awaited). None when
        it does not apply (no connection in time, declined, nothing written): then ``pay`` answers."""
        async def decide(conn: MoneyConnection) -> AsyncWrite | None:
            now = self.clock.now()
            day = operational_day(now)
            planned = self._plan_pay(command, kind, amount, purpose, now, day,
                                     await transfer.read_transfer_async(conn, payer_id, payee_id, day))
            if planned is None:
                return None
            write, finish = planned

            async def post(conn: MoneyConnection) -> Outcome:
                return finish(await transfer.post_transfer_async(conn, write))
            return post
        return await execute_at_once_async(pool, command, decide)

    def _plan_pay(self, command: Command, kind: str, amount: int, purpose: str, now: datetime, day: date,
                  snapshot: transfer.Snapshot | None) -> tuple[transfer.TransferWrite, Callable[[int], Outcome]] | None:
        """The write that posts the payment if ``snapshot`` still stands, and how its answer is made from the
        receipt number; None when the wallets are missing or the rules refuse (the full path answers)."""
        if snapshot is None:
            return None
        payer, payee = snapshot.payer, snapshot.payee
        try:
            commission, tariff_title = self._check_pay(kind, payer, payee, amount, now, day,
                                                       lambda: snapshot.debited_today)
        except Refusal:
            return None
        bounds = rules.debit_bounds(payer, payee, amount, amount + commission, day, self.config)
        marker = transfer.receipt_marker()
        op = OperationRow(
            id=str(uuid.uuid4()), kind=kind, status="completed", reason_code=None, amount=amount,
            commission=commission, payer_account=payer.id, payee_account=payee.id, original_operation=None,
            receipt_number=marker, details=transfer.jsonb_order({"purpose": purpose, "tariff": tariff_title}),
            actor=command.principal.actor, request_id=command.context.request_id, created_at=now,
            operational_day=day)
        planned = self._completed(command, op, payee)
        write = transfer.TransferWrite(
            snapshot=snapshot, bounds=bounds, key=(command.principal.actor, command.idempotency_key,
                                                   command.request_hash),
            operation_id=op.id, kind=kind, amount=amount, commission=commission, details=op.details,
            request_id=op.request_id, now=now, day=day,
            postings=postings.payment(payer.id, payee.id, COMMISSION_ACCOUNT, amount, commission),
            event=event_of(command, planned), status=planned.status, answer=planned.body, marker=marker)

        def finish(receipt: int) -> Outcome:
            # The planned answer with the receipt number in its two places (what _completed would build
            # for the stored row; a test compares the two), and its JSON as sent to the database.
            body = planned.body
            return replace(planned, rendered=write.rendered(receipt), body={
                **body, "operation": {**body["operation"], "receipt_number": receipt},
                "receipt": {**body["receipt"], "receipt_number": receipt}})
        return write, finish

    # -- redemption to a bank account (§5.7) -------------------------------------------------------------
    def redeem(self, command: Command, wallet_id: str, amount: int, bank_account: dict[str, str]) -> Outcome:
        def work(conn: Connection) -> Outcome:
            now = self.clock.now()
            day = operational_day(now)
            wallet = self._lock(conn, wallet_id)[wallet_id]
            if wallet.holder_kind == "individual" and wallet.holder_identification == "unidentified":
                raise Refusal("REDEMPTION_UNIDENTIFIED")
            rules.check_can_debit(wallet, now)
            commission = self.config.tariff("redemption").commission(amount)
            rules.check_debit_limits(wallet, amount, amount + commission,
                                     ledger.debited_today(conn, wallet_id, day), day, self.config)
            op = ledger.record_operation(
                conn, operation_id=str(uuid.uuid4()), kind="redemption", amount=amount, commission=commission,
                payer=wallet_id, payee=SPECIALIZED_ACCOUNT, original=None, details={"bank_account": bank_account},
                actor=command.principal.actor, request_id=command.context.request_id, now=now, day=day,
                postings=postings.redemption(wallet_id, SPECIALIZED_ACCOUNT, COMMISSION_ACCOUNT, amount, commission))
            return self._completed(command, op, None, wallet.holder_name, wallet.holder_iin_bin)
        return execute(self.engine, command, work,
                       self._on_refusal(command, "redemption", amount, wallet_id, None))

    # -- returns (§5.5) ----------------------------------------------------------------------------------
    def refund(self, command: Command, original_id: str, case: ReturnCase, amount: int | None,
               authorization: dict[str, str], grounds: str, recipient_order: str | None,
               applications: dict[str, str] | None) -> Outcome:
        def work(conn: Connection) -> Outcome:
            now = self.clock.now()
            day = operational_day(now)
            original = ledger.lock_operation(conn, original_id)
            if original is None:
                raise Refusal("OPERATION_NOT_FOUND", params={"operation_id": original_id})
            if original.kind not in ("payment", "transfer") or original.status != "completed":
                raise Refusal("RETURN_NOT_ALLOWED_FOR_KIND", params={"kind": original.kind})
            if case in ISSUER_PERMISSION_CASES and authorization.get("authorized_by") != "issuer":
                raise Refusal("RETURN_ISSUER_PERMISSION_REQUIRED")
            if case == "wrong_recipient" and not recipient_order:
                raise Refusal("RETURN_RECIPIENT_ORDER_REQUIRED")
            if case == "cancelled_sale" and not (applications and applications.get("client")
                                                 and applications.get("partner")):
                raise Refusal("RETURN_APPLICATIONS_REQUIRED")
            remaining = original.amount - ledger.returned_so_far(conn, original_id)
            to_return = remaining if amount is None else amount
            if to_return <= 0 or to_return > remaining:
                raise Refusal("RETURN_EXCEEDS_ORIGINAL", params={"remaining": format_amount(remaining)})
            # §5.5.2 case 2: a failure or the operator's error returns the full amount, commission included.
            commission_refund = 0
            if case == "technical_failure":
                if to_return != original.amount:
                    raise Refusal("RETURN_MUST_BE_FULL")
                commission_refund = original.commission
            payee_id, payer_id = original.payee_account, original.payer_account
            assert payee_id is not None and payer_id is not None
            wallets = self._lock(conn, payee_id, payer_id)
            payee, payer = wallets[payee_id], wallets[payer_id]
            if payee.aml_frozen:
                raise Refusal("WALLET_FROZEN_AML")
            if payee.block_in_force(now) is not None:
                raise Refusal("WALLET_BLOCKED")
            rules.check_can_credit(payer, now)
            if payee.balance < to_return:
                code = "RETURN_FUNDS_MOVED" if case == "cancelled_sale" else "INSUFFICIENT_FUNDS"
                raise Refusal(code, params={"balance": format_amount(payee.balance),
                                            "needed": format_amount(to_return)})
            op = ledger.record_operation(
                conn, operation_id=str(uuid.uuid4()), kind="return", amount=to_return, commission=commission_refund,
                payer=payee_id, payee=payer_id, original=original_id,
                details={"case": case, "authorization": authorization, "grounds": grounds,
                         "recipient_order": recipient_order, "applications": applications},
                actor=command.principal.actor, request_id=command.context.request_id, now=now, day=day,
                postings=postings.refund(payee_id, payer_id, COMMISSION_ACCOUNT, to_return, commission_refund))
            return self._completed(command, op, payer)
        return execute(self.engine, command, work,
                       self._on_refusal(command, "return", amount or 0, None, None, original_id))
