"""Money in tiyn (1 KZT = 100 tiyn) as integers; amounts cross the API as decimal strings."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

TIYN_PER_TENGE = 100
# Far above any legitimate amount (one trillion tenge) and far below bigint overflow.
MAX_AMOUNT_TIYN = 10**12 * TIYN_PER_TENGE


def parse_amount(value: object) -> int:
    """A positive amount in tenge with at most two decimals -> tiyn. Raises ValueError with the reason."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError("must be a number of tenge, e.g. \"1500.00\"")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError("must be a number of tenge, e.g. \"1500.00\"") from None
    if not amount.is_finite():
        raise ValueError("must be a finite number")
    if amount <= 0:
        raise ValueError("must be greater than zero")
    tiyn = amount * TIYN_PER_TENGE
    if tiyn != tiyn.to_integral_value():
        raise ValueError("at most two decimal places (tiyn)")
    if tiyn > MAX_AMOUNT_TIYN:
        raise ValueError("is larger than any amount the system accepts")
    return int(tiyn)


def format_amount(tiyn: int) -> str:
    """Tiyn -> "1500.00"."""
    sign = "-" if tiyn < 0 else ""
    whole, cents = divmod(abs(tiyn), TIYN_PER_TENGE)
    return f"{sign}{whole}.{cents:02d}"


def percent_of(tiyn: int, percent: Decimal) -> int:
    """``percent`` % of an amount, rounded half up to the tiyn."""
    return int((Decimal(tiyn) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
