"""Double-entry postings of each operation kind. Every list sums to zero (checked here and by the database).

Sign convention: an entry is the change of the account's balance as the holder sees it. E-money
wallets and commission income grow with positive entries; the specialized account (money held at
the partner bank against issued e-money) mirrors the e-money outstanding with the opposite sign, so
the trial balance (the sum of every entry) is always zero.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Posting:
    account_id: str
    amount: int  # tiyn, signed, never zero


def _balanced(postings: list[Posting]) -> list[Posting]:
    kept = [p for p in postings if p.amount != 0]
    if sum(p.amount for p in kept) != 0:
        raise AssertionError(f"postings do not balance: {kept}")
    return kept


def issuance(wallet: str, specialized: str, commission_account: str, received: int, commission: int) -> list[Posting]:
    """Money received at the specialized account becomes e-money, less the issuance commission (§5.2)."""
    return _balanced([
        Posting(specialized, -received),
        Posting(wallet, received - commission),
        Posting(commission_account, commission),
    ])


def payment(payer: str, payee: str, commission_account: str, amount: int, commission: int) -> list[Posting]:
    """A payment or transfer: the client pays amount + commission (§8.4), the payee gets the amount."""
    return _balanced([
        Posting(payer, -(amount + commission)),
        Posting(payee, amount),
        Posting(commission_account, commission),
    ])


def redemption(wallet: str, specialized: str, commission_account: str, amount: int, commission: int) -> list[Posting]:
    """E-money leaves the system to a bank account (§5.7): the specialized account pays it out."""
    return _balanced([
        Posting(wallet, -(amount + commission)),
        Posting(specialized, amount),
        Posting(commission_account, commission),
    ])


def refund(payee: str, payer: str, commission_account: str, amount: int, commission_refund: int) -> list[Posting]:
    """A return (§5.5): the payee gives the amount back; a refunded commission comes out of income."""
    return _balanced([
        Posting(payee, -amount),
        Posting(payer, amount + commission_refund),
        Posting(commission_account, -commission_refund),
    ])
