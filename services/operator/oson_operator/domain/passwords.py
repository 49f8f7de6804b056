"""Staff password policy (seed 003 §3.5.1, seeds 000-001 p.54): pure rules, no SQL, no HTTP.

- at least 8 characters, from at least 3 of the 4 classes (upper, lower, digit, symbol);
- must not contain the login (case-insensitive);
- none of the last ``password_history`` passwords may be reused;
- a password is good for ``password_max_age_days``; a warning is shown ``password_warn_days`` before;
- a change is forced at first login, after an administrator's reset and when the password expired.

Hashes are argon2id (argon2-cffi). The hasher is module state so that tests can swap in a cheaper one
(``use_hasher``); a hash records its own parameters, so hashes made by either hasher verify with both.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 8
MIN_CLASSES = 3

PASSWORD_TOO_SHORT = "PASSWORD_TOO_SHORT"
PASSWORD_CLASSES = "PASSWORD_CLASSES"
PASSWORD_CONTAINS_LOGIN = "PASSWORD_CONTAINS_LOGIN"
PASSWORD_REUSED = "PASSWORD_REUSED"

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile (64 MiB, t=3, p=4)
# Verified against when the login is unknown, so that the answer takes as long as for a known login.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def use_hasher(hasher: PasswordHasher) -> None:
    """Replace the hasher (tests use a cheaper one; production keeps the defaults)."""
    global _hasher, _DUMMY_HASH
    _hasher = hasher
    _DUMMY_HASH = hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing hash costs as much as a real check and fails."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def character_classes(password: str) -> int:
    """How many of upper case, lower case, digits and symbols (anything else) the password uses."""
    upper = any(ch.isupper() for ch in password)
    lower = any(ch.islower() for ch in password)
    digit = any(ch.isdigit() for ch in password)
    symbol = any(not (ch.isupper() or ch.islower() or ch.isdigit()) for ch in password)
    return upper + lower + digit + symbol


def policy_violations(password: str, login: str, previous_hashes: Iterable[str] = ()) -> list[str]:
    """Every rule the new password breaks (codes, in a fixed order); empty when it is acceptable.

    ``previous_hashes`` are the current password's hash and the history the caller keeps (the newest
    ``password_history`` entries); a match against any of them is ``PASSWORD_REUSED``.
    """
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(PASSWORD_TOO_SHORT)
    if character_classes(password) < MIN_CLASSES:
        problems.append(PASSWORD_CLASSES)
    if login and login.casefold() in password.casefold():
        problems.append(PASSWORD_CONTAINS_LOGIN)
    if any(verify_password(stored, password) for stored in previous_hashes):
        problems.append(PASSWORD_REUSED)
    return problems


@dataclass(frozen=True)
class PasswordStatus:
    """Where a staff password stands at a given moment."""

    expires_at: datetime
    expires_in_days: int  # whole days left, 0 once expired
    expired: bool
    warning: bool  # within the warning period before expiry (and not yet expired)
    must_change: bool  # forced: first login, administrator reset, or expired


def password_status(
    changed_at: datetime,
    now: datetime,
    *,
    forced: bool,
    max_age_days: int,
    warn_days: int,
) -> PasswordStatus:
    """Expiry, warning and forced change for a password set at ``changed_at``."""
    expires_at = changed_at + timedelta(days=max_age_days)
    left = expires_at - now
    expired = left <= timedelta(0)
    return PasswordStatus(
        expires_at=expires_at,
        expires_in_days=0 if expired else left.days,
        expired=expired,
        warning=not expired and left <= timedelta(days=warn_days),
        must_change=forced or expired,
    )


# Temporary passwords: four groups of four from an alphabet without look-alikes (0/O, 1/l/I), which
# always hold upper and lower case letters and digits, joined by '-' (so all four classes are there).
_UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_LOWER = "abcdefghijkmnopqrstuvwxyz"
_DIGITS = "23456789"
_ALPHABET = _UPPER + _LOWER + _DIGITS


def temporary_password(login: str = "") -> str:
    """A random one-time password (about 90 bits) that satisfies the policy for ``login``."""
    while True:
        chars = "".join(secrets.choice(_ALPHABET) for _ in range(16))
        password = "-".join(chars[i : i + 4] for i in range(0, 16, 4))
        if not policy_violations(password, login):
            return password


# High-entropy secrets (session tokens, API client secrets): 32 random bytes, stored as SHA-256 only.
# A fast hash is right here: guessing 256 random bits is hopeless, and argon2 on every API request
# would cost tens of milliseconds.


def new_token() -> str:
    """32 random bytes, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What is stored for a token or secret: SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
