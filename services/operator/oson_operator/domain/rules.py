"""The OSON rules that decide whether an operation may run (§5.4.6, §5.6-5.7, §6.1, §6.3, §16.8).

Pure functions over plain values: each refusal is a ``Refusal`` with a stable reason code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from oson_operator.domain.business import BusinessConfig, LimitHolder
from oson_operator.domain.errors import Refusal
from oson_operator.domain.money import format_amount

ParticipantKind = Literal["individual", "legal_entity", "individual_entrepreneur", "partner", "partner_bank",
                          "issuer"]
Identification = Literal["unidentified", "simplified", "identified"]
MINIMUM_AGE = 14  # §2.1: from 14 with a legal representative's consent
ADULT_AGE = 18


@dataclass(frozen=True)
class WalletState:
    """A wallet and its holder, as read (and locked) for an operation."""

    id: str
    balance: int
    status: str
    block_mode: str | None
    blocked_until: datetime | None
    issuer_id: str | None
    holder_id: str
    holder_kind: ParticipantKind
    holder_status: str
    holder_identification: Identification | None
    holder_name: str
    holder_iin_bin: str
    holder_tariff: str | None
    # An AML case in force on the holder (list match §16.2.7, under control §16.3): debits stop, credits pass.
    aml_frozen: bool = False

    def block_in_force(self, now: datetime) -> str | None:
        """The block mode in force now (an AML block ends by itself at ``blocked_until``)."""
        if self.status != "blocked":
            return None
        if self.blocked_until is not None and self.blocked_until <= now:
            return None
        return self.block_mode or "full"


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def check_registration_age(birth: date, today: date, representative_consent: bool) -> None:
    age = age_on(birth, today)
    if age < MINIMUM_AGE:
        raise Refusal("CLIENT_TOO_YOUNG", params={"age": MINIMUM_AGE})
    if age < ADULT_AGE and not representative_consent:
        raise Refusal("REPRESENTATIVE_CONSENT_REQUIRED")


def limit_holder(wallet: WalletState) -> LimitHolder | None:
    """Which §6.1 limits apply to the wallet's holder (partners and banks: only the operator's maximum)."""
    if wallet.holder_kind == "individual":
        return wallet.holder_identification
    if wallet.holder_kind in ("legal_entity", "individual_entrepreneur"):
        return wallet.holder_kind
    return None


def check_can_debit(wallet: WalletState, now: datetime) -> None:
    if wallet.holder_status != "active":
        raise Refusal("PARTICIPANT_NOT_ACTIVE", params={"status": wallet.holder_status})
    if wallet.aml_frozen:
        raise Refusal("WALLET_FROZEN_AML")
    if wallet.block_in_force(now) is not None:
        raise Refusal("WALLET_BLOCKED")


def check_can_credit(wallet: WalletState, now: datetime) -> None:
    # A debit-only block (AML freeze, §16.2.7) still lets incoming credits through.
    if wallet.block_in_force(now) == "full":
        raise Refusal("RECIPIENT_WALLET_BLOCKED")


def check_debit_limits(wallet: WalletState, amount: int, total: int, debited_today: int, day: date,
                       config: BusinessConfig) -> None:
    """``amount`` is the operation amount, ``total`` what leaves the wallet (amount + commission)."""
    if amount > config.operator_max_tiyn():
        raise Refusal("OPERATOR_MAXIMUM_EXCEEDED", params={"maximum": format_amount(config.operator_max_tiyn())})
    holder = limit_holder(wallet)
    if holder is not None:
        limits = config.limits[holder]
        if limits.per_operation is not None and amount > config.mci_tiyn(limits.per_operation, day):
            raise Refusal("LIMIT_PER_OPERATION", params={
                "mci": limits.per_operation, "limit": format_amount(config.mci_tiyn(limits.per_operation, day))})
        if limits.per_day is not None and debited_today + amount > config.mci_tiyn(limits.per_day, day):
            raise Refusal("LIMIT_PER_DAY", params={
                "mci": limits.per_day, "limit": format_amount(config.mci_tiyn(limits.per_day, day)),
                "used": format_amount(debited_today)})
    if total > wallet.balance:
        raise Refusal("INSUFFICIENT_FUNDS", params={"balance": format_amount(wallet.balance),
                                                    "needed": format_amount(total)})


def check_balance_limit(wallet: WalletState, credit: int, day: date, config: BusinessConfig) -> None:
    holder = limit_holder(wallet)
    if holder is None:
        return
    limit = config.limits[holder].balance
    if limit is not None and wallet.balance + credit > config.mci_tiyn(limit, day):
        raise Refusal("LIMIT_BALANCE", params={"mci": limit, "limit": format_amount(config.mci_tiyn(limit, day))})


@dataclass(frozen=True)
class DebitBounds:
    """What a debit decided on unlocked wallet values needs to still be true once the wallets are locked.

    The same conditions as ``check_debit_limits`` and ``check_balance_limit``, solved for the values
    other operations can move meanwhile (None: no limit applies).
    """

    payer_min_balance: int
    payer_max_debited_today: int | None
    payee_max_balance: int | None


def debit_bounds(payer: WalletState, payee: WalletState, amount: int, total: int, day: date,
                 config: BusinessConfig) -> DebitBounds:
    """Bounds for moving ``amount`` (``total`` with the commission) from ``payer`` to ``payee``."""
    payer_holder, payee_holder = limit_holder(payer), limit_holder(payee)
    per_day = config.limits[payer_holder].per_day if payer_holder is not None else None
    balance = config.limits[payee_holder].balance if payee_holder is not None else None
    max_debited = config.mci_tiyn(per_day, day) - amount if per_day is not None else None
    max_balance = config.mci_tiyn(balance, day) - amount if balance is not None else None
    return DebitBounds(total, max_debited, max_balance)


def check_same_issuer(payer: WalletState, payee: WalletState) -> None:
    if payer.id == payee.id:
        raise Refusal("SAME_WALLET")
    if payer.issuer_id != payee.issuer_id:
        raise Refusal("ISSUER_MISMATCH")
